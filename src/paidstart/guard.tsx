/**
 * No paid kernel starts without its user having seen the price (decision 10).
 *
 * - **Opening or restoring a notebook** saved on a paid tier: JupyterLab's
 *   `SessionContext` starts the kernel its metadata names as soon as the
 *   document is read. The guard sees each notebook as its widget is created
 *   (the widget factory's `widgetCreated`, before the document is read) and,
 *   while the notebook opens, turns the session's `kernelPreference.shouldStart`
 *   off whenever it names a paid tier's kernelspec (JupyterLab's own switch,
 *   read when it decides to start). Once JupyterLab has opened the session
 *   (`ready`), the preference is put back and the user chooses, as the
 *   `paidStartOnOpen` setting says: a question with the price per hour and
 *   the grant it would charge (start there, on the free tier, or no kernel),
 *   or a start on the free tier with the move back offered. A notebook whose
 *   kernel still runs (a reload) is reconnected, not started: nothing asks.
 * - **A paid start by another path** (JupyterLab's *Change kernel* dialog,
 *   its launcher): a kernel of a paid tier that this page started without the
 *   compute panel's confirmation (which writes the tier into the notebook's
 *   metadata before the kernel changes) is said at once, with its price, the
 *   grant it charges and *Move to* the free tier.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel, KernelSpec } from '@jupyterlab/services';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { ComputePanelAPI } from '../api';
import { readComputeMetadata } from '../metadata';
import {
  IComputePanelModel,
  METADATA_KEY,
  TRANSLATION_DOMAIN
} from '../tokens';
import {
  askSentence,
  IPaidKernel,
  paidKernelOf,
  paidStartMessage,
  startedLocalMessage
} from './rules';

/**
 * How long the question waits for the model's tiers before it asks with what
 * the kernelspec says.
 */
const TIERS_WAIT_MS = 15000;

/**
 * Kernelspec names of tiers start with it (`compute-panel-<tier>-<base>`):
 * such a name is held back while the kernelspecs are not known yet.
 */
const TIER_SPEC_PREFIX = 'compute-panel-';

/**
 * What the guard knows of one notebook.
 */
interface IWatched {
  panel: NotebookPanel;
  /**
   * True until JupyterLab has opened the notebook's session.
   */
  opening: boolean;
  /**
   * The kernel held back on opening, and the preference it replaced.
   */
  held: { name: string; shouldStart: boolean | undefined } | null;
}

export class PaidStartGuard implements IDisposable {
  constructor(options: PaidStartGuard.IOptions) {
    this._model = options.model;
    this._specs = options.specs;
    this._actions = options.actions;
    this._trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    this._pageLoadedAt = options.pageLoadedAt ?? Date.now();
    options.created.connect(this._onCreated, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.disconnectReceiver(this);
  }

  /**
   * Watch a notebook from its creation on (exposed for notebooks created
   * before the guard, which have nothing held).
   */
  watch(panel: NotebookPanel): void {
    const context = panel.sessionContext;
    if (this._watched.has(context)) {
      return;
    }
    const watched: IWatched = {
      panel,
      opening: !context.isReady,
      held: null
    };
    this._watched.set(context, watched);
    context.kernelPreferenceChanged.connect(this._onPreference, this);
    context.kernelChanged.connect(this._onKernelChanged, this);
    panel.disposed.connect(() => this._watched.delete(context), this);
    if (watched.opening) {
      this._hold(context, watched);
      void context.ready.then(() => this._opened(panel, watched));
    }
  }

  private _onCreated(_: unknown, panel: NotebookPanel): void {
    this.watch(panel);
  }

  private _onPreference(context: NotebookPanel['sessionContext']): void {
    const watched = this._watched.get(context);
    if (watched?.opening) {
      this._hold(context, watched);
    }
  }

  /**
   * Turn the auto-start off while the preference names a paid kernel (or a
   * tier's kernel of a price not known yet).
   */
  private _hold(
    context: NotebookPanel['sessionContext'],
    watched: IWatched
  ): void {
    const preference = context.kernelPreference;
    const name = preference.name;
    const held = watched.held;
    if (held && preference.shouldStart === false) {
      // Held already; JupyterLab may name another kernel once the document
      // is read (the notebook's own kernelspec over the one it was opened
      // with): hold that one, or let a kernel that costs nothing start.
      if (name && name !== held.name) {
        if (this._mayBePaid(name)) {
          held.name = name;
        } else {
          watched.held = null;
          context.kernelPreference = {
            ...preference,
            shouldStart: held.shouldStart
          };
        }
      }
      return;
    }
    if (
      !name ||
      preference.shouldStart === false ||
      preference.canStart === false ||
      !this._mayBePaid(name)
    ) {
      return;
    }
    watched.held = { name, shouldStart: preference.shouldStart };
    context.kernelPreference = { ...preference, shouldStart: false };
  }

  private _mayBePaid(name: string): boolean {
    const specs = this._specs.specs;
    if (!specs) {
      return name.startsWith(TIER_SPEC_PREFIX);
    }
    return !!paidKernelOf(specs.kernelspecs[name]);
  }

  private _paidKernel(name: string | undefined | null): IPaidKernel | null {
    return name ? paidKernelOf(this._specs.specs?.kernelspecs[name]) : null;
  }

  /**
   * JupyterLab has opened the session: put the preference back, and ask
   * about the kernel held back, if any.
   */
  private async _opened(
    panel: NotebookPanel,
    watched: IWatched
  ): Promise<void> {
    watched.opening = false;
    const held = watched.held;
    watched.held = null;
    const context = panel.sessionContext;
    if (!held || context.isDisposed || this._isDisposed) {
      return;
    }
    context.kernelPreference = {
      ...context.kernelPreference,
      shouldStart: held.shouldStart
    };
    if (context.session?.kernel) {
      return; // reconnected to a kernel that runs already: nothing starts
    }
    await this._specs.ready;
    const paid = this._paidKernel(held.name);
    if (!paid) {
      // A tier kernel that turned out free once the kernelspecs were known:
      // the start JupyterLab would have made.
      await context.changeKernel({ name: held.name }).catch(() => undefined);
      return;
    }
    await this._whenTiersKnown();
    if (panel.isDisposed || this._isDisposed || context.session?.kernel) {
      return;
    }
    if (this._model.settings.paidStartOnOpen === 'start-local') {
      await this._startLocal(panel, paid, held.name);
    } else {
      await this._ask(panel, paid, held.name);
    }
  }

  private _localTier(): ComputePanelAPI.ITier | null {
    return this._model.tiers.find(tier => tier.free) ?? null;
  }

  private async _ask(
    panel: NotebookPanel,
    paid: IPaidKernel,
    kernelName: string
  ): Promise<void> {
    const trans = this._trans;
    const tier = this._model.tier(paid.tierId);
    const local = this._localTier();
    const grant = tier ? await this._boundGrant(panel, tier) : null;
    if (panel.isDisposed || panel.sessionContext.session?.kernel) {
      return;
    }
    const notebook = panel.title.label || panel.context.path;
    const buttons = [
      Dialog.cancelButton({
        label: trans.__('No kernel'),
        caption: trans.__('Open the notebook without a kernel')
      }),
      ...(local
        ? [
            Dialog.createButton({
              label: trans.__('Start on %1', local.label),
              caption: trans.__('Start the kernel on %1, free', local.label),
              actions: ['start-local'],
              accept: true
            })
          ]
        : []),
      Dialog.okButton({
        label: trans.__('Start on %1', paid.label),
        caption: trans.__('Start the kernel on %1, paid', paid.label),
        actions: ['start-paid']
      })
    ];
    const result = await showDialog({
      title: trans.__('Start a paid kernel?'),
      body: (
        <div className="jp-ComputePanel-paidStart">
          <p className="jp-ComputePanel-paidStartSentence">
            {askSentence(notebook, paid, grant, trans)}
          </p>
          <p>{trans.__('No kernel runs until you choose.')}</p>
        </div>
      ),
      buttons,
      // Enter starts nothing that costs money.
      defaultButton: local ? 1 : 0
    });
    if (panel.isDisposed || panel.sessionContext.session?.kernel) {
      return;
    }
    const actions = result.button.actions;
    if (actions.includes('start-paid')) {
      if (tier) {
        await this._actions.moveToTier(panel, tier.id, true);
      } else {
        // The server extension is not answering: the kernelspec's own start.
        await panel.sessionContext
          .changeKernel({ name: kernelName })
          .catch(() => undefined);
      }
    } else if (actions.includes('start-local') && local) {
      await this._actions.moveToTier(panel, local.id, true);
    }
  }

  private async _startLocal(
    panel: NotebookPanel,
    paid: IPaidKernel,
    kernelName: string
  ): Promise<void> {
    const local = this._localTier();
    if (!local) {
      return this._ask(panel, paid, kernelName); // no free tier to start on
    }
    if (!(await this._actions.moveToTier(panel, local.id, true))) {
      return;
    }
    const trans = this._trans;
    const notebook = panel.title.label || panel.context.path;
    const tierId = paid.tierId;
    Notification.info(startedLocalMessage(notebook, paid, local.label, trans), {
      autoClose: false,
      actions: this._model.tier(tierId)
        ? [
            {
              label: trans.__('Move to %1', paid.label),
              caption: trans.__(
                'Move the notebook to %1 (you see the price and the grant first)',
                paid.label
              ),
              callback: () => {
                void this._actions.moveToTier(panel, tierId, false);
              }
            }
          ]
        : []
    });
  }

  /**
   * The grant a start would charge without asking: the notebook's, when the
   * user may charge it.
   */
  private async _boundGrant(
    panel: NotebookPanel,
    tier: ComputePanelAPI.ITier
  ): Promise<ComputePanelAPI.IGrant | null> {
    try {
      const { grants, bound } = await this._actions.grantToCharge(panel, tier);
      return grants.find(grant => grant.id === bound) ?? null;
    } catch {
      return null;
    }
  }

  private _whenTiersKnown(): Promise<void> {
    const model = this._model;
    const known = () =>
      model.tiers.length > 0 ||
      model.error !== null ||
      (model.handshake.status !== 'pending' && model.handshake.status !== 'ok');
    if (known()) {
      return Promise.resolve();
    }
    return new Promise(resolve => {
      const done = () => {
        clearTimeout(timer);
        model.stateChanged.disconnect(check);
        resolve();
      };
      const check = () => {
        if (known()) {
          done();
        }
      };
      const timer = setTimeout(done, TIERS_WAIT_MS);
      model.stateChanged.connect(check);
    });
  }

  private _onKernelChanged(
    context: NotebookPanel['sessionContext'],
    args: { newValue: Kernel.IKernelConnection | null }
  ): void {
    const kernel = args.newValue;
    const paid = this._paidKernel(kernel?.name);
    if (!kernel || !paid || this._said.has(kernel.id)) {
      return;
    }
    const panel = this._panelOf(context);
    if (!panel) {
      return;
    }
    const metadata = readComputeMetadata(
      panel.model?.getMetadata(METADATA_KEY)
    );
    if (metadata.kind === 'valid' && metadata.value.tier === paid.tierId) {
      return; // the compute panel's move: confirmed with the price
    }
    this._said.add(kernel.id);
    void this._sayPaidStart(panel, kernel.id, paid);
  }

  private _panelOf(
    context: NotebookPanel['sessionContext']
  ): NotebookPanel | null {
    return this._watched.get(context)?.panel ?? null;
  }

  private async _sayPaidStart(
    panel: NotebookPanel,
    kernelId: string,
    paid: IPaidKernel
  ): Promise<void> {
    let run: ComputePanelAPI.IRun | null = null;
    try {
      run = await this._model.client.kernelRun(kernelId);
    } catch {
      run = null; // not metered yet, or the server is away: say the price
    }
    if (run && Date.parse(run.started) < this._pageLoadedAt) {
      return; // it ran before this page: a restored session, not a start
    }
    if (
      panel.isDisposed ||
      panel.sessionContext.session?.kernel?.id !== kernelId
    ) {
      return;
    }
    const trans = this._trans;
    const grantId = run?.grant_id ?? null;
    const grant = grantId
      ? (this._model.grants.find(g => g.id === grantId) ?? { id: grantId })
      : null;
    const notebook = panel.title.label || panel.context.path;
    const local = this._localTier();
    Notification.warning(paidStartMessage(notebook, paid, grant, trans), {
      autoClose: false,
      actions: local
        ? [
            {
              label: trans.__('Move to %1', local.label),
              caption: trans.__(
                'Move the notebook to %1, free; this kernel stops',
                local.label
              ),
              callback: () => {
                void this._actions.moveToTier(panel, local.id, true);
              }
            }
          ]
        : []
    });
  }

  private readonly _model: IComputePanelModel;
  private readonly _specs: KernelSpec.IManager;
  private readonly _actions: PaidStartGuard.IActions;
  private readonly _trans: TranslationBundle;
  private readonly _pageLoadedAt: number;
  private readonly _watched = new Map<
    NotebookPanel['sessionContext'],
    IWatched
  >();
  /**
   * The paid kernels already said (once each).
   */
  private readonly _said = new Set<string>();
  private _isDisposed = false;
}

export namespace PaidStartGuard {
  export interface IActions {
    /**
     * Move (or start) a notebook on a tier; `confirmed`: the user has just
     * seen the price and the grant, so no second question when that grant
     * is usable.
     */
    moveToTier(
      panel: NotebookPanel,
      tierId: string,
      confirmed: boolean
    ): Promise<boolean>;
    /**
     * The grants the user may charge and the notebook's own.
     */
    grantToCharge(
      panel: NotebookPanel,
      tier: ComputePanelAPI.ITier
    ): Promise<{
      grants: ReadonlyArray<ComputePanelAPI.IGrant>;
      bound: string | null;
    }>;
  }

  export interface IOptions {
    /**
     * Emits each notebook as its widget is created, before its document is
     * read (the notebook widget factory's `widgetCreated`).
     */
    created: ISignal<unknown, NotebookPanel>;
    specs: KernelSpec.IManager;
    model: IComputePanelModel;
    actions: IActions;
    translator?: ITranslator;
    /**
     * When this page loaded (ms since the epoch): a kernel whose run started
     * before it was not started by this page.
     */
    pageLoadedAt?: number;
  }
}
