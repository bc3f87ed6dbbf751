import { NotebookPanel } from '@jupyterlab/notebook';
import { testEmission } from '@jupyterlab/testing';
import { Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError } from '../api';
import {
  baseKernelName,
  ComputePanelModel,
  IEventEmission,
  pickKernelspec
} from '../model';
import { METADATA_KEY } from '../tokens';
import {
  makeFakeClient,
  makeGrant,
  makeRun,
  makeTier,
  TIERS
} from './fixtures';

/**
 * A notebook panel stand-in: session context signals, metadata, path.
 */
class FakeNotebook {
  constructor(kernel: { id: string; name: string } | null, metadata?: unknown) {
    this.kernel = kernel;
    if (metadata !== undefined) {
      this.metadata.set(METADATA_KEY, metadata);
    }
  }

  kernel: { id: string; name: string } | null;
  metadata = new Map<string, unknown>();
  kernelChanged = new Signal<this, unknown>(this);
  sessionChanged = new Signal<this, unknown>(this);
  disposed = new Signal<this, void>(this);
  metadataChanged = new Signal<this, unknown>(this);

  get panel(): NotebookPanel {
    const currentKernel = () => this.kernel;
    return (this._panel ??= {
      title: { label: 'a.ipynb' },
      context: { path: 'a.ipynb' },
      disposed: this.disposed,
      sessionContext: {
        get session() {
          const kernel = currentKernel();
          return kernel ? { kernel } : null;
        },
        kernelChanged: this.kernelChanged,
        sessionChanged: this.sessionChanged
      },
      model: {
        metadataChanged: this.metadataChanged,
        getMetadata: (key: string) => this.metadata.get(key),
        setMetadata: (key: string, value: unknown) => {
          this.metadata.set(key, value);
          this.metadataChanged.emit(undefined);
        },
        deleteMetadata: (key: string) => this.metadata.delete(key)
      }
    } as unknown as NotebookPanel);
  }

  switchKernel(kernel: { id: string; name: string } | null): void {
    this.kernel = kernel;
    this.kernelChanged.emit(undefined);
  }

  private _panel: NotebookPanel | undefined;
}

const H200_KERNEL = { id: 'k1', name: 'compute-panel-h200-python3' };

describe('kernelspec helpers', () => {
  it('finds the base kernel from the tier maps, not from the name', () => {
    expect(baseKernelName(TIERS, 'compute-panel-rtx4090-ir')).toBe('ir');
    expect(baseKernelName(TIERS, 'compute-panel-h200-python3')).toBe('python3');
    expect(baseKernelName(TIERS, 'julia-1.10')).toBe('julia-1.10');
    expect(baseKernelName(TIERS, null)).toBeNull();
  });

  it('picks the same base kernel, else python3, else the first', () => {
    const [local, rtx, h200] = TIERS;
    expect(pickKernelspec(TIERS, h200, 'compute-panel-rtx4090-python3')).toBe(
      'compute-panel-h200-python3'
    );
    expect(pickKernelspec(TIERS, rtx, 'compute-panel-rtx4090-ir')).toBe(
      'compute-panel-rtx4090-ir'
    );
    expect(pickKernelspec(TIERS, local, 'python3')).toBe(
      'compute-panel-local-python3'
    );
    // h200 has no ir kernel: python3 instead.
    expect(pickKernelspec(TIERS, h200, 'compute-panel-rtx4090-ir')).toBe(
      'compute-panel-h200-python3'
    );
    const juliaOnly = makeTier('j', { kernelspecs: { julia: 'cp-j-julia' } });
    expect(pickKernelspec(TIERS, juliaOnly, 'python3')).toBe('cp-j-julia');
    expect(
      pickKernelspec(TIERS, makeTier('x', { kernelspecs: {} }), null)
    ).toBe(null);
  });
});

describe('ComputePanelModel', () => {
  let client: ReturnType<typeof makeFakeClient>;
  let events: Signal<object, IEventEmission>;
  let model: ComputePanelModel;

  beforeEach(() => {
    client = makeFakeClient();
    events = new Signal<object, IEventEmission>({});
    model = new ComputePanelModel({ client, events, poll: false });
  });

  afterEach(() => {
    model.dispose();
    jest.useRealTimers();
  });

  it('reloads the grants every round and says so with refreshed', async () => {
    await model.initialize();
    expect(model.grants[0].spent).toBe('12.345678');
    // Spent on the server (a run elsewhere, an edit in another tab): no event here.
    client.grants.mockResolvedValue([
      makeGrant('nsf-1', { spent: '0.074450', budget: '2500.00' })
    ]);
    let rounds = 0;
    model.refreshed.connect(() => rounds++);
    await model.refresh();
    expect(rounds).toBe(1);
    expect(model.grants.map(g => [g.spent, g.budget])).toEqual([
      ['0.074450', '2500.00']
    ]);
    // A round that changed nothing re-renders nothing.
    let states = 0;
    model.stateChanged.connect(() => states++);
    client.tiers.mockResolvedValue(model.tiers as ComputePanelAPI.ITier[]);
    await model.refreshGrants();
    expect(states).toBe(0);
  });

  it("reloads the tiers' running counts when the notebook's kernel changes", async () => {
    await model.initialize();
    const notebook = new FakeNotebook({
      id: 'k0',
      name: 'compute-panel-local-python3'
    });
    model.setNotebook(notebook.panel);
    await model.refresh();
    const before = client.tiers.mock.calls.length;
    // Moved to H200: its card counts the new kernel without waiting for the poll.
    client.tiers.mockResolvedValue(
      TIERS.map(t => (t.id === 'h200' ? { ...t, running: 2 } : t))
    );
    const counted = testEmission(model.stateChanged, {
      find: () => model.tier('h200')?.running === 2
    });
    notebook.switchKernel(H200_KERNEL);
    await counted;
    expect(client.tiers.mock.calls.length).toBeGreaterThan(before);
  });

  it('checks the version, then loads tiers and active grants', async () => {
    const emitted = testEmission(model.stateChanged, {
      find: () => model.tiers.length > 0
    });
    await model.initialize();
    await emitted;
    expect(model.handshake.status).toBe('ok');
    expect(model.handshake.message).toBeNull();
    expect(model.tiers.map(tier => tier.id)).toEqual([
      'local',
      'rtx4090',
      'h200'
    ]);
    expect(client.grants).toHaveBeenCalledWith({ active: true });
    expect(model.grants.length).toBe(2);
  });

  it('says in plain words when the server extension is missing', async () => {
    client.version.mockRejectedValue(
      new ComputePanelError({ status: 404, message: 'Not Found' })
    );
    await model.initialize();
    expect(model.handshake.status).toBe('missing');
    expect(model.handshake.message).toMatch(/not installed or not enabled/);
    expect(model.handshake.message).toMatch(/jupyterlab_compute_panel/);
    expect(client.tiers).not.toHaveBeenCalled();
  });

  it('reports a version mismatch but still works on the same API', async () => {
    client.version.mockResolvedValue({ version: '0.2.0', api: 1 });
    await model.initialize();
    expect(model.handshake.status).toBe('mismatch');
    expect(model.handshake.message).toContain('0.2.0');
    expect(model.handshake.message).toContain('0.1.0');
    expect(model.tiers.length).toBe(3);
  });

  it('stops on an API mismatch and shows the catalog error', async () => {
    client.version.mockResolvedValue({
      version: '0.1.0',
      api: 2,
      catalog_error: 'tiers.yaml: price of h200 is not a decimal'
    });
    await model.initialize();
    expect(model.handshake.status).toBe('mismatch');
    expect(model.handshake.message).toMatch(/API 2 .* API 1/);
    expect(model.catalogError).toBe(
      'tiers.yaml: price of h200 is not a decimal'
    );
    expect(client.tiers).not.toHaveBeenCalled();
  });

  it('resolves the current tier from the kernel name', async () => {
    await model.initialize();
    const notebook = new FakeNotebook({ id: 'k0', name: 'python3' });
    model.setNotebook(notebook.panel);
    expect(model.kernelName).toBe('python3');
    expect(model.currentTier).toBeNull(); // not metered
    expect(model.tierForKernel('compute-panel-rtx4090-ir')?.id).toBe('rtx4090');

    const changed = testEmission(model.stateChanged, {
      find: () => model.currentTier?.id === 'h200'
    });
    notebook.switchKernel(H200_KERNEL);
    await changed;
    expect(model.kernelspecFor(TIERS[1])).toBe('compute-panel-rtx4090-python3');

    model.setNotebook(null);
    expect(model.kernelName).toBeNull();
    expect(model.currentTier).toBeNull();
    // Disconnected: the old notebook no longer drives the model.
    notebook.switchKernel({ id: 'k9', name: 'compute-panel-local-python3' });
    expect(model.kernelName).toBeNull();
  });

  it('ticks the live cost every second in micro-units', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:10Z') });
    await model.initialize();
    model.setNotebook(new FakeNotebook(H200_KERNEL).panel);
    await model.refresh();
    expect(client.kernelRun).toHaveBeenCalledWith('k1');
    expect(model.run?.id).toBe('run-1');
    expect(model.liveCost).toEqual({
      micros: BigInt(10000),
      amount: '0.01',
      currency: 'USD',
      exact: false
    });

    const ticks: string[] = [];
    model.costChanged.connect((_, cost) => {
      ticks.push(cost?.amount ?? 'none');
    }, this);
    // 3.60 USD/h = 0.001 USD/s.
    jest.advanceTimersByTime(3000);
    expect(ticks).toEqual(['0.011', '0.012', '0.013']);
    jest.advanceTimersByTime(500);
    expect(model.liveCost?.micros).toBe(BigInt(13500));
  });

  it('corrects the estimate from the server', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:10Z') });
    await model.initialize();
    model.setNotebook(new FakeNotebook(H200_KERNEL).panel);
    await model.refresh();
    jest.advanceTimersByTime(5000);
    expect(model.liveCost?.amount).toBe('0.015');

    // The server metered less (e.g. a late start): it wins.
    client.kernelRun.mockResolvedValue(
      makeRun({ cost: { amount: '0.012000', currency: 'USD' }, duration_s: 12 })
    );
    await model.refresh();
    expect(model.liveCost?.amount).toBe('0.012');
    jest.advanceTimersByTime(2000);
    expect(model.liveCost?.amount).toBe('0.014');
  });

  it('shows the sentence, not the last figures, while the ledger is unreachable', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:10Z') });
    await model.initialize();
    model.setNotebook(new FakeNotebook(H200_KERNEL).panel);
    await model.refresh();
    expect(model.liveCost).not.toBeNull();
    const sentence =
      'The compute ledger is unreachable (its database is stopped or cannot be reached), so its figures cannot be shown and paid tiers cannot start; running kernels keep running and Local CPU still works.';
    client.kernelRun.mockRejectedValue(
      new ComputePanelError({ status: 503, message: sentence })
    );
    await model.refresh();
    expect(model.unavailable).toBe(sentence);
    expect(model.run).toBeNull();
    expect(model.liveCost).toBeNull();
    // The tiers still load (the catalog needs no ledger): the notice stays.
    expect(client.tiers).toHaveBeenCalled();
    expect(model.unavailable).toBe(sentence);

    client.kernelRun.mockResolvedValue(makeRun());
    await model.refresh();
    expect(model.unavailable).toBeNull();
    expect(model.run?.status).toBe('open');
  });

  it('shows exactly the server cost of a closed run', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:10Z') });
    await model.initialize();
    model.setNotebook(new FakeNotebook(H200_KERNEL).panel);
    await model.refresh();
    client.kernelRun.mockRejectedValue(
      new ComputePanelError({ status: 404, message: 'No open run' })
    );
    events.emit({
      schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
      action: 'closed',
      run_id: 'run-1',
      kernel_id: 'k1',
      tier_id: 'h200',
      grant_id: 'nsf-1',
      cost: '0.013337',
      currency: 'USD',
      end_reason: 'shutdown'
    });
    expect(model.run?.status).toBe('closed');
    expect(model.liveCost).toEqual({
      micros: BigInt(13337),
      amount: '0.013337',
      currency: 'USD',
      exact: true
    });
    await model.refresh();
    jest.advanceTimersByTime(5000);
    expect(model.liveCost?.amount).toBe('0.013337');
  });

  it('refreshes on run events and ignores others', async () => {
    await model.initialize();
    model.setNotebook(new FakeNotebook(H200_KERNEL).panel);
    await model.refresh();
    client.tiers.mockClear();
    client.kernelRun.mockClear();

    const base = {
      schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
      run_id: 'run-9',
      kernel_id: 'other',
      tier_id: 'rtx4090',
      grant_id: null,
      cost: '0',
      currency: 'USD',
      end_reason: null
    };
    events.emit({ ...base, action: 'heartbeat' });
    events.emit({
      ...base,
      schema_id: 'https://example.org/x',
      action: 'started'
    });
    expect(client.tiers).not.toHaveBeenCalled();

    const counts = TIERS.map(tier =>
      tier.id === 'rtx4090' ? { ...tier, running: 3 } : tier
    );
    client.tiers.mockResolvedValue(counts);
    const updated = testEmission(model.stateChanged, {
      find: () => model.tier('rtx4090')?.running === 3
    });
    events.emit({ ...base, action: 'started' });
    await updated;
    expect(client.tiers).toHaveBeenCalledTimes(1);

    // A heartbeat of our own kernel re-corrects the cost.
    client.kernelRun.mockClear();
    events.emit({
      ...base,
      kernel_id: 'k1',
      run_id: 'run-1',
      action: 'heartbeat'
    });
    await model.refresh();
    expect(client.kernelRun).toHaveBeenCalledWith('k1');
  });

  it('does not fetch runs for kernels that are not metered', async () => {
    await model.initialize();
    model.setNotebook(new FakeNotebook({ id: 'k0', name: 'python3' }).panel);
    await model.refresh();
    expect(client.kernelRun).not.toHaveBeenCalled();
    expect(model.run).toBeNull();
    expect(model.liveCost).toBeNull();
  });

  it('warns once about invalid notebook metadata, without throwing', async () => {
    await model.initialize();
    const notebook = new FakeNotebook(H200_KERNEL, 'h200');
    model.setNotebook(notebook.panel);
    expect(model.metadataWarning).toMatch(
      /compute-panel metadata is invalid: it is not an object; it will be rewritten on the next move/
    );
    notebook.panel.model!.setMetadata(METADATA_KEY, {
      tier: 'h200',
      grant: 'nsf-1'
    });
    expect(model.metadataWarning).toBeNull();

    const other = new FakeNotebook(H200_KERNEL, { tier: 'h200', grant: 4 });
    model.setNotebook(other.panel);
    expect(model.metadataWarning).toMatch(/"grant"/);
  });

  it('applies settings with defaults and type checks', () => {
    expect(model.settings).toEqual({
      defaultGrant: '',
      confirmPaidTiers: true,
      rerunByDefault: false,
      refreshInterval: 10,
      paidStartOnOpen: 'ask'
    });
    model.setSettings({
      defaultGrant: 'nsf-1',
      rerunByDefault: true,
      refreshInterval: 0,
      paidStartOnOpen: 'start-local'
    });
    model.setSettings({ confirmPaidTiers: 'no' as unknown as boolean });
    model.setSettings({
      paidStartOnOpen: 'always' as unknown as 'ask'
    });
    expect(model.settings).toEqual({
      defaultGrant: 'nsf-1',
      confirmPaidTiers: true,
      rerunByDefault: true,
      refreshInterval: 10,
      paidStartOnOpen: 'start-local'
    });
  });

  it('holds a load failure as a plain message', async () => {
    client.tiers.mockRejectedValue(
      new ComputePanelError({ status: 500, message: 'Database is locked' })
    );
    await model.initialize();
    expect(model.error).toBe('Database is locked');
  });
});
