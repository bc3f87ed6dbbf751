import { Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { readComputeMetadata } from '../metadata';
import { METADATA_KEY } from '../tokens';
import {
  buildProvenance,
  ProvenanceRecorder,
  withProvenance
} from '../provenance/recorder';
import { makeRun, TIERS } from './fixtures';

const H200 = TIERS[2];
const NOW = new Date('2026-03-01T12:00:00.000Z');

function makeEnvironment(
  runId: string,
  cuda: unknown = {
    driver: '12.4',
    runtime: '12.1',
    toolkit: null,
    cudnn: '8.9.2'
  }
): ComputePanelAPI.IEnvironment {
  return {
    run_id: runId,
    captured_at: '2026-03-01T11:00:05Z',
    status: 'complete',
    error: null,
    packages_hash: 'sha256:abc',
    fingerprint: { schema: 1, python: { version: '3.11.2' }, cuda }
  };
}

describe('buildProvenance', () => {
  it('has the fields re-runs write, the rate the run is charged at, CUDA and the time', () => {
    const run = makeRun({
      id: 'r1',
      grant_id: 'nsf-1',
      rate: { amount: '3.50', currency: 'USD' }
    });
    const block = buildProvenance(run, H200, makeEnvironment('r1'), NOW);
    expect(block).toEqual({
      run_id: 'r1',
      tier: 'h200',
      tier_label: 'H200 training',
      hardware: {
        gpu: { model: 'NVIDIA H200', count: 1, memory_gb: 141 },
        cpu_cores: 16
      },
      // Not the catalog's 3.60 of today: the rate the run keeps.
      price_per_hour: { amount: '3.50', currency: 'USD' },
      grant: 'nsf-1',
      cuda: { driver: '12.4', runtime: '12.1', toolkit: null, cudnn: '8.9.2' },
      started: '2026-01-01T00:00:00Z',
      recorded: '2026-03-01T12:00:00.000Z'
    });
    expect(
      readComputeMetadata({ tier: 'h200', grant: null, provenance: block })
    ).toEqual({
      kind: 'valid',
      value: { tier: 'h200', grant: null, provenance: block }
    });
  });

  it('says null for CUDA without an environment, and a free run has no grant', () => {
    const run = makeRun({
      tier_id: 'local',
      tier_label: undefined,
      grant_id: null,
      rate: { amount: '0.00', currency: 'USD' }
    });
    const block = buildProvenance(run, TIERS[0], null, NOW);
    expect(block.cuda).toBeNull();
    expect(block.grant).toBeNull();
    expect(block.tier_label).toBe('Local CPU');
    expect(buildProvenance(run, null, null, NOW).hardware).toBeNull();
  });
});

describe('withProvenance', () => {
  const block = buildProvenance(makeRun(), H200, null, NOW);

  it('keeps tier, grant and any other key of the notebook', () => {
    expect(
      withProvenance(
        { tier: 'rtx4090', grant: 'erc', note: 'kept', provenance: { x: 1 } },
        block
      )
    ).toEqual({
      tier: 'rtx4090',
      grant: 'erc',
      note: 'kept',
      provenance: block
    });
  });

  it("gives a notebook without our key the run's tier and grant, so it stays valid", () => {
    const next = withProvenance(undefined, block);
    expect(next).toEqual({ tier: 'h200', grant: 'nsf-1', provenance: block });
    expect(readComputeMetadata(next).kind).toBe('valid');
  });

  it('leaves a value that is not an object alone', () => {
    expect(withProvenance('h200', block)).toBeNull();
    expect(withProvenance([1], block)).toBeNull();
  });
});

describe('readComputeMetadata with provenance', () => {
  it('keeps notebooks written before provenance valid', () => {
    expect(readComputeMetadata({ tier: 'h200', grant: 'g' })).toEqual({
      kind: 'valid',
      value: { tier: 'h200', grant: 'g' }
    });
  });

  it("accepts a re-run's block (no cuda, with rerun fields)", () => {
    const rerunBlock = {
      run_id: 'r9',
      rerun_id: 'x1',
      source: 'a.ipynb',
      status: 'completed',
      error: null,
      tier: 'h200',
      grant: 'g',
      tier_label: 'H200 training',
      hardware: { gpu: null },
      price_per_hour: { amount: '3.50', currency: 'USD' },
      started: '2026-01-01T00:00:00Z',
      ended: '2026-01-01T00:10:00Z',
      cost: { amount: '0.58', currency: 'USD' }
    };
    expect(
      readComputeMetadata({ tier: 'h200', grant: 'g', provenance: rerunBlock })
        .kind
    ).toBe('valid');
  });

  it.each([
    ['not an object', 'x', '"provenance" is not an object'],
    ['no run id', { tier: 'h200' }, '"provenance.run_id" is not a run id'],
    ['no tier', { run_id: 'r' }, '"provenance.tier" is not a tier id'],
    [
      'a bad grant',
      { run_id: 'r', tier: 't', grant: 3 },
      '"provenance.grant" is neither a grant id nor null'
    ],
    [
      'a float price',
      { run_id: 'r', tier: 't', price_per_hour: 3.5 },
      '"provenance.price_per_hour" is not an amount with its currency'
    ],
    [
      'a string cuda',
      { run_id: 'r', tier: 't', cuda: '12.1' },
      '"provenance.cuda" is neither an object nor null'
    ],
    [
      'a numeric date',
      { run_id: 'r', tier: 't', recorded: 5 },
      '"provenance.recorded" is not a string'
    ]
  ])('refuses %s', (_, provenance, reason) => {
    expect(
      readComputeMetadata({ tier: 'h200', grant: null, provenance })
    ).toEqual({ kind: 'invalid', reason });
  });
});

/**
 * Just enough of a NotebookPanel for the recorder.
 */
function fakePanel(kernel: { id: string; name: string } | null) {
  const metadata = new Map<string, unknown>();
  const context: any = {
    path: 'nb.ipynb',
    model: {
      getMetadata: (key: string) => metadata.get(key),
      setMetadata: jest.fn((key: string, value: unknown) =>
        metadata.set(key, value)
      )
    }
  };
  // The context is the sender of its saveState, as in JupyterLab.
  context.saveState = new Signal<any, string>(context);
  const panel: any = {
    context,
    sessionContext: {
      session: kernel ? { kernel } : null,
      kernelChanged: new Signal<any, unknown>({})
    },
    disposed: new Signal<any, void>({})
  };
  return { panel, metadata };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

function makeRecorder(client: ProvenanceRecorder.IClient, log = jest.fn()) {
  return new ProvenanceRecorder({
    client,
    tierForKernel: name =>
      TIERS.find(t => Object.values(t.kernelspecs).includes(name)) ?? null,
    now: () => NOW,
    log,
    retryDelays: []
  });
}

describe('ProvenanceRecorder', () => {
  const kernel = { id: 'k1', name: 'compute-panel-h200-python3' };

  it('writes the block synchronously when the save starts, from what it fetched ahead', async () => {
    const client = {
      kernelRun: jest.fn().mockResolvedValue(makeRun({ id: 'r1' })),
      environment: jest.fn().mockResolvedValue(makeEnvironment('r1'))
    };
    const recorder = makeRecorder(client);
    const { panel, metadata } = fakePanel(kernel);
    metadata.set('jupyterlab_compute_panel', { tier: 'h200', grant: 'nsf-1' });
    recorder.track(panel);
    await flush();
    expect(client.kernelRun).toHaveBeenCalledWith('k1');

    panel.context.saveState.emit('started');
    const value = metadata.get('jupyterlab_compute_panel') as any;
    expect(value.tier).toBe('h200');
    expect(value.provenance.run_id).toBe('r1');
    expect(value.provenance.cuda.runtime).toBe('12.1');
    expect(value.provenance.recorded).toBe(NOW.toISOString());
    recorder.dispose();
  });

  it('saves without touching the block when the run cannot be had', async () => {
    const log = jest.fn();
    const client = {
      kernelRun: jest
        .fn()
        .mockRejectedValue(
          new ComputePanelError({ status: 500, message: 'down' })
        ),
      environment: jest.fn()
    };
    const recorder = makeRecorder(client, log);
    const { panel, metadata } = fakePanel(kernel);
    const before = {
      tier: 'h200',
      grant: null,
      provenance: { run_id: 'old', tier: 'h200' }
    };
    metadata.set('jupyterlab_compute_panel', before);
    recorder.track(panel);
    await flush();
    panel.context.saveState.emit('started');
    expect(panel.context.model.setMetadata).not.toHaveBeenCalled();
    expect(metadata.get('jupyterlab_compute_panel')).toBe(before);
    expect(log).toHaveBeenCalled();
    recorder.dispose();
  });

  it('writes no CUDA while the environment is not captured, and asks again for the next save', async () => {
    const client = {
      kernelRun: jest.fn().mockResolvedValue(makeRun({ id: 'r1' })),
      environment: jest
        .fn()
        .mockRejectedValueOnce(
          new ComputePanelError({ status: 404, message: 'being captured' })
        )
        .mockResolvedValue(makeEnvironment('r1', { driver: null }))
    };
    const log = jest.fn();
    const recorder = makeRecorder(client, log);
    const { panel, metadata } = fakePanel(kernel);
    recorder.track(panel);
    await flush();
    panel.context.saveState.emit('started');
    expect(
      (metadata.get('jupyterlab_compute_panel') as any).provenance.cuda
    ).toBeNull();
    await flush();
    panel.context.saveState.emit('started');
    expect(
      (metadata.get('jupyterlab_compute_panel') as any).provenance.cuda
    ).toEqual({ driver: null });
    // A 404 is expected, not worth a line.
    expect(log).not.toHaveBeenCalled();
    recorder.dispose();
  });

  it('leaves notebooks on kernels that are not tiers alone, and ignores other states', async () => {
    const client = {
      kernelRun: jest.fn().mockResolvedValue(makeRun()),
      environment: jest.fn().mockResolvedValue(makeEnvironment('run-1'))
    };
    const recorder = makeRecorder(client);
    const plain = fakePanel({ id: 'k2', name: 'python3' });
    recorder.track(plain.panel);
    const none = fakePanel(null);
    recorder.track(none.panel);
    await flush();
    plain.panel.context.saveState.emit('started');
    none.panel.context.saveState.emit('started');
    expect(plain.panel.context.model.setMetadata).not.toHaveBeenCalled();
    expect(none.panel.context.model.setMetadata).not.toHaveBeenCalled();

    const onTier = fakePanel(kernel);
    recorder.track(onTier.panel);
    await flush();
    onTier.panel.context.saveState.emit('completed');
    expect(onTier.panel.context.model.setMetadata).not.toHaveBeenCalled();
    recorder.dispose();
  });

  it("drops an earlier run's block when a kernel no tier meters saves the outputs", async () => {
    const client = {
      kernelRun: jest.fn().mockResolvedValue(makeRun()),
      environment: jest.fn().mockResolvedValue(makeEnvironment('run-1'))
    };
    const recorder = makeRecorder(client);
    const plain = fakePanel({ id: 'k2', name: 'python3' });
    plain.metadata.set(METADATA_KEY, {
      tier: 'h200',
      grant: 'g',
      provenance: { run_id: 'old-run', tier: 'h200' }
    });
    recorder.track(plain.panel);
    await flush();
    plain.panel.context.saveState.emit('started');
    expect(plain.metadata.get(METADATA_KEY)).toEqual({
      tier: 'h200',
      grant: 'g'
    });
    recorder.dispose();
  });

  it("asks nothing of an unmetered kernel, and for a new run's environment once it is captured", async () => {
    const started = new Date(NOW.getTime() - 1000).toISOString();
    const client = {
      kernelRun: jest
        .fn()
        .mockResolvedValue(makeRun({ id: 'r1', started, status: 'open' })),
      environment: jest.fn().mockResolvedValue(makeEnvironment('r1'))
    };
    const recorder = new ProvenanceRecorder({
      client,
      tierForKernel: name =>
        TIERS.find(t => Object.values(t.kernelspecs).includes(name)) ?? null,
      now: () => NOW,
      log: jest.fn(),
      retryDelays: [],
      captureWait: 1050
    });
    // A plain python3 kernel: no tier meters it, so it has no run to ask for.
    const plain = fakePanel({ id: 'k0', name: 'python3' });
    recorder.track(plain.panel);
    await flush();
    expect(client.kernelRun).not.toHaveBeenCalled();

    // A tier kernel whose run started a second ago: its environment is
    // asked for once the capture had its time (50 ms here), not at once.
    const { panel, metadata } = fakePanel(kernel);
    recorder.track(panel);
    await flush();
    expect(client.kernelRun).toHaveBeenCalledWith('k1');
    expect(client.environment).not.toHaveBeenCalled();
    await new Promise(resolve => setTimeout(resolve, 120));
    expect(client.environment).toHaveBeenCalledTimes(1);
    expect(client.environment).toHaveBeenCalledWith('r1');
    panel.context.saveState.emit('started');
    // The block carries what the environment says (its CUDA).
    expect(
      (metadata.get('jupyterlab_compute_panel') as any).provenance.cuda
    ).not.toBeNull();
    recorder.dispose();
  });

  it("follows a kernel change and a run event (a restart's new run)", async () => {
    const events = new Signal<any, { schema_id: string }>({});
    const client = {
      kernelRun: jest.fn().mockResolvedValue(makeRun({ id: 'r1' })),
      environment: jest.fn().mockResolvedValue(makeEnvironment('r1'))
    };
    const recorder = new ProvenanceRecorder({
      client,
      tierForKernel: name =>
        TIERS.find(t => Object.values(t.kernelspecs).includes(name)) ?? null,
      now: () => NOW,
      events,
      log: jest.fn(),
      retryDelays: []
    });
    const { panel, metadata } = fakePanel(kernel);
    recorder.track(panel);
    await flush();

    client.kernelRun.mockResolvedValue(makeRun({ id: 'r2', kernel_id: 'k1' }));
    client.environment.mockResolvedValue(makeEnvironment('r2'));
    events.emit({
      schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
      action: 'started',
      kernel_id: 'k1',
      run_id: 'r2'
    } as any);
    await flush();
    panel.context.saveState.emit('started');
    expect(
      (metadata.get('jupyterlab_compute_panel') as any).provenance.run_id
    ).toBe('r2');

    // Moved to RTX 4090: a new kernel, a new run.
    panel.sessionContext.session = {
      kernel: { id: 'k3', name: 'compute-panel-rtx4090-python3' }
    };
    client.kernelRun.mockResolvedValue(
      makeRun({ id: 'r3', kernel_id: 'k3', tier_id: 'rtx4090' })
    );
    panel.sessionContext.kernelChanged.emit({});
    await flush();
    panel.context.saveState.emit('started');
    const provenance = (metadata.get('jupyterlab_compute_panel') as any)
      .provenance;
    expect(provenance.run_id).toBe('r3');
    expect(provenance.tier).toBe('rtx4090');
    recorder.dispose();
  });
});
