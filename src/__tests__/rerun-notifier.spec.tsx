import { Notification } from '@jupyterlab/apputils';

import { pickCompareRun, RerunNotifier } from '../rerun/notifier';
import { makeRun, TIERS } from './fixtures';
import { makeRerun } from './rerunFixtures';

describe('RerunNotifier', () => {
  let client: any;
  let notifier: RerunNotifier;
  let openFile: jest.Mock;
  let compare: jest.Mock;
  let emit: jest.SpyInstance;
  let update: jest.SpyInstance;

  beforeEach(() => {
    client = {
      rerun: jest.fn(),
      cancelRerun: jest.fn(),
      run: jest.fn(),
      runs: jest.fn()
    };
    openFile = jest.fn();
    compare = jest.fn();
    emit = jest.spyOn(Notification, 'emit').mockReturnValue('toast-1');
    update = jest.spyOn(Notification, 'update').mockReturnValue(true);
    jest.spyOn(Notification, 'error').mockReturnValue('err-1');
    notifier = new RerunNotifier({
      client,
      tierLabel: id => TIERS.find(t => t.id === id)?.label ?? id,
      openFile,
      compare,
      poll: false
    });
  });

  afterEach(() => {
    notifier.dispose();
    jest.restoreAllMocks();
  });

  const lastUpdate = () => update.mock.calls[update.mock.calls.length - 1][0];
  const actionOf = (
    options: { actions?: Notification.IAction[] },
    label: string
  ) => {
    const found = options.actions?.find(a => a.label === label);
    if (!found) {
      throw new Error(`no action ${label}`);
    }
    return found;
  };

  it('updates one notification in place, then offers the copy and a compare', async () => {
    notifier.follow(makeRerun());
    expect(emit).toHaveBeenCalledWith(
      'Re-running robust.ipynb on H200 training: starting the kernel (6 cells)',
      'in-progress',
      expect.objectContaining({ autoClose: false })
    );
    expect(emit.mock.calls[0][2].actions.map((a: any) => a.label)).toEqual([
      'Cancel'
    ]);

    client.rerun.mockResolvedValueOnce(
      makeRerun({ cells_done: 3, current_cell: 7 })
    );
    await notifier.check('rr-1');
    expect(lastUpdate()).toMatchObject({
      id: 'toast-1',
      message: 'Re-running robust.ipynb on H200 training: cell 4 of 6',
      type: 'in-progress'
    });

    const local = makeRun({
      id: 'run-local',
      tier_id: 'local',
      tier_label: 'Local CPU',
      notebook: 'examples/robust.ipynb',
      started: '2026-11-23T13:00:00.000Z'
    });
    client.runs.mockResolvedValue({
      runs: [
        makeRun({
          id: 'run-h200',
          notebook: 'examples/robust.ipynb',
          started: '2026-11-23T14:05:01.000Z'
        }),
        local
      ],
      count: 2,
      totals: [],
      server_time: ''
    });
    client.run.mockResolvedValue(
      makeRun({
        id: 'run-h200',
        status: 'closed',
        cost: { amount: '0.013611', currency: 'USD' }
      })
    );
    client.rerun.mockResolvedValueOnce(
      makeRerun({
        status: 'completed',
        cells_done: 6,
        ended: '2026-11-23T14:05:14.000Z',
        output: 'examples/robust.h200.20261123T140500.ipynb'
      })
    );
    await notifier.check('rr-1');
    const end = lastUpdate();
    expect(end).toMatchObject({
      id: 'toast-1',
      type: 'success',
      message:
        'Re-ran robust.ipynb on H200 training: 6 cells in 14 s, cost 0.01 USD.'
    });
    actionOf(end, 'Open executed copy').callback(new MouseEvent('click'));
    expect(openFile).toHaveBeenCalledWith(
      'examples/robust.h200.20261123T140500.ipynb'
    );
    // The notebook's previous run is the baseline.
    actionOf(end, 'Compare with Local CPU').callback(new MouseEvent('click'));
    expect(compare).toHaveBeenCalledWith(['run-local', 'run-h200']);
    expect(notifier.following).toEqual([]);
  });

  it('shows a failing cell’s error with the executed copy, and no compare', async () => {
    notifier.follow(makeRerun({ source: 'boom.ipynb', tier_id: 'local' }));
    client.run.mockResolvedValue(makeRun({ status: 'closed' }));
    client.runs.mockResolvedValue({
      runs: [],
      count: 0,
      totals: [],
      server_time: ''
    });
    client.rerun.mockResolvedValueOnce(
      makeRerun({
        source: 'boom.ipynb',
        tier_id: 'local',
        status: 'failed',
        cells_done: 2,
        error: 'Cell 2 of 3 raised ZeroDivisionError: division by zero',
        output: 'boom.local.20261123T140500.ipynb',
        ended: '2026-11-23T14:05:02.000Z'
      })
    );
    await notifier.check('rr-1');
    const end = lastUpdate();
    expect(end.type).toBe('error');
    expect(end.message).toBe(
      'Re-run of boom.ipynb on Local CPU failed: Cell 2 of 3 raised ZeroDivisionError: division by zero'
    );
    expect(end.actions.map((a: any) => a.label)).toEqual([
      'Open executed copy'
    ]);
  });

  it('cancels with DELETE and keeps the toast for the end', async () => {
    notifier.follow(makeRerun());
    const cancel = actionOf(emit.mock.calls[0][2], 'Cancel');
    const click = new MouseEvent('click', { cancelable: true });
    client.cancelRerun.mockResolvedValue(
      makeRerun({
        status: 'cancelled',
        error: 'Cancelled by its user, in cell 2 of 6',
        output: 'examples/robust.h200.20261123T140500.ipynb',
        ended: '2026-11-23T14:05:04.000Z'
      })
    );
    client.run.mockResolvedValue(makeRun({ status: 'closed' }));
    client.runs.mockResolvedValue({
      runs: [],
      count: 0,
      totals: [],
      server_time: ''
    });
    cancel.callback(click);
    expect(click.defaultPrevented).toBe(true);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(client.cancelRerun).toHaveBeenCalledWith('rr-1');
    expect(lastUpdate()).toMatchObject({
      type: 'info',
      message:
        'Re-run of robust.ipynb on H200 training cancelled: Cancelled by its user, in cell 2 of 6'
    });
  });

  it('shows the end in a new toast when the progress toast was closed', async () => {
    notifier.follow(makeRerun());
    update.mockReturnValue(false);
    client.rerun.mockResolvedValue(makeRerun({ cells_done: 1 }));
    await notifier.check('rr-1');
    client.rerun.mockResolvedValue(
      makeRerun({
        status: 'completed',
        cells_done: 6,
        ended: '2026-11-23T14:06:00.000Z'
      })
    );
    client.run.mockRejectedValue(new Error('gone'));
    client.runs.mockResolvedValue({
      runs: [],
      count: 0,
      totals: [],
      server_time: ''
    });
    await notifier.check('rr-1');
    expect(emit).toHaveBeenLastCalledWith(
      'Re-ran robust.ipynb on H200 training: 6 cells in 1 min 00 s.',
      'success',
      expect.objectContaining({ autoClose: false })
    );
  });

  it('compares with the run it repeats, else the newest earlier run', () => {
    const runs = [
      makeRun({
        id: 'later',
        notebook: 'examples/robust.ipynb',
        started: '2026-11-23T15:00:00Z'
      }),
      makeRun({
        id: 'run-h200',
        notebook: 'examples/robust.ipynb',
        started: '2026-11-23T14:05:01Z'
      }),
      makeRun({
        id: 'older',
        notebook: 'examples/robust.ipynb',
        started: '2026-11-22T10:00:00Z'
      }),
      makeRun({
        id: 'newer',
        notebook: 'examples/robust.ipynb',
        started: '2026-11-23T12:00:00Z'
      })
    ];
    expect(pickCompareRun(makeRerun(), runs)?.id).toBe('newer');
    expect(
      pickCompareRun(makeRerun({ source_run_id: 'older' }), runs)?.id
    ).toBe('older');
    expect(pickCompareRun(makeRerun(), runs.slice(0, 2))).toBeNull();
  });
});
