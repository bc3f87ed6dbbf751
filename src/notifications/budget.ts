import { Notification } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { ComputePanelAPI, IBudgetClient } from '../api';
import type { IIdleNotebook } from './idle';
import type { IEventEmission } from '../model';
import { IComputePanelModel, TRANSLATION_DOMAIN } from '../tokens';
import { formatMoney } from '../money';
import { detailsAction, readerOf, spentAdvice } from './whole';

/**
 * How often the alerts are polled: every 15 s, every 2 s while a countdown runs.
 */
export const ALERT_POLL_MS = 15000;
export const COUNTDOWN_POLL_MS = 2000;

/**
 * Whole seconds as a countdown: `4:05`, `1:02:03`; never negative.
 */
export function formatCountdown(seconds: number): string {
  const total = Math.max(0, Math.ceil(Number.isFinite(seconds) ? seconds : 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, '0');
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}`
    : `${minutes}:${secs}`;
}

/**
 * Seconds from `now` (ms since the epoch) until `stopAtMs`, rounded up.
 */
export function secondsUntil(stopAtMs: number, now: number): number {
  return Math.max(0, Math.ceil((stopAtMs - now) / 1000));
}

/**
 * The notification of a threshold alert: whole within JupyterLab's limit
 * (what the reader can do opens from its *Details*).
 */
export function alertMessage(
  alert: ComputePanelAPI.IBudgetAlert,
  trans: TranslationBundle
): string {
  const grant = alert.award_number || alert.grant_id;
  if (alert.threshold_pct < 100) {
    return trans.__(
      'Grant %1 has spent %2 percent of its budget: %3 of %4.',
      grant,
      String(alert.threshold_pct),
      formatMoney(alert.spent, alert.currency),
      formatMoney(alert.budget, alert.currency)
    );
  }
  if (alert.hard_stop) {
    return trans.__(
      'Grant %1 has spent its budget (%2 of %3): its paid kernels are stopped.',
      grant,
      formatMoney(alert.spent, alert.currency),
      formatMoney(alert.budget, alert.currency)
    );
  }
  return trans.__(
    'Grant %1 has spent %2 percent of its budget (%3 of %4), with no hard stop: its kernels keep running.',
    grant,
    String(alert.threshold_pct),
    formatMoney(alert.spent, alert.currency),
    formatMoney(alert.budget, alert.currency)
  );
}

/**
 * The message of a countdown, `secondsLeft` before the stop (the server's
 * whole reason is in its *Details*).
 */
export function countdownMessage(
  countdown: ComputePanelAPI.ICountdown,
  notebookLabel: string | null,
  secondsLeft: number,
  grantName: string,
  trans: TranslationBundle
): string {
  if (secondsLeft <= 0) {
    return notebookLabel
      ? trans.__(
          'The %1 kernel of %2 is being stopped: grant %3 has run out.',
          countdown.tier_label,
          notebookLabel,
          grantName
        )
      : trans.__(
          'Your %1 kernel is being stopped: grant %2 has run out.',
          countdown.tier_label,
          grantName
        );
  }
  return notebookLabel
    ? trans.__(
        'The %1 kernel of %2 stops in %3, when grant %4 runs out.',
        countdown.tier_label,
        notebookLabel,
        formatCountdown(secondsLeft),
        grantName
      )
    : trans.__(
        'Your %1 kernel stops in %2, when grant %3 runs out.',
        countdown.tier_label,
        formatCountdown(secondsLeft),
        grantName
      );
}

/**
 * The error shown once a kernel was stopped for its grant's budget (the
 * server's whole sentence is in its *Details*).
 */
export function stopMessage(
  stop: { tier_label: string },
  notebookLabel: string | null,
  grantName: string,
  trans: TranslationBundle
): string {
  return notebookLabel
    ? trans.__(
        'The %1 kernel of %2 was stopped: grant %3 has spent its budget.',
        stop.tier_label,
        notebookLabel,
        grantName
      )
    : trans.__(
        'Your %1 kernel was stopped: grant %2 has spent its budget.',
        stop.tier_label,
        grantName
      );
}

/**
 * Shows the user's budget alerts, the countdowns of their paid kernels whose
 * grant runs out, and the stops, as JupyterLab notifications.
 *
 * The server's ledger is the truth: alerts are rows for every recipient,
 * whichever server noticed them, so this polls `GET /compute-panel/alerts`
 * (every 15 s, every 2 s while a countdown runs, not while the page is
 * hidden), shows each alert once and marks it delivered. Run and budget events
 * only make it poll at once.
 */
export class BudgetNotifier implements IDisposable {
  constructor(options: BudgetNotifier.IOptions) {
    this._client = options.client;
    this._model = options.model;
    this._findNotebook = options.findNotebook;
    this._moveToTier = options.moveToTier;
    this._now = options.now ?? Date.now;
    this._trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    options.events?.connect(this._onEvent, this);
    if (options.poll ?? true) {
      this._poll = new Poll({
        factory: () => this.check(),
        frequency: Private.frequency(ALERT_POLL_MS),
        standby: 'when-hidden',
        name: 'jupyterlab-compute-panel:budget-alerts'
      });
    }
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll?.dispose();
    this._poll = null;
    this._stopTicker();
    this._countdowns.clear();
    Signal.clearData(this);
  }

  /**
   * Ask for the alerts now (the poll's next tick).
   */
  refresh(): Promise<void> {
    return this._poll ? this._poll.refresh() : this.check();
  }

  /**
   * One round: fetch the alerts and show what is new. Rejects on failure (the
   * poll backs off).
   */
  async check(): Promise<void> {
    const handshake = this._model.handshake;
    if (
      handshake.status !== 'ok' &&
      !(
        handshake.status === 'mismatch' &&
        handshake.server?.api === ComputePanelAPI.API_VERSION
      )
    ) {
      return; // no server extension to ask (the model already says why)
    }
    const data = await this._client.alerts();
    if (this._isDisposed) {
      return;
    }
    this._showAlerts(data.alerts);
    this._showCountdowns(data.countdowns);
    for (const stop of data.stopped) {
      this._stopped(stop.run_id, stop.kernel_id, stop);
    }
    const interval = this._countdowns.size ? COUNTDOWN_POLL_MS : ALERT_POLL_MS;
    if (this._poll && this._poll.frequency.interval !== interval) {
      this._poll.frequency = Private.frequency(interval);
    }
  }

  private _showAlerts(alerts: ComputePanelAPI.IBudgetAlert[]): void {
    for (const alert of alerts) {
      if (!this._shown.has(alert.id)) {
        this._shown.add(alert.id);
        const message = alertMessage(alert, this._trans);
        if (alert.threshold_pct >= 100) {
          const advice = alert.hard_stop
            ? spentAdvice(
                readerOf(this._model.grants, alert.grant_id),
                this._trans
              )
            : '';
          Notification.error(message, {
            autoClose: false,
            actions: advice
              ? [
                  detailsAction(
                    this._trans.__(
                      'Grant %1',
                      alert.award_number || alert.grant_id
                    ),
                    [message, advice],
                    this._trans
                  )
                ]
              : []
          });
        } else {
          Notification.warning(message, { autoClose: 10000 });
        }
      }
      // Shown here: delivered. A failed mark is retried at the next round
      // (the alert is listed again), without showing it twice.
      if (!this._delivering.has(alert.id)) {
        this._delivering.add(alert.id);
        void this._client
          .markAlertDelivered(alert.id)
          .catch(() => undefined)
          .then(() => this._delivering.delete(alert.id));
      }
    }
  }

  private _showCountdowns(countdowns: ComputePanelAPI.ICountdown[]): void {
    const now = this._now();
    const listed = new Set<string>();
    for (const countdown of countdowns) {
      listed.add(countdown.kernel_id);
      if (this._stoppedRuns.has(countdown.run_id)) {
        continue;
      }
      const stopAt = now + countdown.seconds_left * 1000;
      const shown = this._countdowns.get(countdown.kernel_id);
      if (shown && shown.countdown.run_id === countdown.run_id) {
        shown.countdown = countdown;
        shown.stopAt = stopAt;
        this._render(shown);
        continue;
      }
      if (shown) {
        Notification.dismiss(shown.id);
      }
      const notebook = this._findNotebook(countdown.kernel_id);
      const entry: Private.ICountdownToast = {
        id: '',
        countdown,
        stopAt,
        notebook,
        dismissed: false
      };
      entry.id = Notification.warning(this._message(entry), {
        autoClose: false,
        actions: this._actions(entry)
      });
      this._countdowns.set(countdown.kernel_id, entry);
    }
    // A countdown no longer listed: the budget was raised or the burn fell, or
    // the kernel stopped (its stop comes in `stopped` or as an event).
    for (const [kernelId, entry] of this._countdowns) {
      if (!listed.has(kernelId)) {
        this._countdowns.delete(kernelId);
        Notification.dismiss(entry.id);
      }
    }
    if (this._countdowns.size) {
      this._startTicker();
    } else {
      this._stopTicker();
    }
  }

  private _actions(entry: Private.ICountdownToast): Notification.IAction[] {
    const trans = this._trans;
    const actions: Notification.IAction[] = [];
    const free = this._model.tiers.find(tier => tier.free);
    const notebook = entry.notebook;
    if (free && notebook) {
      actions.push({
        label: trans.__('Move to %1', free.label),
        caption: trans.__(
          'Move the notebook to the free tier %1 before the kernel is stopped',
          free.label
        ),
        displayType: 'accent',
        callback: () => {
          entry.dismissed = true;
          void this._moveToTier(notebook.panel, free.id);
        }
      });
    }
    actions.push(
      detailsAction(
        trans.__('Grant %1', this._grantName(entry.countdown.grant_id)),
        [
          entry.countdown.reason,
          spentAdvice(
            readerOf(this._model.grants, entry.countdown.grant_id),
            trans
          )
        ],
        trans
      )
    );
    actions.push({
      label: trans.__('Dismiss'),
      caption: trans.__(
        'Hide this countdown; the kernel is still stopped when the budget runs out'
      ),
      callback: () => {
        entry.dismissed = true;
      }
    });
    return actions;
  }

  private _message(entry: Private.ICountdownToast): string {
    return countdownMessage(
      entry.countdown,
      entry.notebook?.label ?? null,
      secondsUntil(entry.stopAt, this._now()),
      this._grantName(entry.countdown.grant_id),
      this._trans
    );
  }

  /**
   * A grant as its readers know it: its award number, else its id.
   */
  private _grantName(grantId: string | null | undefined): string {
    const grant = this._model.grants.find(g => g.id === grantId);
    return grant?.award_number || grantId || '';
  }

  private _render(entry: Private.ICountdownToast): void {
    if (entry.dismissed) {
      return;
    }
    const updated = Notification.update({
      id: entry.id,
      message: this._message(entry),
      type: 'warning',
      autoClose: false,
      actions: this._actions(entry)
    });
    if (!updated) {
      entry.dismissed = true; // closed by the user
    }
  }

  private _stopped(
    runId: string,
    kernelId: string,
    stop: { message?: string | null; tier_label: string; grant_id: string }
  ): void {
    if (this._stoppedRuns.has(runId)) {
      return;
    }
    this._stoppedRuns.add(runId);
    const entry = this._countdowns.get(kernelId);
    if (entry) {
      this._countdowns.delete(kernelId);
      Notification.dismiss(entry.id);
    }
    const notebookLabel =
      entry?.notebook?.label ?? this._findNotebook(kernelId)?.label ?? null;
    const trans = this._trans;
    const grantName = this._grantName(stop.grant_id);
    const message = stopMessage(stop, notebookLabel, grantName, trans);
    Notification.error(message, {
      autoClose: false,
      actions: [
        detailsAction(
          trans.__('Grant %1', grantName),
          [
            stop.message || message,
            spentAdvice(readerOf(this._model.grants, stop.grant_id), trans)
          ],
          trans
        )
      ]
    });
  }

  private _onEvent(_: unknown, emission: IEventEmission): void {
    if (emission.schema_id === ComputePanelAPI.BUDGET_EVENT_SCHEMA) {
      void this.refresh().catch(() => undefined);
      return;
    }
    if (emission.schema_id !== ComputePanelAPI.RUN_EVENT_SCHEMA) {
      return;
    }
    const event = emission as unknown as ComputePanelAPI.IRunEvent;
    if (event.action === 'budget_warning') {
      void this.refresh().catch(() => undefined);
    } else if (event.action === 'budget_stop' && event.message) {
      this._stopMessages.set(event.run_id, event.message);
    } else if (event.action === 'closed' && event.end_reason === 'budget') {
      this._stopped(event.run_id, event.kernel_id, {
        message: this._stopMessages.get(event.run_id),
        tier_label:
          this._model.tier(event.tier_id)?.label ?? event.tier_id ?? '',
        grant_id: event.grant_id ?? ''
      });
      this._stopMessages.delete(event.run_id);
    }
  }

  private _startTicker(): void {
    if (this._ticker === null) {
      this._ticker = setInterval(() => {
        for (const entry of this._countdowns.values()) {
          this._render(entry);
        }
      }, 1000);
    }
  }

  private _stopTicker(): void {
    if (this._ticker !== null) {
      clearInterval(this._ticker);
      this._ticker = null;
    }
  }

  private _isDisposed = false;
  private _client: IBudgetClient;
  private _model: IComputePanelModel;
  private _findNotebook: (kernelId: string) => IIdleNotebook | null;
  private _moveToTier: (panel: NotebookPanel, tierId: string) => Promise<void>;
  private _now: () => number;
  private _trans: TranslationBundle;
  private _poll: Poll | null = null;
  private _ticker: ReturnType<typeof setInterval> | null = null;
  private _shown = new Set<string>();
  private _delivering = new Set<string>();
  private _countdowns = new Map<string, Private.ICountdownToast>();
  private _stoppedRuns = new Set<string>();
  private _stopMessages = new Map<string, string>();
}

export namespace BudgetNotifier {
  export interface IOptions {
    /**
     * The client of `GET /alerts` and `POST /alerts/{id}/delivered`.
     */
    client: IBudgetClient;
    /**
     * The model: its handshake, and its tiers (labels, the free tier).
     */
    model: IComputePanelModel;
    /**
     * The server's event stream (`serviceManager.events.stream`).
     */
    events?: ISignal<unknown, IEventEmission>;
    /**
     * The open notebook whose kernel is `kernelId`, or null.
     */
    findNotebook: (kernelId: string) => IIdleNotebook | null;
    /**
     * Move `panel` to the tier `tierId` (the move command, on that notebook).
     */
    moveToTier: (panel: NotebookPanel, tierId: string) => Promise<void>;
    translator?: ITranslator;
    /**
     * Poll the server (default true); tests call `check()` instead.
     */
    poll?: boolean;
    /**
     * The clock, in ms since the epoch (tests).
     */
    now?: () => number;
  }
}

namespace Private {
  /**
   * A countdown on screen for one kernel.
   */
  export interface ICountdownToast {
    id: string;
    countdown: ComputePanelAPI.ICountdown;
    /**
     * Local time (ms) of the stop: the server's seconds_left from when it was
     * fetched, so that clock skew does not matter.
     */
    stopAt: number;
    notebook: IIdleNotebook | null;
    /**
     * The user dismissed it (or moved): stop updating it.
     */
    dismissed: boolean;
  }

  export function frequency(interval: number): IPoll.Frequency {
    return { interval, backoff: true, max: Math.max(interval * 10, 60000) };
  }
}
