import MockAdapter from 'axios-mock-adapter';
import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import {
  ComputePanelAPI,
  ComputePanelClient,
  ComputePanelError,
  filenameFromDisposition
} from '../api';
import { GrantList } from '../components/GrantList';
import { DashboardView } from '../dashboard/DashboardView';
import {
  formValues,
  grantEdit,
  GrantEditForm,
  MembersEditor,
  newGrantBody,
  emptyNewGrant,
  NewGrantForm
} from '../dashboard/grants';
import { DashboardMarks, DashboardModel } from '../dashboard/model';
import { formatExactMicros, sumMicros } from '../money';
import { makeDashboard, makeFakeClient, makeGrant, makeRun } from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

function runsPage(count = 3): ComputePanelAPI.IRunPage {
  return {
    runs: Array.from({ length: Math.min(count, 100) }, (_, i) =>
      makeRun({
        id: `r${i}`,
        status: 'closed',
        user: i % 2 ? 'ravi' : 'student'
      })
    ),
    count,
    totals: [{ amount: '41.343612', currency: 'USD' }],
    server_time: '2026-03-20T12:00:00Z'
  };
}

function fakeClient(data = makeDashboard()) {
  const client = makeFakeClient();
  client.dashboard.mockResolvedValue(data);
  client.runs.mockResolvedValue(runsPage());
  return client;
}

const setValue = (
  input: HTMLInputElement | HTMLSelectElement,
  value: string
) => {
  const proto =
    input instanceof HTMLSelectElement
      ? HTMLSelectElement.prototype
      : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.dispatchEvent(new Event('change', { bubbles: true }));
};

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
    await model.saveGrant({ budget: '6000.00', title: 'New' });
    expect(client.patchGrant).toHaveBeenCalledWith('nsf-1', {
      budget: '6000.00',
      title: 'New'
    });
    expect(client.setBudget).not.toHaveBeenCalled();
    expect(client.dashboard).toHaveBeenCalledTimes(2);
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
    expect(kpi('spent')).toBe('41.343612 USD');
    expect(kpi('committed')).toBe('0.50 USD');
    expect(kpi('remaining')).toBe('4958.656388 USD');
    expect(kpi('burn7')).toBe('0.514286 USD / day');
    expect(kpi('burn30')).toBe('0.667130 USD / day');
    expect(kpi('forecast')).toBe('2046-09-12');
    expect(host.querySelector('[data-kpi="forecast"]')!.textContent).toContain(
      'after the end date, 2027-12-31'
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
        message: 'end_date: must not be before start_date',
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
    expect(error.textContent).toBe('end_date: must not be before start_date');
  });
});

describe('grant forms', () => {
  it('sends only what changed, budget apart', () => {
    const grant = makeDashboard().grant;
    const before = formValues(grant);
    expect(grantEdit(before, before)).toEqual({ patch: {}, errors: {} });
    const after = {
      ...before,
      budget: '5000.000000', // the same amount
      title: ' Better title ',
      allowed_tiers: ['h200'],
      alert_thresholds: '80; 50, 100',
      hard_stop: false,
      min_runtime_minutes: '5',
      sensitive: true
    };
    expect(grantEdit(before, after)).toEqual({
      patch: {
        title: 'Better title',
        allowed_tiers: ['h200'],
        alert_thresholds: [80, 50, 100],
        hard_stop: false,
        min_runtime_minutes: '5',
        sensitive: true
      },
      errors: {}
    });
    expect(grantEdit(before, { ...before, budget: '7500.5' }).patch).toEqual({
      budget: '7500.5'
    });
    // Minutes stay a decimal string: the server refuses JSON floats.
    expect(
      grantEdit(before, { ...before, min_runtime_minutes: '7.5' }).patch
    ).toEqual({ min_runtime_minutes: '7.5' });
  });

  it('catches what is not a number before asking the server', () => {
    const before = formValues(makeDashboard().grant);
    const edit = grantEdit(before, {
      ...before,
      budget: '12,50',
      alert_thresholds: 'fifty',
      min_runtime_minutes: '1e3'
    });
    expect(Object.keys(edit.errors).sort()).toEqual([
      'alert_thresholds',
      'budget',
      'min_runtime_minutes'
    ]);
  });

  it('builds the POST body of a new grant', () => {
    const values = {
      ...emptyNewGrant('2026-03-01'),
      id: 'erc-1',
      award_number: 'ERC 1',
      title: 'T',
      funder: 'ERC',
      pi: 'alice',
      budget: '1000.00',
      currency: 'eur',
      end_date: '2027-03-01',
      co_pis: 'bob, carol',
      members: 'dan;eve'
    };
    expect(newGrantBody(values)).toEqual({
      id: 'erc-1',
      award_number: 'ERC 1',
      title: 'T',
      funder: 'ERC',
      pi: 'alice',
      budget: '1000.00',
      currency: 'EUR',
      start_date: '2026-03-01',
      end_date: '2027-03-01',
      co_pis: ['bob', 'carol'],
      members: [
        { user: 'dan', role: 'member' },
        { user: 'eve', role: 'member' }
      ],
      allowed_tiers: null,
      alert_thresholds: [50, 80, 100],
      hard_stop: true,
      min_runtime_minutes: '15',
      sensitive: false
    });
  });

  describe('rendered', () => {
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

    it('labels every field of the edit form', () => {
      act(() =>
        root.render(
          <GrantEditForm
            grant={makeDashboard().grant}
            tiers={makeDashboard().tiers}
            trans={trans}
            onSave={jest.fn()}
            onClose={jest.fn()}
          />
        )
      );
      for (const input of Array.from(host.querySelectorAll('input'))) {
        const labelled =
          (input.id && host.querySelector(`label[for="${input.id}"]`)) ||
          input.closest('label');
        expect(labelled).toBeTruthy();
      }
    });

    it('adds, changes and removes members; a refusal stays on its row', async () => {
      const onSet = jest.fn().mockResolvedValue(undefined);
      const onRemove = jest
        .fn()
        .mockRejectedValue(
          new ComputePanelError({ status: 409, message: 'No' })
        );
      act(() =>
        root.render(
          <MembersEditor
            grant={makeDashboard().grant}
            editable={true}
            trans={trans}
            onSet={onSet}
            onRemove={onRemove}
          />
        )
      );
      // The PI can be neither removed nor demoted here.
      const piRow = host.querySelector('tr[data-user="student"]')!;
      expect(piRow.querySelector('button')).toBeNull();
      expect(piRow.querySelector('select')).toBeNull();

      const ravi = host.querySelector('tr[data-user="ravi"]')!;
      await act(async () => setValue(ravi.querySelector('select')!, 'viewer'));
      expect(onSet).toHaveBeenCalledWith('ravi', 'viewer');

      await act(async () => ravi.querySelector('button')!.click());
      expect(onRemove).toHaveBeenCalledWith('ravi');
      expect(ravi.querySelector('[role="alert"]')!.textContent).toBe('No');

      const add = host.querySelector('form')!;
      act(() => setValue(add.querySelector('input')!, 'mia'));
      await act(async () => {
        add.dispatchEvent(
          new Event('submit', { bubbles: true, cancelable: true })
        );
      });
      expect(onSet).toHaveBeenLastCalledWith('mia', 'member');
    });

    it('shows a refused new grant next to its field', async () => {
      const onCreate = jest.fn().mockRejectedValue(
        new ComputePanelError({
          status: 422,
          message: 'id: must be 1-64 letters, digits',
          field: 'id'
        })
      );
      act(() =>
        root.render(
          <NewGrantForm
            tiers={[]}
            trans={trans}
            today="2026-03-01"
            onCreate={onCreate}
          />
        )
      );
      const form = host.querySelector('form')!;
      await act(async () => {
        form.dispatchEvent(
          new Event('submit', { bubbles: true, cancelable: true })
        );
      });
      expect(onCreate).toHaveBeenCalled();
      const id = host.querySelector('input[name="id"]')!;
      expect(id.getAttribute('aria-invalid')).toBe('true');
      expect(
        document.getElementById(id.getAttribute('aria-describedby')!)!
          .textContent
      ).toBe('id: must be 1-64 letters, digits');
    });
  });
});

describe('the panel grant area', () => {
  it('offers the dashboard to PIs, viewers and admins, not to members', () => {
    const host = document.createElement('div');
    const root = createRoot(host);
    const onOpen = jest.fn();
    act(() =>
      root.render(
        <GrantList
          grants={[
            makeGrant('mine', { role: 'pi' }),
            makeGrant('seen', { role: 'viewer' }),
            makeGrant('charged', { role: 'member' }),
            makeGrant('admin', { role: null })
          ]}
          trans={trans}
          onOpenDashboard={onOpen}
        />
      )
    );
    const withButton = Array.from(host.querySelectorAll('li'))
      .filter(li => li.querySelector('button'))
      .map(li => li.getAttribute('data-grant'));
    expect(withButton).toEqual(['mine', 'seen', 'admin']);
    act(() => host.querySelector('button')!.click());
    expect(onOpen).toHaveBeenCalledWith('mine');
    act(() => root.unmount());
  });
});

describe('ComputePanelClient (dashboard endpoints)', () => {
  let client: ComputePanelClient;
  let mock: MockAdapter;

  beforeEach(() => {
    client = new ComputePanelClient({
      serverSettings: { baseUrl: 'http://localhost:8888/', token: 't' },
      cookies: () => '_xsrf=x1'
    });
    mock = new MockAdapter(client.http);
  });

  afterEach(() => mock.restore());

  it('gets the dashboard of an escaped grant id', async () => {
    mock.onGet('grants/a%2Fb/dashboard').reply(200, makeDashboard());
    const data = await client.dashboard('a/b');
    expect(data.summary.spent).toBe('41.343612');
  });

  it('sends search and sort to /runs', async () => {
    mock.onGet('runs').reply(200, runsPage());
    await client.runs({ grant: 'g', q: 'train', sort: '-cost', limit: 100 });
    expect(mock.history.get[0].params).toEqual({
      grant: 'g',
      q: 'train',
      sort: '-cost',
      limit: '100'
    });
  });

  it('downloads an export with its file name and the auth headers', async () => {
    mock
      .onGet('grants/g/export/user.csv')
      .reply(200, new Blob(['user,amount\n']), {
        'content-disposition': 'attachment; filename="g-by-user.csv"'
      });
    const file = await client.exportTable('g', 'user', 'csv');
    expect(file.filename).toBe('g-by-user.csv');
    expect(file.blob).toBeInstanceOf(Blob);
    const request = mock.history.get[0];
    expect(request.responseType).toBe('blob');
    expect(request.headers?.['Authorization']).toBe('token t');
    expect(request.headers?.['X-XSRFToken']).toBe('x1');
  });

  it('exports the runs as filtered, without sort or page', async () => {
    mock.onGet('grants/g/export/runs.csv').reply(200, new Blob(['id\n']));
    await client.exportTable('g', 'runs', 'csv', {
      grant: 'g',
      user: 'ravi',
      q: 'train',
      sort: '-cost'
    });
    expect(mock.history.get[0].params).toEqual({ user: 'ravi', q: 'train' });
    mock.onGet('grants/g/export/user.json').reply(200, new Blob(['{}']));
    await client.exportTable('g', 'user', 'json', { user: 'ravi' });
    expect(mock.history.get[1].params).toEqual({});
  });

  it("reads the server's message out of a refused download", async () => {
    mock.onGet('grants/g/export/runs.json').reply(
      403,
      new Blob([JSON.stringify({ message: 'Only the PI may export' })], {
        type: 'application/json'
      })
    );
    await expect(client.exportTable('g', 'runs', 'json')).rejects.toMatchObject(
      {
        status: 403,
        message: 'Only the PI may export'
      }
    );
  });

  it('names downloads safely', () => {
    expect(filenameFromDisposition('attachment; filename="a.csv"')).toBe(
      'a.csv'
    );
    expect(
      filenameFromDisposition("attachment; filename*=UTF-8''r%C3%A9.json")
    ).toBe('ré.json');
    expect(
      filenameFromDisposition('attachment; filename="../../etc/x.csv"')
    ).toBe('x.csv');
    expect(filenameFromDisposition('attachment')).toBeNull();
  });

  it('patches and creates grants, with 422 errors naming their field', async () => {
    mock.onPatch('grants/g').reply(200, makeGrant('g', { title: 'New' }));
    expect((await client.patchGrant('g', { title: 'New' })).title).toBe('New');
    expect(JSON.parse(mock.history.patch[0].data)).toEqual({ title: 'New' });
    mock
      .onPost('grants')
      .reply(422, { message: 'budget: must not be negative', field: 'budget' });
    await expect(
      client.createGrant(
        newGrantBody({ ...emptyNewGrant('2026-01-01'), budget: '-1' })
      )
    ).rejects.toMatchObject({ status: 422, field: 'budget' });
  });

  it('edits the budget and the members', async () => {
    mock.onPut('grants/g/budget').reply(200, makeGrant('g'));
    mock.onPut('grants/g/members/ravi').reply(200, makeGrant('g'));
    mock.onDelete('grants/g/members/ravi').reply(200, makeGrant('g'));
    await client.setBudget('g', '10.00');
    await client.setMember('g', 'ravi', 'viewer');
    await client.removeMember('g', 'ravi');
    expect(JSON.parse(mock.history.put[0].data)).toEqual({ budget: '10.00' });
    expect(JSON.parse(mock.history.put[1].data)).toEqual({ role: 'viewer' });
    expect(mock.history.delete).toHaveLength(1);
  });
});
