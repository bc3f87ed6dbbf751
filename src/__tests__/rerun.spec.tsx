import { nullTranslator } from '@jupyterlab/translation';

import {
  endMessage,
  endType,
  formatSeconds,
  parseTimeLimit,
  progressMessage,
  rerunRequest,
  validateRerunChoice
} from '../rerun/format';
import { TIERS } from './fixtures';
import { choice, GRANTS, makeRerun } from './rerunFixtures';

const trans = nullTranslator.load('jupyterlab_compute_panel');

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
      'Re-ran robust.ipynb on H200 training: 6 cells in 14 s, cost 0.01 USD.'
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
          error: 'Stopped at its time limit of 1 minute, in cell 4 of 6'
        }),
        'robust.ipynb',
        'H200 training',
        trans
      )
    ).toBe(
      'Re-run of robust.ipynb on H200 training stopped: Stopped at its time limit of 1 minute, in cell 4 of 6'
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
