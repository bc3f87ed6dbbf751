import { ComputePanelAPI, IComputePanelClient } from '../api';

/**
 * Wire fixtures shaped like the server's answers (openapi.yaml).
 */
export function makeTier(
  id: string,
  overrides: Partial<ComputePanelAPI.ITier> = {}
): ComputePanelAPI.ITier {
  return {
    id,
    label: id,
    hardware: { gpu: null, cpu_cores: 4, memory_gb: 16 },
    price: { per_hour: '0.00', currency: 'USD' },
    free: true,
    reliability: 'local',
    simulated: false,
    sensitive_data_allowed: true,
    idle_timeout_s: null,
    backend: { provisioner: 'local-provisioner' },
    kernelspecs: { python3: `compute-panel-${id}-python3` },
    running: 0,
    ...overrides
  };
}

export const TIERS: ComputePanelAPI.ITier[] = [
  makeTier('local', { label: 'Local CPU' }),
  makeTier('rtx4090', {
    label: 'RTX 4090 prototyping',
    hardware: {
      gpu: { model: 'NVIDIA GeForce RTX 4090', count: 1, memory_gb: 24 },
      cpu_cores: 16
    },
    price: { per_hour: '0.50', currency: 'USD' },
    free: false,
    reliability: 'community',
    simulated: true,
    running: 2,
    kernelspecs: {
      python3: 'compute-panel-rtx4090-python3',
      ir: 'compute-panel-rtx4090-ir'
    }
  }),
  makeTier('h200', {
    label: 'H200 training',
    hardware: {
      gpu: { model: 'NVIDIA H200', count: 1, memory_gb: 141 },
      cpu_cores: 16
    },
    price: { per_hour: '3.60', currency: 'USD' },
    free: false,
    reliability: 'datacenter',
    simulated: true,
    running: 1
  })
];

export function makeGrant(
  id: string,
  overrides: Partial<ComputePanelAPI.IGrant> = {}
): ComputePanelAPI.IGrant {
  return {
    id,
    award_number: `AWD ${id}`,
    title: `Grant ${id}`,
    funder: 'NSF',
    pi: 'pi',
    budget: '5000.00',
    currency: 'USD',
    start_date: '2026-01-01',
    end_date: '2027-12-31',
    active: true,
    spent: '12.345678',
    ...overrides
  };
}

export function makeRun(
  overrides: Partial<ComputePanelAPI.IRun> = {}
): ComputePanelAPI.IRun {
  return {
    id: 'run-1',
    kernel_id: 'k1',
    kernelspec: 'compute-panel-h200-python3',
    tier_id: 'h200',
    tier_label: 'H200 training',
    grant_id: 'nsf-1',
    user: 'alice',
    notebook: 'a.ipynb',
    rate: { amount: '3.60', currency: 'USD' },
    started: '2026-01-01T00:00:00Z',
    last_heartbeat: '2026-01-01T00:00:10Z',
    ended: null,
    end_reason: null,
    duration_s: 10,
    cost: { amount: '0.010000', currency: 'USD' },
    status: 'open',
    ...overrides
  };
}

/**
 * A fake client: every method is a jest mock with a sensible answer.
 */
export function makeFakeClient(): jest.Mocked<IComputePanelClient> {
  return {
    version: jest.fn().mockResolvedValue({ version: '0.1.0', api: 1 }),
    tiers: jest.fn().mockResolvedValue(TIERS),
    grants: jest
      .fn()
      .mockResolvedValue([
        makeGrant('nsf-1'),
        makeGrant('old', { active: false })
      ]),
    grant: jest.fn(),
    getBinding: jest
      .fn()
      .mockResolvedValue({ path: 'a.ipynb', grant_id: null, tier_id: null }),
    putBinding: jest.fn(),
    runs: jest.fn(),
    run: jest.fn(),
    kernelRun: jest.fn().mockResolvedValue(makeRun()),
    keepKernel: jest.fn()
  };
}
