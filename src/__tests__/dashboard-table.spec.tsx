import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';

import {
  runFilters,
  DEFAULT_RUNS_QUERY,
  DashboardModel
} from '../dashboard/model';
import { RunsPanel, formatDuration } from '../dashboard/RunsPanel';
import { IPage, Pager, visibleRange } from '../table/pager';
import { IColumn, ISort, VirtualTable } from '../table/VirtualTable';
import { makeDashboard, makeFakeClient, makeRun } from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

interface IRow {
  n: number;
}

/**
 * A server of `total` numbered rows that records every page asked.
 */
function fakeServer(total: number) {
  const asked: { query: string; offset: number; limit: number }[] = [];
  const fetch = jest.fn(
    async (
      query: string,
      offset: number,
      limit: number
    ): Promise<IPage<IRow>> => {
      asked.push({ query, offset, limit });
      const rows: IRow[] = [];
      for (let n = offset; n < Math.min(total, offset + limit); n++) {
        rows.push({ n });
      }
      return { rows, count: total };
    }
  );
  return { fetch, asked };
}

const pagers: Pager<IRow, string>[] = [];

/**
 * A pager disposed after the test.
 */
function makePager(options: Pager.IOptions<IRow, string>): Pager<IRow, string> {
  const pager = new Pager<IRow, string>(options);
  pagers.push(pager);
  return pager;
}

afterEach(() => {
  pagers.splice(0).forEach(pager => pager.dispose());
});

const flush = async () => {
  await act(async () => {
    await new Promise(resolve => setTimeout(resolve, 0));
  });
};

describe('visibleRange', () => {
  it('is the visible rows plus the overscan, clamped', () => {
    expect(visibleRange(0, 400, 28, 100000, 8)).toEqual({ start: 0, end: 24 });
    expect(visibleRange(28 * 5000, 400, 28, 100000, 8)).toEqual({
      start: 4992,
      end: 5024
    });
    expect(visibleRange(28 * 99990, 400, 28, 100000, 8)).toEqual({
      start: 99982,
      end: 100000
    });
    expect(visibleRange(0, 400, 28, 0, 8)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(-50, 400, 28, 3, 8)).toEqual({ start: 0, end: 3 });
  });
});

describe('Pager', () => {
  it('fetches the pages of the rows asked for, once each', async () => {
    const server = fakeServer(100000);
    const pager = makePager({
      fetch: server.fetch,
      query: 'q',
      pageSize: 100
    });
    await pager.load();
    expect(pager.count).toBe(100000);
    expect(pager.rowAt(99)).toEqual({ n: 99 });
    expect(pager.rowAt(100)).toBeUndefined();
    pager.ensure(50, 250);
    pager.ensure(60, 260); // same pages: no new request
    await flush();
    expect(server.asked.map(a => a.offset)).toEqual([0, 100, 200]);
    expect(pager.rowAt(250)).toEqual({ n: 250 });
    pager.dispose();
  });

  it('never asks past the last row', async () => {
    const server = fakeServer(120);
    const pager = makePager({
      fetch: server.fetch,
      query: '',
      pageSize: 100
    });
    await pager.load();
    pager.ensure(0, 10000);
    await flush();
    expect(server.asked.map(a => a.offset)).toEqual([0, 100]);
    pager.dispose();
  });

  it('drops the cache on a new query and ignores late answers of the old one', async () => {
    let release: (() => void) | null = null;
    const fetch = jest.fn(
      (query: string, offset: number): Promise<IPage<IRow>> =>
        new Promise(resolve => {
          const answer = () =>
            resolve({
              rows: [{ n: query === 'old' ? -1 : offset }],
              count: 1
            });
          if (query === 'old' && offset === 0 && release === null) {
            release = answer; // held back until after the new query
          } else {
            answer();
          }
        })
    );
    const pager = makePager({ fetch, query: 'old' });
    const first = pager.load();
    await pager.setQuery('new');
    release!();
    await first;
    expect(pager.query).toBe('new');
    expect(pager.rowAt(0)).toEqual({ n: 0 });
    pager.dispose();
  });

  it('keeps a bounded number of pages while scrolling far', async () => {
    const server = fakeServer(100000);
    const pager = makePager({
      fetch: server.fetch,
      query: '',
      pageSize: 100,
      maxPages: 3
    });
    await pager.load();
    for (const start of [1000, 2000, 3000, 4000]) {
      pager.ensure(start, start + 10);
      await flush();
    }
    const loaded = [0, 1000, 2000, 3000, 4000].filter(
      i => pager.rowAt(i) !== undefined
    );
    expect(loaded).toEqual([2000, 3000, 4000]);
    pager.dispose();
  });

  it('refreshes in place: same count, old rows until the new ones arrive', async () => {
    let version = 1;
    const fetch = jest.fn(
      async (_: string, offset: number): Promise<IPage<IRow>> => ({
        rows: Array.from({ length: 100 }, (__, i) => ({
          n: (offset + i) * version
        })),
        count: 1000
      })
    );
    const pager = makePager({ fetch, query: '' });
    await pager.load();
    pager.ensure(500, 510);
    await flush();
    expect(pager.rowAt(505)).toEqual({ n: 505 });
    version = 2;
    const refreshed = pager.refresh();
    // While page 0 is fetched again, the count and the old rows remain.
    expect(pager.count).toBe(1000);
    expect(pager.rowAt(505)).toEqual({ n: 505 });
    await refreshed;
    expect(pager.rowAt(5)).toEqual({ n: 10 });
    pager.ensure(500, 510);
    await flush();
    expect(pager.rowAt(505)).toEqual({ n: 1010 });
    pager.dispose();
  });

  it('reports a failed page and recovers on reload', async () => {
    const fetch = jest
      .fn()
      .mockRejectedValueOnce(new Error('The server answered 500.'))
      .mockResolvedValue({ rows: [{ n: 0 }], count: 1 });
    const pager = makePager({ fetch, query: '' });
    await pager.load();
    expect(pager.status).toBe('error');
    expect(pager.error).toBe('The server answered 500.');
    await pager.reload();
    expect(pager.status).toBe('ready');
    expect(pager.rowAt(0)).toEqual({ n: 0 });
    pager.dispose();
  });
});

describe('VirtualTable', () => {
  let host: HTMLDivElement;
  let root: Root;
  const columns: IColumn<IRow>[] = [
    { id: 'n', label: 'N', width: '1fr', sortKey: 'n', render: r => r.n },
    {
      id: 'double',
      label: 'Double',
      width: '1fr',
      numeric: true,
      render: r => r.n * 2
    }
  ];

  beforeEach(() => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });

  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const renderTable = async (
    pager: Pager<IRow, string>,
    sort: ISort | null = null,
    onSort = jest.fn()
  ) => {
    act(() =>
      root.render(
        <VirtualTable
          pager={pager}
          columns={columns}
          sort={sort}
          onSort={onSort}
          label="Numbers"
          trans={trans}
          rowKey={r => String(r.n)}
          height={280}
          rowHeight={28}
          overscan={5}
        />
      )
    );
    await flush();
    return onSort;
  };

  const body = () =>
    host.querySelector('.jp-ComputePanel-vtBody') as HTMLElement;
  const renderedRows = () =>
    Array.from(host.querySelectorAll('.jp-ComputePanel-vtBody [role="row"]'));

  it('renders only a window of 100,000 rows, and a spacer of their full height', async () => {
    const server = fakeServer(100000);
    const pager = makePager({ fetch: server.fetch, query: '' });
    await pager.load();
    await renderTable(pager);
    const grid = host.querySelector('[role="grid"]')!;
    expect(grid.getAttribute('aria-rowcount')).toBe('100001');
    // 280 / 28 = 10 visible, +1 partial, +5 overscan below.
    expect(renderedRows()).toHaveLength(16);
    const spacer = host.querySelector(
      '.jp-ComputePanel-vtSpacer'
    ) as HTMLElement;
    expect(spacer.style.height).toBe(`${100000 * 28}px`);
    expect(server.asked).toHaveLength(1);
  });

  it('renders the rows at the scroll position and fetches their page', async () => {
    const server = fakeServer(100000);
    const pager = makePager({ fetch: server.fetch, query: '' });
    await pager.load();
    await renderTable(pager);
    const node = body();
    node.scrollTop = 28 * 50000;
    act(() => {
      node.dispatchEvent(new Event('scroll', { bubbles: true }));
    });
    await flush();
    const rows = renderedRows();
    expect(rows).toHaveLength(21); // 5 above, 11 visible, 5 below
    expect(rows[0].getAttribute('aria-rowindex')).toBe(String(49995 + 2));
    expect((rows[0] as HTMLElement).style.top).toBe(`${49995 * 28}px`);
    expect(rows[5].textContent).toBe('50000100000');
    expect(server.asked.map(a => a.offset)).toEqual([0, 49900, 50000]);
  });

  it('sorts by clicking a header, with aria-sort', async () => {
    const server = fakeServer(10);
    const pager = makePager({ fetch: server.fetch, query: '' });
    await pager.load();
    const onSort = await renderTable(pager, null);
    const header = host.querySelector('[role="columnheader"]')!;
    expect(header.getAttribute('aria-sort')).toBe('none');
    // The non-sortable column has no aria-sort and no button.
    const other = host.querySelectorAll('[role="columnheader"]')[1];
    expect(other.hasAttribute('aria-sort')).toBe(false);
    expect(other.querySelector('button')).toBeNull();
    act(() => header.querySelector('button')!.click());
    expect(onSort).toHaveBeenCalledWith({ key: 'n', descending: true });
    await renderTable(pager, { key: 'n', descending: true }, onSort);
    expect(header.getAttribute('aria-sort')).toBe('descending');
    act(() => header.querySelector('button')!.click());
    expect(onSort).toHaveBeenLastCalledWith({ key: 'n', descending: false });
  });

  it('moves an active row with the keyboard and scrolls it into view', async () => {
    const server = fakeServer(1000);
    const pager = makePager({ fetch: server.fetch, query: '' });
    await pager.load();
    await renderTable(pager);
    const node = body();
    const grid = host.querySelector('[role="grid"]') as HTMLElement;
    expect(grid.tabIndex).toBe(0);
    const key = (k: string) =>
      act(() => {
        grid.dispatchEvent(
          new KeyboardEvent('keydown', { key: k, bubbles: true })
        );
      });
    key('ArrowDown');
    expect(grid.getAttribute('aria-activedescendant')).toMatch(/-row-0$/);
    key('ArrowDown');
    key('ArrowUp');
    key('ArrowDown');
    expect(grid.getAttribute('aria-activedescendant')).toMatch(/-row-1$/);
    key('End');
    await flush();
    expect(node.scrollTop).toBe(999 * 28 + 28 - 280);
    expect(grid.getAttribute('aria-activedescendant')).toMatch(/-row-999$/);
    const active = host.querySelector('.jp-mod-active')!;
    expect(active.getAttribute('aria-selected')).toBe('true');
    key('Home');
    expect(node.scrollTop).toBe(0);
    key('PageDown');
    expect(grid.getAttribute('aria-activedescendant')).toMatch(/-row-9$/);
  });

  it('says so when nothing matches', async () => {
    const server = fakeServer(0);
    const pager = makePager({ fetch: server.fetch, query: '' });
    await pager.load();
    await renderTable(pager);
    expect(renderedRows()).toHaveLength(0);
    expect(host.textContent).toContain('Nothing matches.');
  });
});

describe('runs query', () => {
  it('maps filters, search and sort onto /runs parameters', () => {
    expect(runFilters('g1', DEFAULT_RUNS_QUERY)).toEqual({
      grant: 'g1',
      sort: '-started'
    });
    expect(
      runFilters('g1', {
        user: 'ravi',
        tier: 'h200',
        status: 'closed',
        since: '2026-03-01',
        until: '2026-03-31',
        q: '  train ',
        sort: { key: 'cost', descending: false }
      })
    ).toEqual({
      grant: 'g1',
      user: 'ravi',
      tier: 'h200',
      status: 'closed',
      since: '2026-03-01T00:00:00Z',
      until: '2026-04-01T00:00:00.000Z',
      q: 'train',
      sort: 'cost'
    });
  });

  it('formats durations', () => {
    expect(formatDuration(12.7)).toBe('12 s');
    expect(formatDuration(250)).toBe('4 min 10 s');
    expect(formatDuration(7500)).toBe('2 h 05 min');
  });
});

describe('RunsPanel', () => {
  let host: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    jest.useFakeTimers();
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });

  afterEach(() => {
    act(() => root.unmount());
    host.remove();
    jest.useRealTimers();
  });

  it('refetches on filter and sort at once, and on search after a pause', async () => {
    const client = makeFakeClient();
    client.dashboard.mockResolvedValue(makeDashboard());
    client.runs.mockImplementation(async filters => ({
      runs: [makeRun({ id: `r-${filters?.offset}`, status: 'closed' })],
      count: 1,
      totals: [{ amount: '0.010000', currency: 'USD' }],
      server_time: '2026-03-20T12:00:00Z'
    }));
    const model = new DashboardModel({ grantId: 'nsf-1', client });
    await act(async () => {
      await model.refresh();
    });
    act(() =>
      root.render(
        <RunsPanel
          model={model}
          trans={trans}
          users={['ravi', 'student']}
          tiers={[{ id: 'h200', label: 'H200 training' }]}
          debounce={300}
        />
      )
    );
    expect(host.querySelector('.jp-ComputePanel-runsCount')!.textContent).toBe(
      '1 run · total 0.01 USD'
    );
    const calls = () => client.runs.mock.calls.map(c => c[0]!);
    expect(calls()).toHaveLength(1);

    const select = host.querySelectorAll('select')[0] as HTMLSelectElement;
    await act(async () => {
      const setter = Object.getOwnPropertyDescriptor(
        HTMLSelectElement.prototype,
        'value'
      )!.set!;
      setter.call(select, 'ravi');
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(calls()[1]).toMatchObject({
      grant: 'nsf-1',
      user: 'ravi',
      offset: 0
    });

    const search = host.querySelector(
      'input[type="search"]'
    ) as HTMLInputElement;
    const setText = (value: string) => {
      const setter = Object.getOwnPropertyDescriptor(
        HTMLInputElement.prototype,
        'value'
      )!.set!;
      setter.call(search, value);
      search.dispatchEvent(new Event('input', { bubbles: true }));
    };
    act(() => setText('tr'));
    act(() => jest.advanceTimersByTime(100));
    act(() => setText('train'));
    act(() => jest.advanceTimersByTime(200));
    expect(calls()).toHaveLength(2); // still typing
    await act(async () => {
      jest.advanceTimersByTime(150);
    });
    expect(calls()).toHaveLength(3);
    expect(calls()[2]).toMatchObject({ user: 'ravi', q: 'train' });

    const header = Array.from(
      host.querySelectorAll('[role="columnheader"]')
    ).find(h => h.textContent?.startsWith('Cost'))!;
    await act(async () => {
      header.querySelector('button')!.click();
    });
    expect(calls()[3]).toMatchObject({ sort: '-cost', q: 'train' });
    model.dispose();
  });
});
