/**
 * Words and checks of "Re-run on…": the progress and end sentences of a
 * re-run, and the validation of the dialog's choice. Pure functions.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { formatMoney } from '../money';

/**
 * What the user chose in the re-run dialog.
 */
export interface IRerunChoice {
  /**
   * The tier to re-run on; null until one is chosen.
   */
  tierId: string | null;
  /**
   * The grant to charge; null on a free tier (or none chosen yet).
   */
  grantId: string | null;
  /**
   * The time limit as typed, in minutes; '' for the server's default.
   */
  timeLimit: string;
  /**
   * Save the open notebook first (it has unsaved changes).
   */
  save: boolean;
}

/**
 * The file name of a path: `robust.ipynb` for `exp/robust.ipynb`.
 */
export function baseName(path: string): string {
  return path.split('/').pop() || path;
}

/**
 * Seconds as a short duration: `850 ms`, `4.2 s`, `38 s`, `2 min 05 s`,
 * `1 h 02 min`.
 */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '—';
  }
  const s = Math.max(0, seconds);
  if (s < 1) {
    return `${Math.round(s * 1000)} ms`;
  }
  if (s < 10) {
    return `${s.toFixed(1)} s`;
  }
  const whole = Math.round(s);
  if (whole < 60) {
    return `${whole} s`;
  }
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const r = whole % 60;
  return h > 0
    ? `${h} h ${String(m).padStart(2, '0')} min`
    : `${m} min ${String(r).padStart(2, '0')} s`;
}

/**
 * The seconds between two ISO instants, or null.
 */
export function secondsBetween(
  start: string | null | undefined,
  end: string | null | undefined
): number | null {
  if (!start || !end) {
    return null;
  }
  const ms = Date.parse(end) - Date.parse(start);
  return isFinite(ms) ? Math.max(0, ms / 1000) : null;
}

/**
 * The progress of a running re-run:
 * "Re-running robust.ipynb on H200 training: cell 3 of 6".
 */
export function progressMessage(
  rerun: ComputePanelAPI.IRerun,
  name: string,
  tierLabel: string,
  trans: TranslationBundle
): string {
  const total = rerun.cells_total;
  if (total <= 0) {
    return trans.__(
      'Re-running %1 on %2: no code cell to run',
      name,
      tierLabel
    );
  }
  if (rerun.current_cell === null && rerun.cells_done === 0) {
    return trans._n(
      'Re-running %2 on %3: starting the kernel (%1 cell)',
      'Re-running %2 on %3: starting the kernel (%1 cells)',
      total,
      name,
      tierLabel
    );
  }
  // The cell running now is the one after those done (a skipped empty cell
  // is never counted as done, so stay within the total).
  const n = Math.min(total, rerun.cells_done + 1);
  return trans.__(
    'Re-running %1 on %2: cell %3 of %4',
    name,
    tierLabel,
    String(n),
    String(total)
  );
}

/**
 * The sentence of a re-run that ended, with its cost when known:
 * "Re-ran robust.ipynb on H200 training: 6 cells in 14 s, cost 0.0136 USD."
 * A failure says the server's error: "Re-run of robust.ipynb on H200
 * training failed: Cell 2 of 3 raised ZeroDivisionError: division by zero".
 */
export function endMessage(
  rerun: ComputePanelAPI.IRerun,
  name: string,
  tierLabel: string,
  trans: TranslationBundle,
  cost?: ComputePanelAPI.IMoney | null
): string {
  const took = formatSeconds(secondsBetween(rerun.created, rerun.ended));
  const costText = cost ? formatMoney(cost.amount, cost.currency) : null;
  switch (rerun.status) {
    case 'completed':
      return costText
        ? trans._n(
            'Re-ran %2 on %3: %1 cell in %4, cost %5.',
            'Re-ran %2 on %3: %1 cells in %4, cost %5.',
            rerun.cells_done,
            name,
            tierLabel,
            took,
            costText
          )
        : trans._n(
            'Re-ran %2 on %3: %1 cell in %4.',
            'Re-ran %2 on %3: %1 cells in %4.',
            rerun.cells_done,
            name,
            tierLabel,
            took
          );
    case 'failed':
      return trans.__(
        'Re-run of %1 on %2 failed: %3',
        name,
        tierLabel,
        rerun.error ?? trans.__('no reason given')
      );
    case 'cancelled':
      return trans.__(
        'Re-run of %1 on %2 cancelled: %3',
        name,
        tierLabel,
        rerun.error ?? trans.__('by its user')
      );
    case 'timed_out':
      return trans.__(
        'Re-run of %1 on %2 stopped: %3',
        name,
        tierLabel,
        rerun.error ?? trans.__('it reached its time limit')
      );
    case 'refused':
      return trans.__(
        'Re-run of %1 on %2 was refused: %3',
        name,
        tierLabel,
        rerun.error ?? trans.__('no reason given')
      );
    default:
      return progressMessage(rerun, name, tierLabel, trans);
  }
}

/**
 * The notification type of a re-run's state.
 */
export function endType(
  status: ComputePanelAPI.RerunStatus
): 'success' | 'error' | 'warning' | 'info' | 'in-progress' {
  switch (status) {
    case 'running':
      return 'in-progress';
    case 'completed':
      return 'success';
    case 'cancelled':
      return 'info';
    case 'timed_out':
      return 'warning';
    default:
      return 'error';
  }
}

/**
 * A time limit typed in minutes, in whole seconds: undefined when blank (the
 * server's default), null when it is not a number of minutes above 0.
 */
export function parseTimeLimit(text: string): number | undefined | null {
  const trimmed = text.trim();
  if (!trimmed) {
    return undefined;
  }
  if (!/^\d*\.?\d+$|^\d+\.$/.test(trimmed)) {
    return null;
  }
  const minutes = Number(trimmed);
  if (!isFinite(minutes) || minutes <= 0) {
    return null;
  }
  return Math.max(1, Math.round(minutes * 60));
}

/**
 * A problem with the choice, in one sentence, and the field at fault.
 */
export interface IChoiceProblem {
  field: 'tier' | 'grant' | 'timeLimit';
  message: string;
}

/**
 * Check the dialog's choice before it is sent; null when it can be sent.
 * The server checks again (membership, budget, its time-limit maximum).
 */
export function validateRerunChoice(
  choice: IRerunChoice,
  tiers: ReadonlyArray<ComputePanelAPI.ITier>,
  grants: ReadonlyArray<ComputePanelAPI.IGrant>,
  trans: TranslationBundle
): IChoiceProblem | null {
  const tier = tiers.find(t => t.id === choice.tierId);
  if (!tier) {
    return { field: 'tier', message: trans.__('Choose a tier to re-run on.') };
  }
  if (!tier.free) {
    const usable = grants.filter(ComputePanelAPI.canCharge);
    if (!usable.length) {
      return {
        field: 'grant',
        message: trans.__(
          '%1 is a paid tier and you have no active grant to charge; choose a free tier.',
          tier.label
        )
      };
    }
    if (!choice.grantId || !usable.some(g => g.id === choice.grantId)) {
      return {
        field: 'grant',
        message: trans.__(
          '%1 is a paid tier: choose a grant to charge.',
          tier.label
        )
      };
    }
  }
  if (parseTimeLimit(choice.timeLimit) === null) {
    return {
      field: 'timeLimit',
      message: trans.__(
        'The time limit is a number of minutes above 0, such as 30 or 1.5; leave it blank for the server default.'
      )
    };
  }
  return null;
}

/**
 * The POST /reruns body of a valid choice.
 */
export function rerunRequest(
  choice: IRerunChoice,
  path: string,
  tiers: ReadonlyArray<ComputePanelAPI.ITier>,
  sourceRunId?: string | null
): ComputePanelAPI.IRerunRequest {
  const tier = tiers.find(t => t.id === choice.tierId);
  const request: ComputePanelAPI.IRerunRequest = {
    path,
    tier_id: choice.tierId ?? '',
    grant_id: tier && !tier.free ? choice.grantId : null
  };
  const limit = parseTimeLimit(choice.timeLimit);
  if (typeof limit === 'number') {
    request.time_limit_s = limit;
  }
  if (sourceRunId) {
    request.source_run_id = sourceRunId;
  }
  return request;
}
