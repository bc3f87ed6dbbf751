import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { DashboardView } from '../dashboard/DashboardView';
import { DashboardMarks, DashboardModel } from '../dashboard/model';
import { formatExactMicros, sumMicros } from '../money';
import { makeDashboard, makeGrant } from './fixtures';
import { fakeClient, setValue } from './dashboardFixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

describe('DashboardModel', () => {
  it('loads the figures and the first runs page together', async () => {
    const client = fakeClient();
    const model = new DashboardModel({ grantId: 'nsf-1', client });
    expect(model.status).toBe('loading');
    await model.refresh();
    expect(client.dashboard).toHaveBeenCalledWith('nsf-1');
    expect(client.runs).toHaveBeenCalledTimes(1);
    expect(client.runs.mock.calls[0][0]).toEqual({
      grant: 'nsf-1',
      sort: '-started',
      limit: 100,
      offset: 0
    });
    expect(model.status).toBe('ready');
    expect(model.data!.summary.spent).toBe('41.343612');
    expect(model.runs.count).toBe(3);
    model.dispose();
  });

  it('measures from the data to the paint', async () => {
    const saved = performance.measure;
    const measure = jest.fn();
    (performance as any).measure = measure;
    try {
      const model = new DashboardModel({
        grantId: 'nsf-1',
        client: fakeClient()
      });
      await model.refresh();
      expect(model.dataArrivedAt).not.toBeNull();
      const duration = model.painted();
      expect(duration).toBeGreaterThanOrEqual(0);
      expect(model.painted()).toBeNull(); // once per arrival
      expect(measure).toHaveBeenCalledTimes(1);
      expect(measure.mock.calls[0][0]).toBe(DashboardMarks.paint);
      expect(measure.mock.calls[0][1]).toMatchObject({
        duration,
        detail: { grantId: 'nsf-1' }
      });
      model.dispose();
    } finally {
      (performance as any).measure = saved;
    }
  });

  it('says why when the dashboard is refused (a member, or a stranger)', async () => {
    const client = fakeClient();
    client.dashboard.mockRejectedValue(
      new ComputePanelError({
        status: 403,
        message:
          'Only the PI, co-PIs and viewers of NSF 1 may see its dashboard'
      })
    );
    const model = new DashboardModel({ grantId: 'nsf-1', client });
    await model.refresh();
    expect(model.status).toBe('error');
    expect(model.error).toBe(
      'Only the PI, co-PIs and viewers of NSF 1 may see its dashboard'
    );
    model.dispose();
  });

  it('drops its figures for the sentence while the ledger is unreachable', async () => {
    const client = fakeClient();
    const model = new DashboardModel({ grantId: 'nsf-1', client });
    await model.refresh();
    expect(model.status).toBe('ready');
    expect(model.data).not.toBeNull();
    const sentence =
      'The compute ledger is unreachable (its disk is full), so its figures cannot be shown and paid tiers cannot start; running kernels keep running and Local CPU still works.';
    client.dashboard.mockRejectedValue(
      new ComputePanelError({ status: 503, message: sentence })
    );
    await model.refresh();
    expect(model.status).toBe('error');
    expect(model.data).toBeNull();
    expect(model.error).toBe(sentence);
    model.dispose();
  });

  it('keeps its figures through another failed refresh', async () => {
    const client = fakeClient();
    const model = new DashboardModel({ grantId: 'nsf-1', client });
    await model.refresh();
    client.dashboard.mockRejectedValue(
      new ComputePanelError({
        status: 500,
        message: 'The server answered 500.'
      })
    );
    await model.refresh();
    expect(model.status).toBe('ready');
    expect(model.data).not.toBeNull();
    model.dispose();
  });

  it('refreshes once after a burst of run events of its grant', async () => {
    jest.useFakeTimers();
    try {
      const events = new Signal<unknown, { schema_id: string }>({});
      const client = fakeClient();
      const model = new DashboardModel({
        grantId: 'nsf-1',
        client,
        events,
        refreshDelay: 1000
      });
      const event = (grant: string, action: string) =>
        events.emit({
          schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
          grant_id: grant,
          action
        } as any);
      event('nsf-1', 'closed');
      event('nsf-1', 'started');
      event('other', 'closed');
      event('nsf-1', 'heartbeat');
      expect(client.dashboard).not.toHaveBeenCalled();
      await act(async () => {
        jest.advanceTimersByTime(1000);
      });
      expect(client.dashboard).toHaveBeenCalledTimes(1);
      model.dispose();
      event('nsf-1', 'closed');
      jest.advanceTimersByTime(5000);
      expect(client.dashboard).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('saves every change in one PATCH, then reloads', async () => {
    const client = fakeClient();
    client.patchGrant.mockResolvedValue(makeGrant('nsf-1'));
    const model = new DashboardModel({ grantId: 'nsf-1', client });
    await model.refresh();
    // The panel and the move dialog hear of the edit (their grants reload).
    let changes = 0;
    model.grantChanged.connect(() => changes++);
    await model.saveGrant({ budget: '6000.00', title: 'New' });
    expect(changes).toBe(1);
    expect(client.patchGrant).toHaveBeenCalledWith('nsf-1', {
      budget: '6000.00',
      title: 'New'
    });
    expect(client.setBudget).not.toHaveBeenCalled();
    expect(client.dashboard).toHaveBeenCalledTimes(2);
    model.dispose();
  });

  it('asks before an edit that stops running kernels, and says so when saving', async () => {
    const client = fakeClient();
    client.patchGrant.mockResolvedValue(makeGrant('nsf-1'));
    const stops = {
      grant_id: 'nsf-1',
      budget: '1.00',
      hard_stop: true,
      spent: '12.345678',
      currency: 'USD',
      kernels: [
        {
          run_id: 'r1',
          kernel_id: 'k1',
          user: 'bob',
          notebook: 'train.ipynb',
          tier_label: 'H200 training',
          rate_per_hour: '3.50',
          currency: 'USD',
          started: '2026-11-23T17:00:00Z'
        }
      ]
    };
    client.editStops.mockResolvedValue(stops);
    const model = new DashboardModel({ grantId: 'nsf-1', client });
    await model.refresh();

    // Kept running: nothing saved, the form's message.
    const keep = jest.fn().mockRejectedValue(new Error('Not saved.'));
    await expect(model.saveGrant({ budget: '1.00' }, keep)).rejects.toThrow(
      'Not saved.'
    );
    expect(client.editStops).toHaveBeenCalledWith('nsf-1', {
      budget: '1.00',
      hard_stop: undefined
    });
    expect(keep).toHaveBeenCalledWith(stops);
    expect(client.patchGrant).not.toHaveBeenCalled();

    // Saved anyway: the PATCH says the user knows.
    const stop = jest.fn().mockResolvedValue(undefined);
    await model.saveGrant({ budget: '1.00' }, stop);
    expect(client.patchGrant).toHaveBeenCalledWith('nsf-1', {
      budget: '1.00',
      stop_kernels: true
    });

    // An edit that stops nothing, or of other fields, is not asked about.
    client.editStops.mockResolvedValue({ ...stops, kernels: [] });
    const never = jest.fn();
    await model.saveGrant({ budget: '6000.00' }, never);
    await model.saveGrant({ title: 'New' }, never);
    expect(never).not.toHaveBeenCalled();
    expect(client.editStops).toHaveBeenCalledTimes(3);
    expect(client.patchGrant).toHaveBeenLastCalledWith('nsf-1', {
      title: 'New'
    });
    model.dispose();
  });
});

describe('DashboardView', () => {
  let host: HTMLDivElement;
  let root: Root;
  let model: DashboardModel;
  const onExport = jest.fn().mockResolvedValue(undefined);

  beforeEach(async () => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
    onExport.mockClear();
  });

  afterEach(() => {
    act(() => root.unmount());
    host.remove();
    model?.dispose();
  });

  const show = async (data = makeDashboard(), client = fakeClient(data)) => {
    model = new DashboardModel({ grantId: 'nsf-1', client });
    await model.refresh();
    act(() =>
      root.render(
        <DashboardView
          model={model}
          trans={trans}
          onExport={onExport}
          confirmRemove={async () => true}
        />
      )
    );
    return client;
  };

  const section = (name: string) =>
    host.querySelector(`[data-section="${name}"]`) as HTMLElement;
  const showTable = (name: string) =>
    act(() => {
      Array.from(section(name).querySelectorAll('button'))
        .find(b => b.textContent === 'Table')!
        .click();
    });

  it('shows the summary with the exact figures of the server', async () => {
    await show();
    const kpi = (name: string) =>
      host.querySelector(`[data-kpi="${name}"] .jp-ComputePanel-kpiValue`)!
        .textContent;
    expect(kpi('budget')).toBe('5000.00 USD');
    expect(kpi('spent')).toBe('41.34 USD');
    expect(kpi('committed')).toBe('0.50 USD');
    expect(kpi('remaining')).toBe('4958.66 USD');
    expect(kpi('burn7')).toBe('0.51 USD / day');
    expect(kpi('burn30')).toBe('0.67 USD / day');
    // The exact micro-amounts on hover.
    const exact = (name: string) =>
      host
        .querySelector(`[data-kpi="${name}"] .jp-ComputePanel-kpiValue`)!
        .getAttribute('title');
    expect(exact('spent')).toBe('41.343612 USD');
    expect(exact('remaining')).toBe('4958.656388 USD');
    expect(exact('burn7')).toBe('0.514286 USD / day');
    // 2046 is past the grant's end: no date a PI could act on.
    expect(kpi('forecast')).toBe('Not before the end date');
    expect(host.querySelector('[data-kpi="forecast"]')!.textContent).toContain(
      'the grant ends on 2027-12-31'
    );
    expect(host.querySelector('h1')!.textContent).toBe(
      'AWD nsf-1 — Grant nsf-1'
    );
  });

  it('warns when the grant runs out before its end date', async () => {
    const data = makeDashboard();
    data.summary = {
      ...data.summary,
      forecast_exhaustion: '2026-06-01',
      exhausts_before_end: true
    };
    await show(data);
    const card = host.querySelector('[data-kpi="forecast"]')!;
    expect(card.classList.contains('jp-mod-warning')).toBe(true);
    expect(card.textContent).toContain('before the end date, 2027-12-31');
  });

  it('draws accessible charts: role img, a label, tooltips', async () => {
    await show();
    const svgs = Array.from(host.querySelectorAll('svg[role="img"]'));
    // month, burn-down, tier, user, notebook
    expect(svgs).toHaveLength(5);
    for (const svg of svgs) {
      expect(svg.getAttribute('aria-label')).toBeTruthy();
    }
    const month = section('month').querySelector('svg')!;
    expect(month.getAttribute('aria-label')).toBe(
      'Spend by month and tier in USD, stacked bars, 3 months from 2026-01 to 2026-03'
    );
    const titles = Array.from(month.querySelectorAll('rect > title')).map(
      t => t.textContent
    );
    expect(titles).toContain('2026-03 · H200 training: 21.613889 USD');
    expect(
      section('month').querySelector('.jp-ComputePanel-legend')!.textContent
    ).toBe('RTX 4090 prototypingH200 training');
    // The burn-down marks the budget and the end date.
    const burn = section('burn');
    expect(
      burn.querySelector('.jp-ComputePanel-budgetLine title')!.textContent
    ).toBe('Budget: 5000.00 USD');
    expect(
      burn.querySelector('.jp-ComputePanel-endMark title')!.textContent
    ).toBe('End date: 2027-12-31');
  });

  it('shows the spend of both users, whose sum is the total, to the micro-unit', async () => {
    await show();
    // The chart says it...
    const bars = Array.from(
      section('user').querySelectorAll('.jp-ComputePanel-hbar')
    );
    expect(bars.map(b => b.querySelector('title')!.textContent)).toEqual([
      'student: 28.10 USD',
      'ravi: 13.243612 USD'
    ]);
    // ...and so does the table, with a caption and an exact total.
    showTable('user');
    const table = section('user').querySelector('table')!;
    expect(table.querySelector('caption')!.textContent).toBe(
      'Spend by user (USD)'
    );
    const rows = Array.from(table.querySelectorAll('tbody tr')).map(tr =>
      Array.from(tr.children).map(c => c.textContent)
    );
    expect(rows).toEqual([
      ['student', '28.10', '68.0 %'],
      ['ravi', '13.243612', '32.0 %']
    ]);
    const total = table.querySelector('.jp-ComputePanel-total')!.textContent!;
    expect(total).toBe('41.343612');
    expect(formatExactMicros(sumMicros(rows.map(r => r[1]!)))).toBe(total);
    expect(total).toBe(model.data!.summary.spent);
  });

  it('shows every breakdown table summing to the spent total', async () => {
    await show();
    for (const name of ['tier', 'user', 'notebook', 'month']) {
      showTable(name);
      const total = section(name).querySelector('.jp-ComputePanel-total')!;
      expect(total.textContent).toBe('41.343612');
    }
    const month = section('month').querySelector('table')!;
    const feb = Array.from(month.querySelectorAll('tbody tr'))[1];
    expect(Array.from(feb.children).map(c => c.textContent)).toEqual([
      '2026-02',
      '0.00',
      '0.00',
      '0.00'
    ]);
    const foot = Array.from(month.querySelectorAll('tfoot td')).map(
      c => c.textContent
    );
    expect(foot).toEqual(['5.329723', '36.013889', '41.343612']);
    // A notebook-less run is named.
    expect(section('notebook').textContent).toContain('(no notebook)');
  });

  it('exports each table as CSV and JSON', async () => {
    await show();
    for (const table of ['runs', 'tier', 'user', 'notebook', 'month']) {
      for (const format of ['csv', 'json']) {
        const button = host.querySelector(
          `[data-export="${table}.${format}"]`
        ) as HTMLButtonElement;
        expect(button).not.toBeNull();
        await act(async () => {
          button.click();
        });
        expect(onExport).toHaveBeenLastCalledWith(table, format);
      }
    }
  });

  it('shows an export refusal next to its buttons', async () => {
    await show();
    onExport.mockRejectedValueOnce(new Error('Not allowed'));
    await act(async () => {
      (
        host.querySelector('[data-export="user.csv"]') as HTMLButtonElement
      ).click();
    });
    expect(section('user').querySelector('[role="alert"]')!.textContent).toBe(
      'Not allowed'
    );
  });

  it('offers editing only when the server says the user may edit', async () => {
    await show(makeDashboard({ may_edit: false }));
    const buttons = Array.from(host.querySelectorAll('button')).map(
      b => b.textContent
    );
    expect(buttons).not.toContain('Edit grant');
    expect(host.querySelector('.jp-ComputePanel-addMember')).toBeNull();
  });

  it('edits the grant and shows a server refusal next to its field', async () => {
    const client = fakeClient();
    client.patchGrant.mockRejectedValue(
      new ComputePanelError({
        status: 422,
        message: 'The end date must not be before the start date',
        field: 'end_date'
      })
    );
    await show(makeDashboard(), client);
    act(() => {
      Array.from(host.querySelectorAll('button'))
        .find(b => b.textContent === 'Edit grant')!
        .click();
    });
    const form = host.querySelector('form[aria-label="Edit grant AWD nsf-1"]')!;
    const end = form.querySelector('input[type="date"]') as HTMLInputElement;
    act(() => setValue(end, '2025-01-01'));
    await act(async () => {
      form.dispatchEvent(
        new Event('submit', { bubbles: true, cancelable: true })
      );
    });
    expect(client.patchGrant).toHaveBeenCalledWith('nsf-1', {
      end_date: '2025-01-01'
    });
    expect(client.setBudget).not.toHaveBeenCalled();
    const input = host.querySelector('input[type="date"]') as HTMLInputElement;
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const error = document.getElementById(
      input.getAttribute('aria-describedby')!
    )!;
    expect(error.textContent).toBe(
      'The end date must not be before the start date'
    );
  });
});
