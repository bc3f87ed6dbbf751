/**
 * Run history fixtures: a captured environment, a client paging 250 runs,
 * and models over it that are disposed after each test.
 */
import { ComputePanelAPI } from '../api';
import { RunHistoryModel } from '../history/model';
import { makeRun } from './fixtures';

/**
 * A fingerprint shaped like the server's (metering/environment/parse.py `assemble`).
 */
export function makeEnvironment(
  runId: string,
  overrides: Record<string, unknown> = {}
): ComputePanelAPI.IEnvironment {
  return {
    run_id: runId,
    captured_at: '2026-03-01T14:05:09Z',
    status: 'complete',
    error: null,
    packages_hash:
      'sha256:baf5ad2f873544725744865a97395bd610c0c01f6fc3c8b2a968a9d076d609ec',
    fingerprint: {
      schema: 1,
      tier: { id: 'h200', label: 'H200 training' },
      kernel: { kernelspec: 'compute-panel-h200-python3' },
      notebook: { path: 'train.ipynb', sha256: 'f00dfeedbeef0123456789' },
      git: {
        commit: '3238a87c0ffee1234567',
        branch: 'main',
        dirty: true,
        changed_files: 1,
        untracked_files: 0,
        notebook: 'modified'
      },
      host: {
        name: 'gpu-node-7',
        system: 'Linux',
        release: '6.1.0',
        machine: 'x86_64',
        product_name: null
      },
      python: {
        version: '3.11.2',
        implementation: 'CPython',
        prefix: '/opt/venv'
      },
      packages: {
        count: 212,
        hash: 'sha256:baf5ad2f873544725744865a97395bd610c0c01f6fc3c8b2a968a9d076d609ec',
        list: []
      },
      frameworks: { torch: { version: '2.3.1', cuda: '12.1' } },
      cuda: { driver: '12.4', runtime: '12.1', toolkit: null, cudnn: '8.9.2' },
      gpus: {
        vendor: 'nvidia',
        count: 2,
        driver: '550.54',
        devices: [
          { model: 'NVIDIA H200', memory_mib: 144384 },
          { model: 'NVIDIA H200', memory_mib: 144384 }
        ]
      },
      cpu: {
        model: 'AMD EPYC 9654',
        logical_cores: 192,
        physical_cores: 96,
        available_cores: 16
      },
      missing: {},
      ...overrides
    }
  };
}

export function makeClient() {
  return {
    runs: jest.fn(
      async (
        filters?: ComputePanelAPI.IRunFilters
      ): Promise<ComputePanelAPI.IRunPage> => {
        const offset = filters?.offset ?? 0;
        const limit = filters?.limit ?? 100;
        const total = 250;
        const runs: ComputePanelAPI.IRun[] = [];
        for (let i = offset; i < Math.min(total, offset + limit); i++) {
          runs.push(
            makeRun({
              id: `r${i}`,
              status: 'closed',
              end_reason: 'shutdown',
              ended: '2026-01-01T01:00:00Z',
              notebook: `nb-${i}.ipynb`
            })
          );
        }
        return { runs, count: total, totals: [], server_time: '' };
      }
    ),
    run: jest.fn(),
    environment: jest.fn(async (runId: string) => makeEnvironment(runId))
  };
}

const models: RunHistoryModel[] = [];

/**
 * A model over makeClient; disposed by disposeModels after each test.
 */
export function makeModel(options: Partial<RunHistoryModel.IOptions> = {}): {
  model: RunHistoryModel;
  client: ReturnType<typeof makeClient>;
} {
  const client = makeClient();
  const model = new RunHistoryModel({ client, ...options });
  models.push(model);
  return { model, client };
}

/**
 * Dispose of the models made since the last call (after each test).
 */
export function disposeModels(): void {
  models.splice(0).forEach(model => model.dispose());
}
