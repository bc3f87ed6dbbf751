/**
 * After a kernel start fails in an open notebook (a refusal: a paid tier with
 * no grant, a spent budget, a viewer), keep the notebook on the kernel it had
 * and say the server's sentence readably, with what to do next.
 *
 * JupyterLab's `SessionContext` answers any failed start or kernel change by
 * dropping its session (the toolbar says "No Kernel", though the server kept
 * the previous kernel) and opening its stock "Error Starting Kernel" dialog,
 * whose `<pre>` must be scrolled sideways. Neither is an extension point, so
 * the guard works from what JupyterLab publishes: the drop is the one
 * `sessionChanged` emission whose old and new values are both null, and the
 * dialog is the one `Dialog.tracker` adds in the same synchronous run. The
 * guard then
 * - reattaches the notebook to the kernel its server session still has (the
 *   *Change kernel* and move paths), or finds that it has none (a notebook
 *   opened on a refused tier);
 * - replaces the stock dialog, when it carries only a message (a refusal has
 *   no traceback), by one that wraps the sentence, says which kernel the
 *   notebook is on now, and offers the compute panel, and Local CPU when it
 *   has no kernel. A dialog with a traceback (a kernel that crashed) is left
 *   as JupyterLab shows it.
 *
 * A refused *restart* (a restart is a new start, checked like one) reaches the
 * guard another way. `SessionContext.restartKernel()` catches the error of
 * the restart request, logs it to the console and emits `kernelChanged` with
 * the same kernel as old and new value, leaving `isReady` false (a successful
 * restart emits the same, with `isReady` true). The answer's sentence is not
 * passed on, and the notebook still shows the kernel, though the server has
 * none: the old process stopped before the new start was refused, so the
 * server drops the kernel and its notebook's session, and keeps the sentence
 * for the user who asked (`GET /compute-panel/kernels/{id}/refusal`; in lab
 * mode the user's server forwards it to the compute gateway, which refused).
 * Asking the server is the honest way to learn the reason: it is the one that
 * refused, it says nothing for a restart that failed otherwise (then
 * JupyterLab's handling stands), and nothing of JupyterLab is patched. The
 * guard then lets the notebook drop its session as the server did, with no
 * kernel pending (it says "No Kernel"), and says the sentence with *Start on
 * Local CPU* and the compute panel.
 */
import {
  Dialog,
  ISessionContext,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel, Session } from '@jupyterlab/services';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import * as React from 'react';

import type { IComputePanelClient } from '../api';
import { TRANSLATION_DOMAIN } from '../tokens';

/**
 * How long the stock dialog's body may take to render before it is read.
 */
const RENDER_WAIT_MS = 5000;

/**
 * The class that hides the stock dialog while the guard reads it.
 */
export const SUPERSEDED_CLASS = 'jp-ComputePanel-supersededDialog';

/**
 * A notebook whose start failed, and the outcome of putting it back.
 */
interface IFailure {
  panel: NotebookPanel;
  /**
   * The kernel the notebook is on again, or null: it has none.
   */
  recovered: Promise<Kernel.IModel | null>;
}

/**
 * The body of a shown dialog once React has rendered it (null if it never is).
 */
async function renderedBody(dialog: Dialog<unknown>): Promise<Element | null> {
  await dialog.ready;
  const deadline = Date.now() + RENDER_WAIT_MS;
  for (;;) {
    const body = dialog.node.querySelector('.jp-Dialog-body');
    if (body?.firstElementChild || dialog.isDisposed) {
      return body;
    }
    if (Date.now() > deadline) {
      return null;
    }
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

export class StartFailureGuard implements IDisposable {
  constructor(options: StartFailureGuard.IOptions) {
    this._tracker = options.tracker;
    this._sessions = options.sessions;
    this._refusals = options.refusals;
    this._dialogs = options.dialogs ?? Dialog.tracker;
    this._actions = options.actions;
    this._trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    this._tracker.forEach(panel => this._watch(panel));
    this._tracker.widgetAdded.connect(this._onPanelAdded, this);
    this._dialogs.widgetAdded.connect(this._onDialogAdded, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._failure = null;
    Signal.disconnectReceiver(this);
  }

  private _onPanelAdded(_: unknown, panel: NotebookPanel): void {
    this._watch(panel);
  }

  private _watch(panel: NotebookPanel): void {
    panel.sessionContext.sessionChanged.connect(this._onSessionChanged, this);
    panel.sessionContext.kernelChanged.connect(this._onKernelChanged, this);
  }

  private _onKernelChanged(
    sessionContext: ISessionContext,
    args: { oldValue: Kernel.IKernelConnection | null; newValue: unknown }
  ): void {
    // The end of restartKernel() (see above): the same kernel, not ready.
    const kernel = args.oldValue;
    if (!kernel || args.newValue !== kernel || sessionContext.isReady) {
      return;
    }
    const panel = this._tracker.find(w => w.sessionContext === sessionContext);
    if (panel && !sessionContext.isDisposed) {
      void this._afterFailedRestart(panel, kernel);
    }
  }

  /**
   * Ask the server why the restart failed; if it refused, say so and let the
   * notebook show what the server has (no kernel).
   */
  private async _afterFailedRestart(
    panel: NotebookPanel,
    kernel: Kernel.IKernelConnection
  ): Promise<void> {
    let refusal: { message: string } | null = null;
    try {
      refusal = await this._refusals.restartRefusal(kernel.id);
    } catch {
      return; // the server cannot say: JupyterLab's handling stands
    }
    if (!refusal || this._isDisposed || panel.isDisposed) {
      return; // not a refusal (or the guard is gone)
    }
    const context = panel.sessionContext;
    this._recovering.add(panel); // the drop below is not a failed start
    try {
      // The server dropped the session: its list disposes the notebook's.
      await this._sessions.refreshRunning();
      // No kernel pending either (JupyterLab would show the paid tier's name
      // as if it were starting): the notebook says "No Kernel". A session the
      // server still lists is deleted: its kernel has no process.
      await context.shutdown();
    } catch {
      // the notebook says what it can; the dialog says the rest
    } finally {
      this._recovering.delete(panel);
    }
    if (!this._isDisposed && !panel.isDisposed) {
      await this._say(panel, refusal.message, 'restart');
    }
  }

  private _onSessionChanged(
    sessionContext: ISessionContext,
    args: { oldValue: unknown; newValue: unknown }
  ): void {
    if (args.oldValue !== null || args.newValue !== null) {
      return; // a session came or went; only a failed start emits null to null
    }
    const panel = this._tracker.find(w => w.sessionContext === sessionContext);
    if (!panel || sessionContext.isDisposed || this._recovering.has(panel)) {
      return; // a failure of our own reattachment is JupyterLab's to show
    }
    // JupyterLab builds its dialog of the failure right after this emission,
    // in the same synchronous run (Dialog.tracker announces it at once): the
    // failure is the next dialog's only until this run ends.
    const failure = { panel, recovered: this._recover(panel) };
    this._failure = failure;
    void Promise.resolve().then(() => {
      if (this._failure === failure) {
        this._failure = null;
      }
    });
  }

  /**
   * Put the notebook back on the kernel its server session kept, if any.
   */
  private async _recover(panel: NotebookPanel): Promise<Kernel.IModel | null> {
    const context = panel.sessionContext;
    this._recovering.add(panel);
    try {
      await this._sessions.refreshRunning();
      if (context.isDisposed) {
        return null;
      }
      if (context.session?.kernel) {
        return context.session.kernel.model; // the user has chosen another meanwhile
      }
      let kept: Session.IModel | undefined;
      for (const model of this._sessions.running()) {
        if (model.path === context.path && model.kernel) {
          kept = model;
        }
      }
      if (!kept?.kernel) {
        return null;
      }
      await context.changeKernel({
        id: kept.kernel.id,
        name: kept.kernel.name
      });
      return context.session?.kernel?.model ?? null;
    } catch {
      return null; // the previous kernel is gone too: the notebook has none
    } finally {
      this._recovering.delete(panel);
    }
  }

  private _onDialogAdded(_: unknown, dialog: Dialog<unknown>): void {
    const failure = this._failure;
    this._failure = null;
    if (!failure) {
      return;
    }
    dialog.addClass(SUPERSEDED_CLASS);
    void this._supersede(dialog, failure);
  }

  private async _supersede(
    dialog: Dialog<unknown>,
    failure: IFailure
  ): Promise<void> {
    const body = await renderedBody(dialog);
    const message = body?.querySelector('pre')?.textContent?.trim() ?? '';
    const refusal = !!message && !body?.querySelector('details');
    if (!refusal || this._isDisposed) {
      dialog.removeClass(SUPERSEDED_CLASS); // not a refusal: JupyterLab's dialog as it is
      return;
    }
    dialog.reject();
    await failure.recovered;
    if (!this._isDisposed && !failure.panel.isDisposed) {
      await this._say(failure.panel, message);
    }
  }

  private async _say(
    panel: NotebookPanel,
    message: string,
    what: 'start' | 'restart' = 'start'
  ): Promise<void> {
    const trans = this._trans;
    // Where the notebook is when the dialog shows (JupyterLab may have asked
    // for a kernel first, when the notebook was opened on a refused tier).
    const kernel = panel.sessionContext.session?.kernel ?? null;
    const notebook = panel.title.label || panel.context.path;
    const local = kernel ? null : this._actions.localTier();
    const openPanel = Dialog.createButton({
      label: trans.__('Open Compute Panel'),
      caption: trans.__('Choose a grant or another tier in the compute panel'),
      actions: ['open-panel'],
      accept: true
    });
    const buttons = kernel
      ? [openPanel, Dialog.okButton({ label: trans.__('OK') })]
      : [
          openPanel,
          ...(local
            ? [
                Dialog.createButton({
                  label: trans.__('Start on %1', local.label),
                  caption: trans.__(
                    'Start the notebook kernel on %1, free',
                    local.label
                  ),
                  actions: ['start-local'],
                  accept: true
                })
              ]
            : []),
          Dialog.cancelButton({ label: trans.__('Close') })
        ];
    const result = await showDialog({
      title:
        what === 'restart'
          ? trans.__('Kernel not restarted')
          : trans.__('Kernel not started'),
      body: (
        <div className="jp-ComputePanel-refusal">
          <p className="jp-ComputePanel-refusalSentence">{message}</p>
          <p className="jp-ComputePanel-refusalState">
            {kernel
              ? trans.__(
                  '%1 is on its kernel, %2.',
                  notebook,
                  this._actions.kernelLabel(kernel.name)
                )
              : trans.__('%1 has no kernel now.', notebook)}
          </p>
        </div>
      ),
      buttons,
      defaultButton: buttons.length - 1
    });
    const actions = result.button.actions;
    if (actions.includes('open-panel')) {
      await this._actions.openPanel();
    } else if (actions.includes('start-local') && local) {
      await this._actions.moveToTier(panel, local.id);
    }
  }

  private readonly _tracker: INotebookTracker;
  private readonly _sessions: Session.IManager;
  private readonly _refusals: Pick<IComputePanelClient, 'restartRefusal'>;
  private readonly _dialogs: WidgetTracker<Dialog<any>>;
  private readonly _actions: StartFailureGuard.IActions;
  private readonly _trans: TranslationBundle;
  private _failure: IFailure | null = null;
  private readonly _recovering = new Set<NotebookPanel>();
  private _isDisposed = false;
}

export namespace StartFailureGuard {
  /**
   * What the guard's dialog offers.
   */
  export interface IActions {
    /**
     * The free tier to offer a notebook that has no kernel (null: none).
     */
    localTier(): { id: string; label: string } | null;
    /**
     * The name to show for a kernel: its tier's label, else its kernelspec's.
     */
    kernelLabel(kernelName: string): string;
    openPanel(): Promise<void>;
    moveToTier(panel: NotebookPanel, tierId: string): Promise<void>;
  }

  export interface IOptions {
    tracker: INotebookTracker;
    /**
     * The server's sessions: the kernel a notebook's session kept.
     */
    sessions: Session.IManager;
    /**
     * The server's record of refused restarts (the API client).
     */
    refusals: Pick<IComputePanelClient, 'restartRefusal'>;
    /**
     * The dialogs to watch (default: JupyterLab's `Dialog.tracker`).
     */
    dialogs?: WidgetTracker<Dialog<any>>;
    actions: IActions;
    translator?: ITranslator;
  }
}
