import { Notification } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError } from '../api';
import type { IEventEmission } from '../model';
import { IComputePanelModel, TRANSLATION_DOMAIN } from '../tokens';
import { formatMoney } from '../money';

/**
 * An open notebook whose kernel is `kernelId`, as the notifier names it.
 */
export interface IIdleNotebook {
  /**
   * The name shown to the user, e.g. `robust.ipynb`.
   */
  label: string;
  panel: NotebookPanel;
}

/**
 * The local wall-clock time of an ISO date-time, e.g. `17:45`.
 */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * Turns the server's idle events about paid kernels of open notebooks into
 * notifications: a warning with "Keep it" and "Move to <free tier>" before the
 * shutdown, and a notice with the run's cost once the kernel was culled.
 *
 * It watches every open notebook, not only the current one: the kernel that is
 * about to be shut down is often in a background tab.
 */
export class IdleNotifier implements IDisposable {
  constructor(options: IdleNotifier.IOptions) {
    this._model = options.model;
    this._findNotebook = options.findNotebook;
    this._moveToTier = options.moveToTier;
    this._formatTime = options.formatTime ?? formatClock;
    this._trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    options.events.connect(this._onEvent, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._warnings.clear();
    Signal.clearData(this);
  }

  private _onEvent(_: unknown, emission: IEventEmission): void {
    if (emission.schema_id !== ComputePanelAPI.RUN_EVENT_SCHEMA) {
      return;
    }
    const event = emission as unknown as ComputePanelAPI.IRunEvent;
    if (event.action === 'idle_warning') {
      this._warn(event);
    } else if (event.action === 'closed') {
      this._closed(event);
    }
  }

  private _warn(event: ComputePanelAPI.IRunEvent): void {
    const notebook = this._findNotebook(event.kernel_id);
    if (!notebook || !event.shutdown_at) {
      return;
    }
    const trans = this._trans;
    const kernelId = event.kernel_id;
    const tierLabel = this._tierLabel(event.tier_id);
    const message = trans.__(
      'The %1 kernel of %2 has been idle and will be shut down at %3 to stop charges.',
      tierLabel,
      notebook.label,
      this._formatTime(event.shutdown_at)
    );
    const previous = this._warnings.get(kernelId);
    const warning: Private.IWarning = {
      id: '',
      tierLabel,
      notebookLabel: notebook.label
    };
    const actions: Notification.IAction[] = [
      {
        label: trans.__('Keep it'),
        caption: trans.__(
          'Keep the kernel running: it is shut down only after another idle timeout'
        ),
        displayType: 'accent',
        callback: (click: MouseEvent) => {
          // Keep the toast: it turns into the answer.
          click.preventDefault();
          void this._keep(kernelId, warning);
        }
      }
    ];
    const free = this._model.tiers.find(tier => tier.free);
    if (free) {
      actions.push({
        label: trans.__('Move to %1', free.label),
        caption: trans.__('Move the notebook to the free tier %1', free.label),
        callback: () => {
          this._warnings.delete(kernelId);
          void this._moveToTier(notebook.panel, free.id);
        }
      });
    }
    if (
      previous &&
      Notification.update({
        id: previous.id,
        message,
        type: 'warning',
        autoClose: false,
        actions
      })
    ) {
      warning.id = previous.id;
    } else {
      warning.id = Notification.warning(message, {
        autoClose: false,
        actions
      });
    }
    this._warnings.set(kernelId, warning);
  }

  private async _keep(
    kernelId: string,
    warning: Private.IWarning
  ): Promise<void> {
    const trans = this._trans;
    try {
      const kept = await this._model.client.keepKernel(kernelId);
      if (this._isDisposed) {
        return;
      }
      if (this._warnings.get(kernelId) === warning) {
        this._warnings.delete(kernelId);
      }
      Notification.update({
        id: warning.id,
        message: trans.__(
          'Kept: it will be shut down at %1 if it stays idle',
          this._formatTime(kept.shutdown_at)
        ),
        type: 'info',
        autoClose: 5000,
        actions: []
      });
    } catch (error) {
      if (this._isDisposed) {
        return;
      }
      Notification.update({
        id: warning.id,
        message: trans.__(
          'The %1 kernel of %2 could not be kept: %3',
          warning.tierLabel,
          warning.notebookLabel,
          ComputePanelError.fromAxios(error).message
        ),
        type: 'error',
        autoClose: false,
        actions: []
      });
    }
  }

  private _closed(event: ComputePanelAPI.IRunEvent): void {
    const warning = this._warnings.get(event.kernel_id);
    this._warnings.delete(event.kernel_id);
    if (warning) {
      Notification.dismiss(warning.id);
    }
    if (event.end_reason !== 'culled') {
      return;
    }
    const notebookLabel =
      warning?.notebookLabel ?? this._findNotebook(event.kernel_id)?.label;
    if (!notebookLabel) {
      return;
    }
    Notification.info(
      this._trans.__(
        'The idle %1 kernel of %2 was shut down; its run cost %3.',
        warning?.tierLabel ?? this._tierLabel(event.tier_id),
        notebookLabel,
        formatMoney(event.cost, event.currency)
      ),
      { autoClose: false }
    );
  }

  private _tierLabel(tierId: string): string {
    return this._model.tier(tierId)?.label ?? tierId;
  }

  private _isDisposed = false;
  private _model: IComputePanelModel;
  private _findNotebook: (kernelId: string) => IIdleNotebook | null;
  private _moveToTier: (panel: NotebookPanel, tierId: string) => Promise<void>;
  private _formatTime: (iso: string) => string;
  private _trans: TranslationBundle;
  private _warnings = new Map<string, Private.IWarning>();
}

export namespace IdleNotifier {
  export interface IOptions {
    /**
     * The model: its client (keep) and its tiers (labels, the free tier).
     */
    model: IComputePanelModel;
    /**
     * The server's event stream (`serviceManager.events.stream`).
     */
    events: ISignal<unknown, IEventEmission>;
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
     * How an ISO date-time is shown; default: local hours and minutes.
     */
    formatTime?: (iso: string) => string;
  }
}

namespace Private {
  /**
   * A warning on screen for one kernel.
   */
  export interface IWarning {
    id: string;
    tierLabel: string;
    notebookLabel: string;
  }
}
