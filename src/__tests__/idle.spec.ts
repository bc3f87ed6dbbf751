import { Notification } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { formatClock, IdleNotifier } from '../notifications/idle';
import { ComputePanelModel, IEventEmission } from '../model';
import { makeFakeClient } from './fixtures';

const KERNEL = 'k-robust';
const SHUTDOWN_AT = '2026-11-23T17:45:00.000Z';
const KEPT_UNTIL = '2026-11-23T18:00:00.000Z';

function runEvent(
  overrides: Partial<ComputePanelAPI.IRunEvent>
): IEventEmission {
  return {
    schema_id: ComputePanelAPI.RUN_EVENT_SCHEMA,
    action: 'idle_warning',
    run_id: 'run-7',
    kernel_id: KERNEL,
    tier_id: 'h200',
    grant_id: 'nsf-1',
    cost: '0.012300',
    currency: 'USD',
    end_reason: null,
    ...overrides
  } as IEventEmission;
}

/**
 * The last call's options of a spied notification function.
 */
function optionsOf(spy: jest.SpyInstance): Notification.IOptions<any> {
  return spy.mock.calls[spy.mock.calls.length - 1][1];
}

function action(
  options: Notification.IOptions<any>,
  label: string
): Notification.IAction {
  const found = options.actions?.find(a => a.label === label);
  if (!found) {
    throw new Error(`no action ${label}`);
  }
  return found;
}

describe('IdleNotifier', () => {
  let client: ReturnType<typeof makeFakeClient>;
  let model: ComputePanelModel;
  let events: Signal<unknown, IEventEmission>;
  let notifier: IdleNotifier;
  let moveToTier: jest.Mock;
  let warning: jest.SpyInstance;
  let info: jest.SpyInstance;
  let update: jest.SpyInstance;
  let dismiss: jest.SpyInstance;
  const panel = { id: 'nb-robust' } as unknown as NotebookPanel;
  const open = new Map([[KERNEL, { label: 'robust.ipynb', panel }]]);

  beforeEach(async () => {
    client = makeFakeClient();
    model = new ComputePanelModel({ client, poll: false });
    await model.initialize();
    events = new Signal<unknown, IEventEmission>({});
    moveToTier = jest.fn().mockResolvedValue(undefined);
    warning = jest.spyOn(Notification, 'warning').mockReturnValue('warn-1');
    info = jest.spyOn(Notification, 'info').mockReturnValue('info-1');
    update = jest.spyOn(Notification, 'update').mockReturnValue(true);
    dismiss = jest.spyOn(Notification, 'dismiss').mockReturnValue(undefined);
    notifier = new IdleNotifier({
      model,
      events,
      findNotebook: kernelId => open.get(kernelId) ?? null,
      moveToTier,
      formatTime: iso => iso.slice(11, 16)
    });
  });

  afterEach(() => {
    notifier.dispose();
    model.dispose();
    jest.restoreAllMocks();
  });

  it('warns about an idle kernel of an open notebook, with Keep it and Move to the free tier', () => {
    events.emit(runEvent({ shutdown_at: SHUTDOWN_AT }));

    expect(warning).toHaveBeenCalledTimes(1);
    expect(warning.mock.calls[0][0]).toBe(
      'The H200 training kernel of robust.ipynb has been idle and will be shut down at 17:45 to stop charges.'
    );
    const options = optionsOf(warning);
    expect(options.autoClose).toBe(false);
    expect(options.actions?.map(a => a.label)).toEqual([
      'Keep it',
      'Move to Local CPU'
    ]);
  });

  it('ignores kernels of no open notebook and other schemas', () => {
    events.emit(runEvent({ kernel_id: 'elsewhere', shutdown_at: SHUTDOWN_AT }));
    events.emit({ schema_id: 'other', action: 'idle_warning' });
    expect(warning).not.toHaveBeenCalled();
  });

  it('Keep it calls the client and turns the warning into the new deadline', async () => {
    client.keepKernel.mockResolvedValue({
      kernel_id: KERNEL,
      idle_timeout_s: 900,
      shutdown_at: KEPT_UNTIL
    });
    events.emit(runEvent({ shutdown_at: SHUTDOWN_AT }));
    const click = new MouseEvent('click', { cancelable: true });
    action(optionsOf(warning), 'Keep it').callback(click);

    expect(click.defaultPrevented).toBe(true); // the toast stays for the answer
    expect(client.keepKernel).toHaveBeenCalledWith(KERNEL);
    await Promise.resolve();
    await Promise.resolve();
    expect(update).toHaveBeenCalledWith({
      id: 'warn-1',
      message: 'Kept: it will be shut down at 18:00 if it stays idle',
      type: 'info',
      autoClose: 5000,
      actions: []
    });
  });

  it('says so when the kernel cannot be kept', async () => {
    client.keepKernel.mockRejectedValue(
      new ComputePanelError({ status: 404, message: 'No such kernel' })
    );
    events.emit(runEvent({ shutdown_at: SHUTDOWN_AT }));
    action(optionsOf(warning), 'Keep it').callback(new MouseEvent('click'));
    await Promise.resolve();
    await Promise.resolve();
    expect(update).toHaveBeenCalledWith(
      expect.objectContaining({
        id: 'warn-1',
        type: 'error',
        message:
          'The H200 training kernel of robust.ipynb could not be kept: No such kernel'
      })
    );
  });

  it('Move to Local CPU moves that notebook to the free tier', () => {
    events.emit(runEvent({ shutdown_at: SHUTDOWN_AT }));
    action(optionsOf(warning), 'Move to Local CPU').callback(
      new MouseEvent('click')
    );
    expect(moveToTier).toHaveBeenCalledWith(panel, 'local');
    expect(client.keepKernel).not.toHaveBeenCalled();
  });

  it('replaces the warning by the cost once the kernel is culled', () => {
    events.emit(runEvent({ shutdown_at: SHUTDOWN_AT }));
    events.emit(runEvent({ action: 'closed', end_reason: 'culled' }));

    expect(dismiss).toHaveBeenCalledWith('warn-1');
    expect(info).toHaveBeenCalledWith(
      'The idle H200 training kernel of robust.ipynb was shut down; its run cost 0.01 USD.',
      { autoClose: false }
    );
  });

  it('drops the warning quietly when the kernel stops for another reason', () => {
    events.emit(runEvent({ shutdown_at: SHUTDOWN_AT }));
    events.emit(runEvent({ action: 'closed', end_reason: 'shutdown' }));
    expect(dismiss).toHaveBeenCalledWith('warn-1');
    expect(info).not.toHaveBeenCalled();
  });

  it('updates the warning in place when warned again', () => {
    events.emit(runEvent({ shutdown_at: SHUTDOWN_AT }));
    events.emit(runEvent({ shutdown_at: KEPT_UNTIL }));
    expect(warning).toHaveBeenCalledTimes(1);
    expect(update).toHaveBeenCalledWith(
      expect.objectContaining({
        id: 'warn-1',
        type: 'warning',
        message: expect.stringContaining('at 18:00')
      })
    );
  });

  it('stops listening when disposed', () => {
    notifier.dispose();
    events.emit(runEvent({ shutdown_at: SHUTDOWN_AT }));
    expect(warning).not.toHaveBeenCalled();
  });
});

describe('formatClock', () => {
  it('shows hours and minutes, and an unreadable time as it came', () => {
    expect(formatClock(SHUTDOWN_AT)).toMatch(/\d{1,2}[:.]\d{2}/);
    expect(formatClock('soon')).toBe('soon');
  });
});
