import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { Notification } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';

import type { NotebookPanel } from '@jupyterlab/notebook';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { ComputePanelView } from '../components/ComputePanelView';
import { ComputePanelModel } from '../model';
import {
  endMessage,
  endType,
  formatSeconds,
  IRerunChoice,
  parseTimeLimit,
  progressMessage,
  rerunRequest,
  validateRerunChoice
} from '../rerun/format';
import { startRerunFlow } from '../rerun/flow';
import { pickCompareRun, RerunNotifier } from '../rerun/notifier';
import { RerunDialogBody, RerunDialogView } from '../rerun/RerunDialog';
import { makeFakeClient, makeGrant, makeRun, TIERS } from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');
const GRANTS = [makeGrant('nsf-1'), makeGrant('old', { active: false })];

function makeRerun(
  overrides: Partial<ComputePanelAPI.IRerun> = {}
): ComputePanelAPI.IRerun {
  return {
    id: 'rr-1',
    user: 'student',
    source: 'examples/robust.ipynb',
    output: null,
    tier_id: 'h200',
    grant_id: 'nsf-1',
    kernelspec: 'compute-panel-h200-python3',
    run_id: 'run-h200',
    source_run_id: null,
    status: 'running',
    cells_total: 6,
    cells_done: 0,
    current_cell: null,
    kernel_id: 'k-rr',
    error: null,
    time_limit_s: 3600,
    created: '2026-11-23T14:05:00.000Z',
    ended: null,
    ...overrides
  };
}

const choice = (overrides: Partial<IRerunChoice> = {}): IRerunChoice => ({
  tierId: 'h200',
  grantId: 'nsf-1',
  timeLimit: '',
  save: true,
  ...overrides
});

describe('re-run sentences', () => {
  it('says which cell of how many runs, on which tier', () => {
    expect(
      progressMessage(
        makeRerun({ cells_done: 2, current_cell: 5 }),
        'robust.ipynb',
        'H200 training',
        trans
      )
    ).toBe('Re-running robust.ipynb on H200 training: cell 3 of 6');
    expect(
      progressMessage(makeRerun(), 'robust.ipynb', 'H200 training', trans)
    ).toBe(
      'Re-running robust.ipynb on H200 training: starting the kernel (6 cells)'
    );
    // The last cell running: never past the total.
    expect(
      progressMessage(
        makeRerun({ cells_done: 6, current_cell: 11 }),
        'robust.ipynb',
        'H200 training',
        trans
      )
    ).toBe('Re-running robust.ipynb on H200 training: cell 6 of 6');
    expect(
      progressMessage(
        makeRerun({ cells_total: 0 }),
        'empty.ipynb',
        'Local CPU',
        trans
      )
    ).toBe('Re-running empty.ipynb on Local CPU: no code cell to run');
  });

  it('ends with the time and cost, or with the server’s error sentence', () => {
    const done = makeRerun({
      status: 'completed',
      cells_done: 6,
      ended: '2026-11-23T14:05:14.200Z',
      output: 'examples/robust.h200.20261123T140500.ipynb'
    });
    expect(
      endMessage(done, 'robust.ipynb', 'H200 training', trans, {
        amount: '0.013611',
        currency: 'USD'
      })
    ).toBe(
      'Re-ran robust.ipynb on H200 training: 6 cells in 14 s, cost 0.013611 USD.'
    );
    expect(endMessage(done, 'robust.ipynb', 'H200 training', trans)).toBe(
      'Re-ran robust.ipynb on H200 training: 6 cells in 14 s.'
    );
    const failed = makeRerun({
      status: 'failed',
      cells_done: 2,
      error: 'Cell 2 of 3 raised ZeroDivisionError: division by zero',
      ended: '2026-11-23T14:05:03.000Z'
    });
    expect(endMessage(failed, 'boom.ipynb', 'Local CPU', trans)).toBe(
      'Re-run of boom.ipynb on Local CPU failed: Cell 2 of 3 raised ZeroDivisionError: division by zero'
    );
    expect(
      endMessage(
        makeRerun({
          status: 'timed_out',
          error: 'Stopped at its time limit of 60 s, in cell 4 of 6'
        }),
        'robust.ipynb',
        'H200 training',
        trans
      )
    ).toBe(
      'Re-run of robust.ipynb on H200 training stopped: Stopped at its time limit of 60 s, in cell 4 of 6'
    );
    expect(endType('completed')).toBe('success');
    expect(endType('failed')).toBe('error');
    expect(endType('refused')).toBe('error');
    expect(endType('cancelled')).toBe('info');
    expect(endType('running')).toBe('in-progress');
  });

  it('formats short durations', () => {
    expect(formatSeconds(0.0123)).toBe('12 ms');
    expect(formatSeconds(4.25)).toBe('4.3 s');
    expect(formatSeconds(38.4)).toBe('38 s');
    expect(formatSeconds(125)).toBe('2 min 05 s');
    expect(formatSeconds(3720)).toBe('1 h 02 min');
    expect(formatSeconds(null)).toBe('—');
  });
});

describe('re-run dialog validation', () => {
  it('reads the time limit in minutes, blank for the server default', () => {
    expect(parseTimeLimit('')).toBeUndefined();
    expect(parseTimeLimit('  ')).toBeUndefined();
    expect(parseTimeLimit('30')).toBe(1800);
    expect(parseTimeLimit('1.5')).toBe(90);
    expect(parseTimeLimit('0.001')).toBe(1);
    expect(parseTimeLimit('0')).toBeNull();
    expect(parseTimeLimit('-5')).toBeNull();
    expect(parseTimeLimit('ten')).toBeNull();
    expect(parseTimeLimit('1e3')).toBeNull();
  });

  it('needs a tier, a grant on a paid tier, and a sane time limit', () => {
    expect(
      validateRerunChoice(choice({ tierId: null }), TIERS, GRANTS, trans)
    ).toEqual({ field: 'tier', message: 'Choose a tier to re-run on.' });
    expect(
      validateRerunChoice(choice({ grantId: null }), TIERS, GRANTS, trans)
    ).toEqual({
      field: 'grant',
      message: 'H200 training is a paid tier: choose a grant to charge.'
    });
    // An inactive grant cannot be charged.
    expect(
      validateRerunChoice(choice({ grantId: 'old' }), TIERS, GRANTS, trans)
        ?.field
    ).toBe('grant');
    expect(
      validateRerunChoice(choice(), TIERS, [GRANTS[1]], trans)?.message
    ).toBe(
      'H200 training is a paid tier and you have no active grant to charge; choose a free tier.'
    );
    expect(
      validateRerunChoice(choice({ timeLimit: 'soon' }), TIERS, GRANTS, trans)
        ?.field
    ).toBe('timeLimit');
    // A free tier needs no grant.
    expect(
      validateRerunChoice(
        choice({ tierId: 'local', grantId: null }),
        TIERS,
        GRANTS,
        trans
      )
    ).toBeNull();
    expect(validateRerunChoice(choice(), TIERS, GRANTS, trans)).toBeNull();
  });

  it('builds the POST body: seconds, no grant on a free tier, the source run', () => {
    expect(
      rerunRequest(choice({ timeLimit: '2' }), 'a.ipynb', TIERS, 'run-0')
    ).toEqual({
      path: 'a.ipynb',
      tier_id: 'h200',
      grant_id: 'nsf-1',
      time_limit_s: 120,
      source_run_id: 'run-0'
    });
    expect(rerunRequest(choice({ tierId: 'local' }), 'a.ipynb', TIERS)).toEqual(
      { path: 'a.ipynb', tier_id: 'local', grant_id: null }
    );
  });
});

describe('RerunDialogView', () => {
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

  const render = (props: Partial<RerunDialogView.IProps> = {}) => {
    const onChange = jest.fn();
    act(() =>
      root.render(
        <RerunDialogView
          name="robust.ipynb"
          tiers={TIERS}
          grants={GRANTS}
          initial={choice({ tierId: null, grantId: 'nsf-1' })}
          dirty={false}
          trans={trans}
          onChange={onChange}
          {...props}
        />
      )
    );
    return onChange;
  };

  const tierInput = (id: string) =>
    host.querySelector(
      `[data-tier="${id}"] input[type="radio"]`
    ) as HTMLInputElement;

  it('lists every tier with its price per hour and badge', () => {
    render();
    const labels = [...host.querySelectorAll('.jp-ComputePanel-rerunTier')];
    expect(labels.map(l => l.textContent)).toEqual([
      'Local CPUFree',
      'RTX 4090 prototypingsimulated0.50 USD/h',
      'H200 trainingsimulated3.60 USD/h'
    ]);
    // No grant picker before a paid tier is chosen.
    expect(host.querySelector('select')).toBeNull();
  });

  it('asks for a grant on a paid tier and says what the money buys', () => {
    const onChange = render();
    act(() => tierInput('h200').click());
    expect(onChange).toHaveBeenLastCalledWith(
      choice({ tierId: 'h200', grantId: 'nsf-1' })
    );
    const select = host.querySelector('select') as HTMLSelectElement;
    // Only grants the user may charge.
    expect([...select.options].map(o => o.value)).toEqual(['', 'nsf-1']);
    expect(select.value).toBe('nsf-1');
    expect(host.querySelector('[role="note"]')!.textContent).toContain(
      'metered at 3.60 USD/h and charged to the grant; the kernel stops as soon as the last cell ends'
    );
    // Clearing the grant says why it cannot go.
    act(() => {
      Object.getOwnPropertyDescriptor(
        HTMLSelectElement.prototype,
        'value'
      )!.set!.call(select, '');
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(host.querySelector('[role="alert"]')!.textContent).toBe(
      'H200 training is a paid tier: choose a grant to charge.'
    );
  });

  it('checks the time limit as it is typed', () => {
    render({ initial: choice() });
    const input = host.querySelector(
      '#jp-ComputePanel-rerunLimit'
    ) as HTMLInputElement;
    expect(input.placeholder).toBe('server default');
    act(() => {
      Object.getOwnPropertyDescriptor(
        HTMLInputElement.prototype,
        'value'
      )!.set!.call(input, 'abc');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(host.querySelector('[role="alert"]')!.textContent).toContain(
      'The time limit is a number of minutes above 0'
    );
  });

  it('shows the server’s refusal until the user changes something', () => {
    render({
      initial: choice(),
      error:
        'Grant SEED 0001 has 0.10 USD left, less than 15 minutes on H200 training (0.875 USD)'
    });
    expect(host.querySelector('[role="alert"]')!.textContent).toBe(
      'Grant SEED 0001 has 0.10 USD left, less than 15 minutes on H200 training (0.875 USD)'
    );
    act(() => tierInput('local').click());
    expect(host.querySelector('[role="alert"]')).toBeNull();
  });

  it('is one click away in the compute panel, for the followed notebook', async () => {
    const signal = { connect: () => true, disconnect: () => true };
    const panel = {
      title: { label: 'robust.ipynb' },
      context: { path: 'examples/robust.ipynb' },
      disposed: signal,
      model: null,
      sessionContext: {
        session: { kernel: { id: 'k1', name: 'compute-panel-local-python3' } },
        kernelChanged: signal,
        sessionChanged: signal
      }
    } as unknown as NotebookPanel;
    const model = new ComputePanelModel({
      client: makeFakeClient(),
      poll: false
    });
    await model.initialize();
    const onRerun = jest.fn();
    act(() =>
      root.render(
        <ComputePanelView
          model={model}
          trans={trans}
          onMove={jest.fn()}
          onRerun={onRerun}
        />
      )
    );
    // No notebook followed: no button.
    expect(host.querySelector('.jp-ComputePanel-rerunButton')).toBeNull();
    model.setNotebook(panel);
    act(() =>
      root.render(
        <ComputePanelView
          model={model}
          trans={trans}
          onMove={jest.fn()}
          onRerun={onRerun}
        />
      )
    );
    const button = host.querySelector(
      '.jp-ComputePanel-rerunButton'
    ) as HTMLButtonElement;
    expect(button.textContent).toBe('Re-run on…');
    act(() => button.click());
    expect(onRerun).toHaveBeenCalledWith('examples/robust.ipynb');
    model.dispose();
  });

  it('offers to save a notebook with unsaved changes first', () => {
    const onChange = render({ initial: choice(), dirty: true });
    const save = host.querySelector(
      '#jp-ComputePanel-rerunSave'
    ) as HTMLInputElement;
    expect(save.checked).toBe(true);
    act(() => save.click());
    expect(onChange).toHaveBeenLastCalledWith(choice({ save: false }));
    expect(host.textContent).toContain('Unsaved changes are not in the re-run');
  });
});

describe('startRerunFlow', () => {
  const model = () => {
    const client = makeFakeClient();
    client.getBinding.mockResolvedValue({
      path: 'a.ipynb',
      grant_id: 'nsf-1'
    });
    return new ComputePanelModel({ client, poll: false });
  };

  it('brings the dialog back with the server’s refusal, then starts', async () => {
    const m = model();
    await m.initialize();
    const refusal =
      'Grant AWD nsf-1 has 0.10 USD left, less than 15 minutes on H200 training (0.90 USD)';
    const started = makeRerun();
    const startRerun = jest
      .fn()
      .mockRejectedValueOnce(
        new ComputePanelError({ status: 403, message: refusal })
      )
      .mockResolvedValueOnce(started);
    const shown: (string | null | undefined)[] = [];
    const ask = jest.fn(async (body: RerunDialogBody) => {
      shown.push(body.error);
      // The grant comes from the notebook's binding.
      expect(body.getValue().grantId).toBe('nsf-1');
      return { ...body.getValue(), tierId: 'h200' };
    });
    const rerun = await startRerunFlow({
      model: m,
      client: { startRerun },
      path: 'a.ipynb',
      ask
    });
    expect(rerun).toBe(started);
    expect(shown).toEqual([null, refusal]);
    expect(startRerun).toHaveBeenLastCalledWith({
      path: 'a.ipynb',
      tier_id: 'h200',
      grant_id: 'nsf-1'
    });
  });

  it('does not send an invalid choice, and stops on Cancel', async () => {
    const m = model();
    await m.initialize();
    const startRerun = jest.fn();
    const ask = jest
      .fn()
      .mockResolvedValueOnce(choice({ tierId: null }))
      .mockResolvedValueOnce(null);
    expect(
      await startRerunFlow({
        model: m,
        client: { startRerun },
        path: 'a.ipynb',
        ask
      })
    ).toBeNull();
    expect(ask).toHaveBeenCalledTimes(2);
    expect((ask.mock.calls[1][0] as RerunDialogBody).error).toBe(
      'Choose a tier to re-run on.'
    );
    expect(startRerun).not.toHaveBeenCalled();
  });

  it('saves a notebook with unsaved changes before it runs', async () => {
    const m = model();
    await m.initialize();
    const order: string[] = [];
    const panel = {
      model: { getMetadata: () => undefined },
      context: {
        model: { dirty: true },
        save: jest.fn(async () => {
          order.push('save');
        })
      }
    } as any;
    const startRerun = jest.fn(async () => {
      order.push('post');
      return makeRerun();
    });
    await startRerunFlow({
      model: m,
      client: { startRerun },
      path: 'a.ipynb',
      panel,
      tierId: 'local',
      ask: async body => body.getValue()
    });
    expect(order).toEqual(['save', 'post']);
  });
});

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
        'Re-ran robust.ipynb on H200 training: 6 cells in 14 s, cost 0.013611 USD.'
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
