import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { ComputePanelAPI } from '../api';
import { NotebookRuns } from '../components/NotebookRuns';
import { NotebookRunsModel } from '../panel/notebookRuns';
import { makeFakeClient, makeRun } from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

/**
 * Just enough of the compute-panel model: a followed notebook and its run.
 */
function fakeModel() {
  const client = makeFakeClient();
  client.runs.mockImplementation(async filters => ({
    runs: [
      makeRun({ id: 'r2', status: 'open', notebook: filters?.notebook }),
      makeRun({
        id: 'r1',
        tier_label: 'RTX 4090 prototyping',
        status: 'closed',
        end_reason: 'culled',
        duration_s: 725,
        cost: { amount: '0.100694', currency: 'USD' }
      })
    ],
    count: 7,
    totals: [],
    server_time: ''
  }));
  const model: any = {
    client,
    stateChanged: new Signal<any, void>({}),
    refreshed: new Signal<any, void>({}),
    notebook: null,
    run: null,
    handshake: {
      status: 'ok',
      message: null,
      server: { version: '0.1.0', api: 1, owner: 'student' }
    }
  };
  const follow = (path: string | null) => {
    model.notebook = path ? { context: { path } } : null;
    model.stateChanged.emit();
  };
  return { model, client, follow };
}

describe('NotebookRunsModel', () => {
  it("lists the followed notebook's latest runs of its owner, newest first", async () => {
    const { model, client, follow } = fakeModel();
    const runs = new NotebookRunsModel({ model, limit: 3 });
    expect(runs.path).toBeNull();
    expect(client.runs).not.toHaveBeenCalled();
    follow('work/train.ipynb');
    await runs.refresh();
    expect(client.runs).toHaveBeenLastCalledWith({
      notebook: 'work/train.ipynb',
      user: 'student',
      sort: '-started',
      limit: 3
    });
    expect(runs.runs.map(r => r.id)).toEqual(['r2', 'r1']);
    expect(runs.count).toBe(7);

    // The poll says nothing new: no request.
    const calls = client.runs.mock.calls.length;
    model.stateChanged.emit();
    expect(client.runs.mock.calls.length).toBe(calls);
    // Its run ended: ask again.
    model.run = makeRun({ id: 'r2', status: 'closed' });
    model.stateChanged.emit();
    expect(client.runs.mock.calls.length).toBe(calls + 1);

    follow(null);
    expect(runs.runs).toEqual([]);
    runs.dispose();
  });

  it("follows the model's poll where no run event arrives", async () => {
    const { model, client, follow } = fakeModel();
    const runs = new NotebookRunsModel({ model });
    follow('a.ipynb');
    await runs.refresh();
    expect(runs.runs[0].status).toBe('open');

    // The re-run ended on the server; this page heard nothing of it.
    client.runs.mockResolvedValue({
      runs: [
        makeRun({
          id: 'r2',
          status: 'closed',
          end_reason: 'shutdown',
          duration_s: 42,
          cost: { amount: '0.042000', currency: 'USD' }
        })
      ],
      count: 1,
      totals: [],
      server_time: ''
    });
    const changed = new Promise<void>(resolve =>
      runs.changed.connect(() => resolve())
    );
    model.refreshed.emit();
    await changed;
    expect(runs.runs.map(r => [r.status, r.cost.amount])).toEqual([
      ['closed', '0.042000']
    ]);
    runs.dispose();
    // Disposed: the poll no longer reaches it.
    const calls = client.runs.mock.calls.length;
    model.refreshed.emit();
    expect(client.runs.mock.calls.length).toBe(calls);
  });

  it('refreshes once per burst of run events', async () => {
    jest.useFakeTimers();
    try {
      const { model, client, follow } = fakeModel();
      const events = new Signal<any, { schema_id: string }>({});
      const runs = new NotebookRunsModel({
        model,
        events,
        refreshDelay: 500
      });
      follow('a.ipynb');
      const before = client.runs.mock.calls.length;
      for (const action of ['started', 'heartbeat', 'closed']) {
        events.emit({
          schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
          action
        } as any);
      }
      jest.advanceTimersByTime(500);
      expect(client.runs.mock.calls.length).toBe(before + 1);
      runs.dispose();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('NotebookRuns', () => {
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

  it('shows tier, start, duration, cost and end, and opens the history filtered', async () => {
    const { model, follow } = fakeModel();
    const runs = new NotebookRunsModel({ model });
    const onOpenHistory = jest.fn();
    act(() =>
      root.render(
        <NotebookRuns runs={runs} trans={trans} onOpenHistory={onOpenHistory} />
      )
    );
    expect(host.textContent).toBe('');
    await act(async () => {
      follow('work/train.ipynb');
      await runs.refresh();
    });
    const items = host.querySelectorAll('.jp-ComputePanel-notebookRun');
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain('running');
    expect(items[0].textContent).toContain('0.01 USD so far');
    expect(items[1].textContent).toContain('RTX 4090 prototyping');
    expect(items[1].textContent).toContain('2026-01-01 00:00 · 12 min 05 s');
    expect(items[1].textContent).toContain('0.10 USD');
    // The exact amount on hover.
    expect(
      items[1]
        .querySelector('.jp-ComputePanel-notebookRunCost')!
        .getAttribute('title')
    ).toBe('0.100694 USD');
    expect(
      items[1]
        .querySelector('.jp-ComputePanel-notebookRunEnd')!
        .getAttribute('title')
    ).toContain('idle');
    expect(host.textContent).toContain('Latest 2 of 7 runs.');
    act(() =>
      (
        host.querySelector('.jp-ComputePanel-openHistory') as HTMLElement
      ).click()
    );
    expect(onOpenHistory).toHaveBeenCalledWith({
      notebook: 'work/train.ipynb',
      user: 'student'
    });
    runs.dispose();
  });

  it('says when a notebook has no runs yet', async () => {
    const { model, client, follow } = fakeModel();
    client.runs.mockResolvedValue({
      runs: [],
      count: 0,
      totals: [],
      server_time: ''
    });
    const runs = new NotebookRunsModel({ model });
    act(() => root.render(<NotebookRuns runs={runs} trans={trans} />));
    await act(async () => {
      follow('new.ipynb');
      await runs.refresh();
    });
    expect(host.textContent).toContain('No runs yet');
    expect(host.querySelector('.jp-ComputePanel-openHistory')).toBeNull();
    runs.dispose();
  });
});
