import { act } from 'react';

import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { explainEndReason } from '../components/format';
import { environmentLines, shortHash } from '../history/environment';
import {
  DEFAULT_HISTORY_QUERY,
  historyFilters,
  presetFromArgs
} from '../history/model';
import { RunHistoryRegistry } from '../history/registry';
import { makeRun } from './fixtures';
import { disposeModels, makeEnvironment, makeModel } from './historyFixtures';

const trans = nullTranslator.load('jupyterlab_compute_panel');

afterEach(disposeModels);

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
    ['ledger_unreachable', 'ledger stayed unreachable'],
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
