import { Notification } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { ComputePanelAPI, IBudgetClient } from '../api';
import {
  alertMessage,
  BudgetNotifier,
  countdownMessage,
  formatCountdown,
  secondsUntil,
  stopMessage
} from '../notifications/budget';
import {
  NOTIFICATION_LIMIT,
  readerOf,
  spentAdvice
} from '../notifications/whole';
import { ComputePanelModel, IEventEmission } from '../model';
import { makeFakeClient, makeGrant } from './fixtures';

const trans = nullTranslator.load('jupyterlab_compute_panel');
const KERNEL = 'k-robust';
const REASON =
  'Grant NSF CNS-2401234 has 0.25 USD left of its 10.00 USD budget, and its 1 running kernel spends 3.60 USD an hour: its paid kernels are stopped when it runs out.';

function makeAlert(
  overrides: Partial<ComputePanelAPI.IBudgetAlert> = {}
): ComputePanelAPI.IBudgetAlert {
  return {
    id: 'a-80',
    grant_id: 'nsf-1',
    award_number: 'NSF CNS-2401234',
    grant_title: 'Robust vision',
    threshold_pct: 80,
    spent: '8.01',
    budget: '10.00',
    currency: 'USD',
    hard_stop: true,
    created: '2026-11-23T17:40:00.000Z',
    delivered: null,
    ...overrides
  };
}

function makeCountdown(
  overrides: Partial<ComputePanelAPI.ICountdown> = {}
): ComputePanelAPI.ICountdown {
  return {
    kernel_id: KERNEL,
    run_id: 'run-7',
    grant_id: 'nsf-1',
    tier_label: 'H200 training',
    notebook: 'robust.ipynb',
    stop_at: '2026-11-23T17:45:00.000Z',
    seconds_left: 250,
    reason: REASON,
    ...overrides
  };
}

function makeStop(
  overrides: Partial<ComputePanelAPI.IBudgetStop> = {}
): ComputePanelAPI.IBudgetStop {
  return {
    kernel_id: KERNEL,
    run_id: 'run-7',
    grant_id: 'nsf-1',
    tier_label: 'H200 training',
    notebook: 'robust.ipynb',
    stopped_at: '2026-11-23T17:45:00.400Z',
    warned: true,
    message:
      "Grant NSF CNS-2401234 has spent its budget (10.004 of 10.00 USD), so its H200 training kernel was stopped: the grant's PI can raise its budget, and the notebook can move to a free tier meanwhile.",
    ...overrides
  };
}

describe('formatCountdown', () => {
  it.each([
    [0, '0:00'],
    [-3, '0:00'],
    [9, '0:09'],
    [59.2, '1:00'],
    [300, '5:00'],
    [3599, '59:59'],
    [3723, '1:02:03'],
    [NaN, '0:00']
  ])('%p seconds read %p', (seconds, text) => {
    expect(formatCountdown(seconds)).toBe(text);
  });

  it('rounds the time left up, never below zero', () => {
    expect(secondsUntil(10_500, 10_000)).toBe(1);
    expect(secondsUntil(10_000, 12_000)).toBe(0);
  });
});

describe('messages', () => {
  it('says which threshold of which budget an alert is, whole', () => {
    const messages = [
      alertMessage(makeAlert(), trans),
      alertMessage(makeAlert({ threshold_pct: 100, spent: '10.00' }), trans),
      alertMessage(
        makeAlert({ threshold_pct: 100, spent: '10.50', hard_stop: false }),
        trans
      )
    ];
    expect(messages).toEqual([
      'Grant NSF CNS-2401234 has spent 80 percent of its budget: 8.01 USD of 10.00 USD.',
      'Grant NSF CNS-2401234 has spent its budget (10.00 USD of 10.00 USD): its paid kernels are stopped.',
      'Grant NSF CNS-2401234 has spent 100 percent of its budget (10.50 USD of 10.00 USD), with no hard stop: its kernels keep running.'
    ]);
    // JupyterLab cuts longer messages with an ellipsis.
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(NOTIFICATION_LIMIT);
    }
  });

  it('counts a kernel down in a sentence that reads whole', () => {
    const grant = 'NSF CNS-2401234';
    const messages = [
      countdownMessage(makeCountdown(), 'robust.ipynb', 250, grant, trans),
      countdownMessage(makeCountdown(), null, 5, grant, trans),
      countdownMessage(makeCountdown(), 'robust.ipynb', 0, grant, trans)
    ];
    expect(messages).toEqual([
      'The H200 training kernel of robust.ipynb stops in 4:10, when grant NSF CNS-2401234 runs out.',
      'Your H200 training kernel stops in 0:05, when grant NSF CNS-2401234 runs out.',
      'The H200 training kernel of robust.ipynb is being stopped: grant NSF CNS-2401234 has run out.'
    ]);
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(NOTIFICATION_LIMIT);
    }
  });

  it('says which kernel a budget stopped, whole', () => {
    const stop = makeStop();
    const named = stopMessage(stop, 'robust.ipynb', 'NSF CNS-2401234', trans);
    expect(named).toBe(
      'The H200 training kernel of robust.ipynb was stopped: grant NSF CNS-2401234 has spent its budget.'
    );
    expect(named.length).toBeLessThanOrEqual(NOTIFICATION_LIMIT);
    expect(stopMessage(stop, null, 'nsf-1', trans)).toBe(
      'Your H200 training kernel was stopped: grant nsf-1 has spent its budget.'
    );
  });

  it('tells each reader what they can do in their role', () => {
    const grants = [
      { ...makeGrant('mine'), role: 'pi' as const, pi: 'student' },
      { ...makeGrant('team'), role: 'member' as const, pi: 'alice' },
      { ...makeGrant('seen'), role: 'viewer' as const, pi: 'alice' },
      { ...makeGrant('any'), role: undefined, pi: 'alice' }
    ];
    const advice = (id: string) => spentAdvice(readerOf(grants, id), trans);
    expect(advice('mine')).toBe(
      'You are its PI: raise its budget on its dashboard, and use a free tier meanwhile.'
    );
    expect(advice('mine')).not.toMatch(/ask its PI/i);
    expect(advice('team')).toBe(
      'Ask its PI, alice, to raise the budget, and use a free tier meanwhile.'
    );
    expect(advice('seen')).toBe('Its PI, alice, can raise the budget.');
    expect(advice('any')).toBe(
      'As an admin, you can raise its budget on its dashboard; use a free tier meanwhile.'
    );
    expect(advice('unknown')).toBe(
      "The grant's PI can raise its budget; use a free tier meanwhile."
    );
  });
});

describe('BudgetNotifier', () => {
  let client: jest.Mocked<IBudgetClient>;
  let model: ComputePanelModel;
  let events: Signal<unknown, IEventEmission>;
  let notifier: BudgetNotifier;
  let moveToTier: jest.Mock;
  let now: number;
  let warning: jest.SpyInstance;
  let error: jest.SpyInstance;
  let update: jest.SpyInstance;
  let dismiss: jest.SpyInstance;
  const panel = { id: 'nb-robust' } as unknown as NotebookPanel;

  function answer(data: Partial<ComputePanelAPI.IAlerts>): void {
    client.alerts.mockResolvedValue({
      alerts: [],
      countdowns: [],
      stopped: [],
      server_time: '2026-11-23T17:40:00.000Z',
      ...data
    });
  }

  function lastOptions(spy: jest.SpyInstance): Notification.IOptions<any> {
    return spy.mock.calls[spy.mock.calls.length - 1][1];
  }

  beforeEach(async () => {
    client = {
      alerts: jest.fn(),
      markAlertDelivered: jest
        .fn()
        .mockImplementation(async (id: string) =>
          makeAlert({ id, delivered: '2026-11-23T17:40:01.000Z' })
        )
    };
    answer({});
    model = new ComputePanelModel({ client: makeFakeClient(), poll: false });
    await model.initialize();
    events = new Signal<unknown, IEventEmission>({});
    moveToTier = jest.fn().mockResolvedValue(undefined);
    now = Date.parse('2026-11-23T17:40:00.000Z');
    warning = jest.spyOn(Notification, 'warning').mockReturnValue('warn-1');
    error = jest.spyOn(Notification, 'error').mockReturnValue('error-1');
    update = jest.spyOn(Notification, 'update').mockReturnValue(true);
    dismiss = jest.spyOn(Notification, 'dismiss').mockReturnValue(undefined);
    notifier = new BudgetNotifier({
      client,
      model,
      events,
      poll: false,
      now: () => now,
      findNotebook: kernelId =>
        kernelId === KERNEL ? { label: 'robust.ipynb', panel } : null,
      moveToTier
    });
  });

  afterEach(() => {
    notifier.dispose();
    model.dispose();
    jest.restoreAllMocks();
  });

  it('shows each alert once and marks it delivered', async () => {
    answer({ alerts: [makeAlert()] });
    await notifier.check();
    expect(warning).toHaveBeenCalledTimes(1);
    expect(warning.mock.calls[0][0]).toBe(
      'Grant NSF CNS-2401234 has spent 80 percent of its budget: 8.01 USD of 10.00 USD.'
    );
    expect(client.markAlertDelivered).toHaveBeenCalledWith('a-80');

    // Listed again (its mark failed): marked again, not shown again.
    await notifier.check();
    expect(warning).toHaveBeenCalledTimes(1);
    expect(client.markAlertDelivered).toHaveBeenCalledTimes(2);
  });

  it('shows a spent budget as an error that stays', async () => {
    answer({ alerts: [makeAlert({ id: 'a-100', threshold_pct: 100 })] });
    await notifier.check();
    expect(error).toHaveBeenCalledTimes(1);
    expect(lastOptions(error).autoClose).toBe(false);
    expect(lastOptions(error).actions?.map(a => a.label)).toEqual(['Details']);
  });

  it('counts down with Move to the free tier and Dismiss', async () => {
    answer({ countdowns: [makeCountdown()] });
    await notifier.check();
    expect(warning).toHaveBeenCalledTimes(1);
    expect(warning.mock.calls[0][0]).toBe(
      'The H200 training kernel of robust.ipynb stops in 4:10, when grant AWD nsf-1 runs out.'
    );
    const options = lastOptions(warning);
    expect(options.autoClose).toBe(false);
    expect(options.actions?.map(a => a.label)).toEqual([
      'Move to Local CPU',
      'Details',
      'Dismiss'
    ]);

    // The next round updates the same toast with the server's new figure.
    now += 2000;
    answer({ countdowns: [makeCountdown({ seconds_left: 120 })] });
    await notifier.check();
    expect(warning).toHaveBeenCalledTimes(1);
    expect(update).toHaveBeenLastCalledWith(
      expect.objectContaining({
        id: 'warn-1',
        message:
          'The H200 training kernel of robust.ipynb stops in 2:00, when grant AWD nsf-1 runs out.'
      })
    );

    options.actions?.[0].callback(new MouseEvent('click'));
    expect(moveToTier).toHaveBeenCalledWith(panel, 'local');
  });

  it('drops a countdown the server no longer lists', async () => {
    answer({ countdowns: [makeCountdown()] });
    await notifier.check();
    answer({});
    await notifier.check();
    expect(dismiss).toHaveBeenCalledWith('warn-1');
    expect(error).not.toHaveBeenCalled();
  });

  it('replaces the countdown by an error once the kernel is stopped', async () => {
    answer({ countdowns: [makeCountdown()] });
    await notifier.check();
    const stop = makeStop();
    answer({ stopped: [stop] });
    await notifier.check();
    expect(dismiss).toHaveBeenCalledWith('warn-1');
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0][0]).toBe(
      'The H200 training kernel of robust.ipynb was stopped: grant AWD nsf-1 has spent its budget.'
    );
    expect(lastOptions(error).actions?.map(a => a.label)).toEqual(['Details']);
    expect(stop.message).toBeTruthy();

    // The closed event of the same run says nothing new.
    events.emit({
      schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
      action: 'closed',
      run_id: 'run-7',
      kernel_id: KERNEL,
      tier_id: 'h200',
      grant_id: 'nsf-1',
      cost: '0.25',
      currency: 'USD',
      end_reason: 'budget'
    });
    await notifier.check();
    expect(error).toHaveBeenCalledTimes(1);
  });

  it("shows a stop from the events with the server's sentence", () => {
    const base = {
      schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
      run_id: 'run-9',
      kernel_id: KERNEL,
      tier_id: 'h200',
      grant_id: 'nsf-1',
      cost: '0.25',
      currency: 'USD'
    };
    events.emit({
      ...base,
      action: 'budget_stop',
      end_reason: null,
      message:
        'Grant NSF CNS-2401234 had already spent 12.00 of its 10.00 USD budget.'
    });
    expect(error).not.toHaveBeenCalled();
    events.emit({ ...base, action: 'closed', end_reason: 'budget' });
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0][0]).toBe(
      'The H200 training kernel of robust.ipynb was stopped: grant AWD nsf-1 has spent its budget.'
    );
  });

  it('asks nothing while the server extension is missing', async () => {
    const missing = makeFakeClient();
    missing.version.mockRejectedValue(
      Object.assign(new Error('404'), { response: { status: 404, data: {} } })
    );
    const offline = new ComputePanelModel({ client: missing, poll: false });
    await offline.initialize();
    const quiet = new BudgetNotifier({
      client,
      model: offline,
      poll: false,
      findNotebook: () => null,
      moveToTier
    });
    await quiet.check();
    expect(client.alerts).not.toHaveBeenCalled();
    quiet.dispose();
    offline.dispose();
  });
});
