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
    keepKernel: jest.fn(),
    restartRefusal: jest.fn().mockResolvedValue(null),
    dashboard: jest.fn(),
    exportTable: jest.fn(),
    patchGrant: jest.fn(),
    createGrant: jest.fn(),
    setBudget: jest.fn(),
    editStops: jest.fn().mockResolvedValue({
      grant_id: 'nsf-1',
      budget: '5000.00',
      hard_stop: true,
      spent: '12.345678',
      currency: 'USD',
      kernels: []
    }),
    setMember: jest.fn(),
    removeMember: jest.fn()
  };
}

/**
 * A dashboard answer shaped like GET /grants/{id}/dashboard: two users, two
 * paid tiers, three months; every total is the exact sum of its parts.
 */
export function makeDashboard(
  overrides: Partial<ComputePanelAPI.IDashboard> = {}
): ComputePanelAPI.IDashboard {
  return {
    grant: makeGrant('nsf-1', {
      role: 'pi',
      pi: 'student',
      spent: '41.343612',
      members: [
        { user: 'ravi', role: 'member' },
        { user: 'student', role: 'pi' }
      ],
      allowed_tiers: null,
      alert_thresholds: [50, 80, 100],
      hard_stop: true,
      min_runtime_minutes: 15,
      sensitive: false
    }),
    may_edit: true,
    server_time: '2026-03-20T12:00:00.000Z',
    summary: {
      currency: 'USD',
      budget: '5000.00',
      spent: '41.343612',
      committed: '0.50',
      remaining: '4958.656388',
      spent_7d: '3.60',
      spent_30d: '20.013889',
      burn_7d_per_day: '0.514286',
      burn_30d_per_day: '0.667130',
      forecast_exhaustion: '2046-09-12',
      end_date: '2027-12-31',
      exhausts_before_end: false,
      open_runs: 1
    },
    tiers: [
      { id: 'local', label: 'Local CPU' },
      { id: 'rtx4090', label: 'RTX 4090 prototyping' },
      { id: 'h200', label: 'H200 training' }
    ],
    by_tier: [
      { key: 'h200', label: 'H200 training', amount: '36.013889' },
      { key: 'rtx4090', label: 'RTX 4090 prototyping', amount: '5.329723' }
    ],
    by_user: [
      { key: 'student', label: 'student', amount: '28.10' },
      { key: 'ravi', label: 'ravi', amount: '13.243612' }
    ],
    by_notebook: [
      { key: 'train.ipynb', label: 'train.ipynb', amount: '30.013889' },
      { key: 'eval.ipynb', label: 'eval.ipynb', amount: '11.00' },
      { key: null, label: '(no notebook)', amount: '0.329723' }
    ],
    by_month: [
      {
        month: '2026-01',
        by_tier: { h200: '14.40', rtx4090: '1.00' },
        total: '15.40'
      },
      { month: '2026-02', by_tier: {}, total: '0.00' },
      {
        month: '2026-03',
        by_tier: { h200: '21.613889', rtx4090: '4.329723' },
        total: '25.943612'
      }
    ],
    burn_down: [
      { day: '2026-01-01', spent: '0.00', remaining: '5000.00' },
      { day: '2026-01-15', spent: '15.40', remaining: '4984.60' },
      { day: '2026-03-20', spent: '41.343612', remaining: '4958.656388' }
    ],
    ...overrides
  };
}
