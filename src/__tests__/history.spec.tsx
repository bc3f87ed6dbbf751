import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { explainEndReason } from '../components/format';
import { environmentLines, shortHash } from '../history/environment';
import { HistoryView } from '../history/HistoryView';
import {
  DEFAULT_HISTORY_QUERY,
  historyFilters,
  presetFromArgs,
  RunHistoryModel
} from '../history/model';
import { RunHistoryRegistry } from '../history/registry';
import { CommandButtons } from '../history/widget';
import { makeRun } from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

/**
 * A fingerprint shaped like the server's (fingerprint/parse.py `assemble`).
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

function makeClient() {
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
function makeModel(options: Partial<RunHistoryModel.IOptions> = {}): {
  model: RunHistoryModel;
  client: ReturnType<typeof makeClient>;
} {
  const client = makeClient();
  const model = new RunHistoryModel({ client, ...options });
  models.push(model);
  return { model, client };
}

afterEach(() => {
  models.splice(0).forEach(model => model.dispose());
});

describe('history query', () => {
  it('maps filters, search, dates and sort onto /runs parameters', () => {
    expect(historyFilters(DEFAULT_HISTORY_QUERY)).toEqual({ sort: '-started' });
    expect(
      historyFilters({
        notebook: 'work/train.ipynb',
        tier: 'h200',
        grant: 'nsf-1',
        user: 'student',
        status: 'open',
        since: '2026-02-28',
        until: '2026-03-31',
        q: ' loss ',
        sort: { key: 'cost', descending: false }
      })
    ).toEqual({
      notebook: 'work/train.ipynb',
      tier: 'h200',
      grant: 'nsf-1',
      user: 'student',
      status: 'open',
      since: '2026-02-28T00:00:00.000Z',
      // The whole 'until' day is included.
      until: '2026-04-01T00:00:00.000Z',
      q: 'loss',
      sort: 'cost'
    });
    expect(
      historyFilters({ ...DEFAULT_HISTORY_QUERY, since: '2026-13-45' })
    ).toEqual({ sort: '-started' });
  });

  it('takes string filters from command arguments and nothing else', () => {
    expect(
      presetFromArgs({
        notebook: 'a.ipynb',
        tier: 3,
        grant: '',
        status: 'running',
        user: 'student'
      })
    ).toEqual({ notebook: 'a.ipynb', user: 'student' });
    expect(presetFromArgs({ status: 'closed' })).toEqual({ status: 'closed' });
  });
});

describe('RunHistoryModel', () => {
  it('starts from its preset and pages GET /runs with it', async () => {
    const { model, client } = makeModel({
      preset: { notebook: 'a.ipynb' },
      pageSize: 50
    });
    await model.load();
    expect(client.runs).toHaveBeenCalledWith({
      notebook: 'a.ipynb',
      sort: '-started',
      limit: 50,
      offset: 0
    });
    expect(model.runs.count).toBe(250);
    expect(model.dataArrivedAt).not.toBeNull();
    expect(model.painted()).toBeGreaterThanOrEqual(0);
    expect(model.dataArrivedAt).toBeNull();

    // A preset replaces the filters but keeps the sort.
    await model.setQuery({
      ...model.query,
      tier: 'h200',
      sort: { key: 'cost', descending: true }
    });
    await model.applyPreset({ grant: 'g' });
    expect(model.query).toEqual({
      ...DEFAULT_HISTORY_QUERY,
      grant: 'g',
      sort: { key: 'cost', descending: true }
    });
  });

  it('selects several runs in order, across queries, and says so', async () => {
    const { model } = makeModel();
    const emitted: ReadonlyArray<string>[] = [];
    model.selectionChanged.connect((_, ids) => emitted.push(ids));
    const [a, b, c] = ['a', 'b', 'c'].map(id => makeRun({ id }));
    model.toggle(b);
    model.toggle(a);
    await model.setQuery({ ...model.query, tier: 'h200' });
    model.toggle(c);
    model.toggle(a);
    expect(model.selected).toEqual(['b', 'c']);
    expect(model.selectedRuns.map(r => r.id)).toEqual(['b', 'c']);
    expect(emitted).toEqual([['b'], ['b', 'a'], ['b', 'a', 'c'], ['b', 'c']]);
    model.clearSelection();
    model.clearSelection();
    expect(emitted[emitted.length - 1]).toEqual([]);
    expect(emitted).toHaveLength(5);
  });

  it("fetches a shown run's environment once, and a missing one again", async () => {
    const { model, client } = makeModel();
    const run = makeRun({ id: 'r1' });
    model.show(run);
    expect(model.environment).toEqual({ status: 'loading' });
    await Promise.resolve();
    await Promise.resolve();
    expect(model.environment?.status).toBe('ready');
    model.show(null);
    model.show(run);
    expect(client.environment).toHaveBeenCalledTimes(1);

    client.environment.mockRejectedValueOnce(
      new ComputePanelError({
        status: 404,
        message:
          "Run 'r2' has no environment fingerprint yet: it is being captured; ask again in a few seconds"
      })
    );
    const fresh = makeRun({ id: 'r2' });
    model.show(fresh);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(model.environment).toEqual({
      status: 'missing',
      message: expect.stringContaining('being captured')
    });
    model.show(run);
    model.show(fresh);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(model.environment?.status).toBe('ready');
    expect(client.environment).toHaveBeenCalledTimes(3);
  });

  it('refreshes once per burst of run events', async () => {
    jest.useFakeTimers();
    try {
      const events = new Signal<any, { schema_id: string }>({});
      const { model, client } = makeModel({ events, refreshDelay: 1000 });
      await model.load();
      const event = (action: string) =>
        events.emit({
          schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
          action
        } as any);
      event('started');
      event('heartbeat');
      event('closed');
      event('started');
      expect(client.runs).toHaveBeenCalledTimes(1);
      await act(async () => {
        jest.advanceTimersByTime(1000);
      });
      expect(client.runs).toHaveBeenCalledTimes(2);
      // A refresh keeps the count (and so the scroll position).
      expect(model.runs.count).toBe(250);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('environment lines', () => {
  it('shows what a reader checks, in words', () => {
    const lines = environmentLines(makeEnvironment('r1'), trans);
    const byKey = Object.fromEntries(lines.map(l => [l.key, l.value]));
    expect(byKey).toEqual({
      python: '3.11.2 (CPython)',
      'python-env': '/opt/venv',
      packages: '212 installed · sha256:baf5ad2f8735…',
      frameworks: 'torch 2.3.1 (CUDA 12.1)',
      cuda: 'driver supports 12.4 · runtime 12.1 · cuDNN 8.9.2',
      gpus: '2× NVIDIA H200 (141 GiB) · driver 550.54',
      cpu: 'AMD EPYC 9654 · 16 of 192 cores available',
      host: 'gpu-node-7 · Linux 6.1.0 · x86_64',
      git: '3238a87c0ffe · on main · dirty · notebook modified',
      'notebook-hash': 'sha256:f00dfeedbeef…'
    });
  });

  it('names what is missing and why, and a CPU machine has no GPU', () => {
    const lines = environmentLines(
      makeEnvironment('r1', {
        python: undefined,
        packages: undefined,
        frameworks: {},
        cuda: { driver: null, runtime: null, toolkit: null, cudnn: null },
        gpus: { vendor: null, count: 0, devices: [] },
        git: null,
        missing: { python: 'the kernel has no probe (language r)' }
      }),
      trans
    );
    const byKey = Object.fromEntries(lines.map(l => [l.key, l.value]));
    expect(byKey.python).toBeUndefined();
    expect(byKey.frameworks).toBe('none of torch, jax, tensorflow');
    expect(byKey.cuda).toBe('none');
    expect(byKey.gpus).toBe('none');
    expect(byKey.git).toBe('not in a repository');
    expect(byKey['missing-python']).toBe(
      'the kernel has no probe (language r)'
    );
  });

  it('shortens hashes', () => {
    expect(shortHash('sha256:0123456789abcdef')).toBe('sha256:0123456789ab…');
    expect(shortHash('abc')).toBe('abc');
    expect(shortHash(null)).toBe('');
  });
});

describe('explainEndReason', () => {
  it.each([
    ['shutdown', 'Shut down on request'],
    ['restart', 'new run'],
    ['culled', 'idle'],
    ['died', 'exited by itself'],
    ['server_restart', 'last heartbeat'],
    ['lost', 'heartbeats stopped'],
    ['budget', "grant's budget was spent"],
    ['launch_failed', 'nothing was charged'],
    ['completed', 'every cell'],
    ['cell_error', 'raised an error'],
    ['cancelled', 'cancelled'],
    ['time_limit', 'time limit']
  ])('says what %s means', (reason, words) => {
    expect(
      explainEndReason(
        { status: 'closed', end_reason: reason as ComputePanelAPI.EndReason },
        trans
      )
    ).toContain(words);
  });

  it('says an open run is still running', () => {
    expect(
      explainEndReason({ status: 'open', end_reason: null }, trans)
    ).toContain('Still running');
  });
});

describe('RunHistoryRegistry', () => {
  it('lists actions by rank, removes them on dispose, and follows the selection', async () => {
    const open = jest.fn().mockResolvedValue(undefined);
    const registry = new RunHistoryRegistry({ open });
    const changed = jest.fn();
    registry.actionsChanged.connect(changed);
    const compare = registry.addSelectionAction('x:compare', { rank: 20 });
    registry.addSelectionAction('x:export', { rank: 10 });
    registry.addRunAction('x:rerun');
    expect(registry.selectionActions).toEqual(['x:export', 'x:compare']);
    expect(registry.runActions).toEqual(['x:rerun']);
    compare.dispose();
    compare.dispose();
    expect(registry.selectionActions).toEqual(['x:export']);
    expect(changed).toHaveBeenCalledTimes(4);

    const selections: ReadonlyArray<string>[] = [];
    registry.selectionChanged.connect((_, ids) => selections.push(ids));
    registry.setSelection(['a', 'b']);
    registry.setSelection(['a', 'b']);
    registry.setSelection([]);
    expect(selections).toEqual([['a', 'b'], []]);

    await registry.open({ notebook: 'a.ipynb' });
    expect(open).toHaveBeenCalledWith({ notebook: 'a.ipynb' });
  });
});

describe('HistoryView', () => {
  let host: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });

  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const flush = async () => {
    await act(async () => {
      await new Promise(resolve => setTimeout(resolve, 0));
    });
  };

  const rows = () =>
    Array.from(host.querySelectorAll('.jp-ComputePanel-vtBody [role="row"]'));

  it('lists runs, shows one in details with its environment, selects several for the actions', async () => {
    const { model } = makeModel();
    await model.load();
    const renderRunActions = jest.fn((run: ComputePanelAPI.IRun) => (
      <button className="test-rerun">{`Re-run ${run.id}`}</button>
    ));
    const renderSelectionActions = jest.fn(
      (runs: ReadonlyArray<ComputePanelAPI.IRun>) => (
        <button className="test-compare" disabled={runs.length < 2}>
          Compare
        </button>
      )
    );
    act(() =>
      root.render(
        <HistoryView
          model={model}
          trans={trans}
          tiers={[{ id: 'h200', label: 'H200 training' }]}
          grants={[{ id: 'nsf-1', label: 'NSF 1' }]}
          renderRunActions={renderRunActions}
          renderSelectionActions={renderSelectionActions}
        />
      )
    );
    await flush();
    expect(host.querySelector('.jp-ComputePanel-runsCount')!.textContent).toBe(
      '250 runs'
    );
    // Virtualized: a screen of rows, not 250.
    expect(rows().length).toBeGreaterThan(5);
    expect(rows().length).toBeLessThan(40);
    expect(rows()[0].textContent).toContain('nb-0.ipynb');
    expect(rows()[0].textContent).toContain('NSF 1');
    expect(
      host.querySelector('[role="grid"]')!.getAttribute('aria-multiselectable')
    ).toBe('true');

    // A click shows the details and their environment.
    act(() => (rows()[1] as HTMLElement).click());
    await flush();
    const details = host.querySelector('.jp-ComputePanel-historyDetails')!;
    expect(details.getAttribute('data-run')).toBe('r1');
    expect(details.querySelector('[data-fact="end"]')!.textContent).toContain(
      'Shut down on request'
    );
    expect(details.querySelector('[data-fact="rate"]')!.textContent).toContain(
      '3.60 USD/h'
    );
    expect(details.querySelector('[data-env="python"]')!.textContent).toContain(
      '3.11.2'
    );
    expect(renderRunActions).toHaveBeenLastCalledWith(
      expect.objectContaining({ id: 'r1' })
    );
    expect(details.querySelector('.test-rerun')!.textContent).toBe('Re-run r1');

    // Tick two boxes, Ctrl-click a third, untick the first.
    const box = (i: number) =>
      rows()[i].querySelector('input[type="checkbox"]') as HTMLInputElement;
    act(() => box(0).click());
    act(() => box(2).click());
    expect(renderSelectionActions).toHaveBeenLastCalledWith([
      expect.objectContaining({ id: 'r0' }),
      expect.objectContaining({ id: 'r2' })
    ]);
    act(() => {
      rows()[3].dispatchEvent(
        new MouseEvent('click', { bubbles: true, ctrlKey: true })
      );
    });
    await flush(); // the environment of the run shown now
    act(() => box(0).click());
    expect(model.selected).toEqual(['r2', 'r3']);
    expect(rows()[2].getAttribute('aria-selected')).toBe('true');
    expect(rows()[2].classList).toContain('jp-mod-selected');
    expect(rows()[0].getAttribute('aria-selected')).toBe('false');
    expect(
      host.querySelector('.jp-ComputePanel-historySelection')!.textContent
    ).toContain('2 runs selected');
    expect(
      (host.querySelector('.test-compare') as HTMLButtonElement).disabled
    ).toBe(false);
    // Ticking a box does not change the run shown.
    expect(model.active?.id).toBe('r3');
  });

  it("says why an environment is missing, in the server's words", async () => {
    const { model, client } = makeModel();
    client.environment.mockRejectedValue(
      new ComputePanelError({
        status: 404,
        message:
          "Run 'r0' has no environment fingerprint yet: environment capture is off on this server"
      })
    );
    await model.load();
    act(() =>
      root.render(
        <HistoryView model={model} trans={trans} tiers={[]} grants={[]} />
      )
    );
    await flush();
    act(() => (rows()[0] as HTMLElement).click());
    await flush();
    expect(host.querySelector('[data-env-state="missing"]')!.textContent).toBe(
      "Not captured: Run 'r0' has no environment fingerprint yet: environment capture is off on this server"
    );
  });

  it('applies a filter at once and offers to clear it', async () => {
    const { model, client } = makeModel({ preset: { notebook: 'a.ipynb' } });
    await model.load();
    act(() =>
      root.render(
        <HistoryView
          model={model}
          trans={trans}
          tiers={[{ id: 'h200', label: 'H200 training' }]}
          grants={[]}
        />
      )
    );
    await flush();
    const notebook = host.querySelector(
      '.jp-ComputePanel-historyNotebook'
    ) as HTMLInputElement;
    expect(notebook.value).toBe('a.ipynb');
    const tier = host.querySelectorAll('select')[0] as HTMLSelectElement;
    await act(async () => {
      Object.getOwnPropertyDescriptor(
        HTMLSelectElement.prototype,
        'value'
      )!.set!.call(tier, 'h200');
      tier.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(client.runs).toHaveBeenLastCalledWith(
      expect.objectContaining({ notebook: 'a.ipynb', tier: 'h200', offset: 0 })
    );
    await act(async () => {
      (
        host.querySelector('.jp-ComputePanel-historyClear') as HTMLElement
      ).click();
    });
    await flush();
    expect(client.runs).toHaveBeenLastCalledWith({
      sort: '-started',
      limit: 100,
      offset: 0
    });
    expect(notebook.value).toBe('');
    expect(host.querySelector('.jp-ComputePanel-historyClear')).toBeNull();
  });
});

describe('CommandButtons', () => {
  let host: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });

  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  it('asks the commands with the run ids, and runs them', () => {
    const commands = new CommandRegistry();
    const execute = jest.fn();
    commands.addCommand('x:compare', {
      label: args => `Compare ${(args.runIds as string[]).length}`,
      isEnabled: args => (args.runIds as string[]).length >= 2,
      describedBy: { args: { type: 'object', properties: {} } },
      execute
    });
    commands.addCommand('x:hidden', {
      label: 'Hidden',
      isVisible: () => false,
      describedBy: { args: { type: 'object', properties: {} } },
      execute
    });
    const draw = (runIds: string[]) =>
      act(() =>
        root.render(
          <CommandButtons
            commands={commands}
            ids={['x:compare', 'x:hidden', 'x:unknown']}
            args={{ runIds }}
          />
        )
      );
    draw(['a']);
    const button = () => host.querySelector('button') as HTMLButtonElement;
    expect(host.querySelectorAll('button')).toHaveLength(1);
    expect(button().textContent).toBe('Compare 1');
    expect(button().disabled).toBe(true);
    draw(['a', 'b']);
    expect(button().disabled).toBe(false);
    act(() => button().click());
    expect(execute).toHaveBeenCalledWith({ runIds: ['a', 'b'] });
  });
});
