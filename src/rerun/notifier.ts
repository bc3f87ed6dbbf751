/**
 * Follows re-runs to their end in one JupyterLab notification each, updated in
 * place: "Re-running robust.ipynb on H200 training: cell 3 of 6" with Cancel;
 * then the end, with "Open executed copy" and "Compare with …".
 */
import { Notification } from '@jupyterlab/apputils';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';

import {
  ComputePanelAPI,
  ComputePanelError,
  IComputePanelClient,
  IReproduceClient
} from '../api';
import { TRANSLATION_DOMAIN } from '../tokens';
import { baseName, endMessage, endType, progressMessage } from './format';

/**
 * How often a running re-run is asked for its progress.
 */
export const RERUN_POLL_MS = 1000;

/**
 * What the notifier needs from the client.
 */
export type IRerunNotifierClient = Pick<
  IReproduceClient,
  'rerun' | 'cancelRerun'
> &
  Pick<IComputePanelClient, 'run' | 'runs'>;

/**
 * The run to compare a re-run with: the run it repeats when it names one,
 * else the newest other run of the notebook that started before it.
 */
export function pickCompareRun(
  rerun: ComputePanelAPI.IRerun,
  runs: ReadonlyArray<ComputePanelAPI.IRun>
): ComputePanelAPI.IRun | null {
  if (rerun.source_run_id) {
    return runs.find(run => run.id === rerun.source_run_id) ?? null;
  }
  const created = Date.parse(rerun.created);
  const earlier = runs
    .filter(
      run =>
        run.id !== rerun.run_id &&
        run.notebook === rerun.source &&
        !(Date.parse(run.started) > created)
    )
    .sort((a, b) => Date.parse(b.started) - Date.parse(a.started));
  return earlier[0] ?? null;
}

/**
 * Shows and updates the notification of each followed re-run.
 */
export class RerunNotifier implements IDisposable {
  constructor(options: RerunNotifier.IOptions) {
    this._client = options.client;
    this._tierLabel = options.tierLabel;
    this._openFile = options.openFile;
    this._compare = options.compare;
    this._usePoll = options.poll ?? true;
    this._trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * The ids of the re-runs followed now.
   */
  get following(): string[] {
    return [...this._entries.keys()];
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const entry of this._entries.values()) {
      entry.poll?.dispose();
    }
    this._entries.clear();
  }

  /**
   * Follow a re-run: show its progress now, and poll it until it ends.
   * Returns the id of its notification.
   */
  follow(rerun: ComputePanelAPI.IRerun): string {
    const known = this._entries.get(rerun.id);
    if (known) {
      return known.id;
    }
    const entry: Private.IEntry = {
      id: '',
      rerun,
      poll: null,
      dismissed: false,
      cancelling: false
    };
    this._entries.set(rerun.id, entry);
    if (rerun.status !== 'running') {
      entry.id = Notification.emit(this._progress(entry), 'in-progress', {
        autoClose: false
      });
      void this._end(entry);
      return entry.id;
    }
    entry.id = Notification.emit(this._progress(entry), 'in-progress', {
      autoClose: false,
      actions: this._runningActions(entry)
    });
    if (this._usePoll) {
      entry.poll = new Poll({
        factory: () => this.check(rerun.id),
        frequency: {
          interval: RERUN_POLL_MS,
          backoff: true,
          max: 30 * RERUN_POLL_MS
        },
        standby: 'when-hidden',
        name: `jupyterlab-compute-panel:rerun-${rerun.id}`
      });
    }
    return entry.id;
  }

  /**
   * One round for a followed re-run: fetch it, update its notification, and
   * end it when it ended. Rejects on failure (the poll backs off).
   */
  async check(rerunId: string): Promise<void> {
    const entry = this._entries.get(rerunId);
    if (!entry || entry.ending) {
      return;
    }
    const rerun = await this._client.rerun(rerunId);
    if (this._isDisposed || this._entries.get(rerunId) !== entry) {
      return;
    }
    entry.rerun = rerun;
    if (rerun.status === 'running') {
      this._render(entry);
    } else {
      await this._end(entry);
    }
  }

  private _runningActions(entry: Private.IEntry): Notification.IAction[] {
    const trans = this._trans;
    return [
      {
        label: entry.cancelling ? trans.__('Cancelling…') : trans.__('Cancel'),
        caption: trans.__(
          'Stop the re-run now: its kernel stops and what ran so far is kept in the executed copy'
        ),
        displayType: 'warn',
        callback: (event: MouseEvent) => {
          // Keep the toast: it turns into the end of the re-run.
          event.preventDefault();
          void this._cancel(entry);
        }
      }
    ];
  }

  private _progress(entry: Private.IEntry): string {
    const rerun = entry.rerun;
    return progressMessage(
      rerun,
      baseName(rerun.source),
      this._tierLabel(rerun.tier_id),
      this._trans
    );
  }

  private _render(entry: Private.IEntry): void {
    if (entry.dismissed) {
      return;
    }
    const updated = Notification.update({
      id: entry.id,
      message: this._progress(entry),
      type: 'in-progress',
      autoClose: false,
      actions: this._runningActions(entry)
    });
    if (!updated) {
      entry.dismissed = true; // closed by the user; the end still shows
    }
  }

  private async _cancel(entry: Private.IEntry): Promise<void> {
    if (entry.cancelling || entry.ending) {
      return;
    }
    entry.cancelling = true;
    this._render(entry);
    try {
      entry.rerun = await this._client.cancelRerun(entry.rerun.id);
    } catch (error) {
      const reason = ComputePanelError.fromAxios(error);
      if (reason.status !== 409) {
        // Still running: say why it could not be cancelled, keep following.
        entry.cancelling = false;
        Notification.error(
          this._trans.__(
            'Cannot cancel the re-run of %1: %2',
            baseName(entry.rerun.source),
            reason.message
          ),
          { autoClose: 10000 }
        );
        this._render(entry);
        return;
      }
      // 409: it had already ended; the next check shows how.
    }
    if (this._isDisposed) {
      return;
    }
    if (entry.rerun.status !== 'running') {
      await this._end(entry);
    } else {
      await this.check(entry.rerun.id).catch(() => undefined);
    }
  }

  /**
   * The re-run ended: stop polling, find its cost and the run to compare it
   * with, and turn the notification into its end.
   */
  private async _end(entry: Private.IEntry): Promise<void> {
    if (entry.ending) {
      return;
    }
    entry.ending = true;
    entry.poll?.dispose();
    entry.poll = null;
    const rerun = entry.rerun;
    const trans = this._trans;
    const [run, other] = await Promise.all([
      rerun.run_id
        ? this._client.run(rerun.run_id).catch(() => null)
        : Promise.resolve(null),
      rerun.run_id ? this._compareTarget(rerun) : Promise.resolve(null)
    ]);
    if (this._isDisposed) {
      return;
    }
    const actions: Notification.IAction[] = [];
    const output = rerun.output;
    if (output) {
      actions.push({
        label: trans.__('Open executed copy'),
        caption: trans.__('Open %1', output),
        displayType: rerun.status === 'completed' ? 'default' : 'accent',
        callback: () => this._openFile(output)
      });
    }
    if (other && rerun.run_id && rerun.status === 'completed') {
      const runIds = [other.id, rerun.run_id];
      actions.push({
        label: trans.__('Compare with %1', other.tier_label ?? other.tier_id),
        caption: trans.__(
          'Compare this re-run with the run of %1 on %2 started %3',
          baseName(rerun.source),
          other.tier_label ?? other.tier_id,
          other.started.replace('T', ' ').slice(0, 16)
        ),
        displayType: 'accent',
        callback: () => this._compare(runIds)
      });
    }
    const message = endMessage(
      rerun,
      baseName(rerun.source),
      this._tierLabel(rerun.tier_id),
      trans,
      run && run.status === 'closed' ? run.cost : null
    );
    const type = endType(rerun.status);
    const options = { autoClose: false as const, actions };
    const updated =
      !entry.dismissed &&
      Notification.update({ id: entry.id, message, type, ...options });
    if (!updated) {
      entry.id = Notification.emit(message, type, options);
    }
    this._entries.delete(rerun.id);
  }

  private async _compareTarget(
    rerun: ComputePanelAPI.IRerun
  ): Promise<ComputePanelAPI.IRun | null> {
    try {
      if (rerun.source_run_id) {
        return await this._client.run(rerun.source_run_id);
      }
      const page = await this._client.runs({
        notebook: rerun.source,
        sort: '-started',
        limit: 20
      });
      return pickCompareRun(rerun, page.runs);
    } catch {
      return null;
    }
  }

  private _isDisposed = false;
  private _client: IRerunNotifierClient;
  private _tierLabel: (tierId: string) => string;
  private _openFile: (path: string) => void;
  private _compare: (runIds: string[]) => void;
  private _usePoll: boolean;
  private _trans: TranslationBundle;
  private _entries = new Map<string, Private.IEntry>();
}

export namespace RerunNotifier {
  export interface IOptions {
    client: IRerunNotifierClient;
    /**
     * The label of a tier id ("H200 training").
     */
    tierLabel: (tierId: string) => string;
    /**
     * Open a file of the server's root (the executed copy).
     */
    openFile: (path: string) => void;
    /**
     * Open the compare view of runs, the first being the baseline.
     */
    compare: (runIds: string[]) => void;
    translator?: ITranslator;
    /**
     * Poll the server (default true); tests call `check()` instead.
     */
    poll?: boolean;
  }
}

namespace Private {
  export interface IEntry {
    /**
     * The notification's id.
     */
    id: string;
    rerun: ComputePanelAPI.IRerun;
    poll: Poll | null;
    /**
     * The user closed the progress toast: stop updating it.
     */
    dismissed: boolean;
    cancelling: boolean;
    ending?: boolean;
  }
}
