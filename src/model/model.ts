import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import type { NotebookPanel } from '@jupyterlab/notebook';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import {
  ComputePanelAPI,
  ComputePanelError,
  IComputePanelClient
} from '../api';
import { metadataWarning } from '../metadata';
import { parseMicros } from '../money';
import {
  DEFAULT_SETTINGS,
  IComputePanelModel,
  IComputePanelSettings,
  IHandshake,
  ILiveCost,
  TRANSLATION_DOMAIN
} from '../tokens';
import { checkVersion } from './handshake';
import { pickKernelspec, tierForKernel } from './kernelspecs';
import { liveCostOf } from './liveCost';
import { mergeSettings } from './settings';
import { IEventEmission, readRunEvent, sameGrants } from './updates';

export { IEventEmission };

/**
 * The compute-panel model.
 */
export class ComputePanelModel implements IComputePanelModel {
  constructor(options: ComputePanelModel.IOptions) {
    this.client = options.client;
    this._trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    this._usePoll = options.poll ?? true;
    this._events = options.events ?? null;
    this._events?.connect(this._onEvent, this);
  }

  readonly client: IComputePanelClient;

  get stateChanged(): ISignal<IComputePanelModel, void> {
    return this._stateChanged;
  }

  get costChanged(): ISignal<IComputePanelModel, ILiveCost | null> {
    return this._costChanged;
  }

  get refreshed(): ISignal<IComputePanelModel, void> {
    return this._refreshed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get settings(): IComputePanelSettings {
    return this._settings;
  }

  get handshake(): IHandshake {
    return this._handshake;
  }

  get catalogError(): string | null {
    return this._handshake.server?.catalog_error || null;
  }

  get error(): string | null {
    return this._error;
  }

  /**
   * The server's sentence while the ledger is unreachable (a 503); see the token.
   */
  get unavailable(): string | null {
    return this._unavailable;
  }

  get tiers(): ReadonlyArray<ComputePanelAPI.ITier> {
    return this._tiers;
  }

  get grants(): ReadonlyArray<ComputePanelAPI.IGrant> {
    return this._grants;
  }

  get notebook(): NotebookPanel | null {
    return this._notebook;
  }

  get kernelName(): string | null {
    return this._kernelName;
  }

  get currentTier(): ComputePanelAPI.ITier | null {
    return this.tierForKernel(this._kernelName);
  }

  get run(): ComputePanelAPI.IRun | null {
    return this._run;
  }

  get metadataWarning(): string | null {
    return this._metadataWarning;
  }

  /**
   * The cost of the current run so far (see `liveCostOf`).
   */
  get liveCost(): ILiveCost | null {
    return this._run
      ? liveCostOf(this._run, this._rateMicros, Date.now() - this._fetchedAt)
      : null;
  }

  setSettings(settings: Partial<IComputePanelSettings>): void {
    const next = mergeSettings(this._settings, settings);
    const intervalChanged =
      next.refreshInterval !== this._settings.refreshInterval;
    this._settings = next;
    if (intervalChanged && this._poll) {
      this._poll.frequency = this._frequency();
    }
    this._stateChanged.emit();
  }

  tier(tierId: string): ComputePanelAPI.ITier | null {
    return this._tiers.find(tier => tier.id === tierId) ?? null;
  }

  tierForKernel(
    kernelName: string | null | undefined
  ): ComputePanelAPI.ITier | null {
    return tierForKernel(this._tiers, kernelName);
  }

  kernelspecFor(tier: ComputePanelAPI.ITier): string | null {
    return pickKernelspec(this._tiers, tier, this._kernelName);
  }

  setNotebook(notebook: NotebookPanel | null): void {
    if (notebook === this._notebook) {
      return;
    }
    const previous = this._notebook;
    if (previous) {
      previous.sessionContext.kernelChanged.disconnect(
        this._onKernelChanged,
        this
      );
      previous.sessionContext.sessionChanged.disconnect(
        this._onKernelChanged,
        this
      );
      previous.disposed.disconnect(this._onNotebookDisposed, this);
      previous.model?.metadataChanged.disconnect(this._onMetadataChanged, this);
    }
    this._notebook = notebook;
    if (notebook) {
      notebook.sessionContext.kernelChanged.connect(
        this._onKernelChanged,
        this
      );
      notebook.sessionContext.sessionChanged.connect(
        this._onKernelChanged,
        this
      );
      notebook.disposed.connect(this._onNotebookDisposed, this);
      notebook.model?.metadataChanged.connect(this._onMetadataChanged, this);
    }
    this._readMetadata();
    this._updateKernel(true);
  }

  checkMetadata(): void {
    this._readMetadata();
    this._stateChanged.emit();
  }

  async initialize(): Promise<void> {
    await this._checkVersion();
    const status = this._handshake.status;
    if (status === 'missing' || status === 'error') {
      return;
    }
    if (
      status === 'mismatch' &&
      this._handshake.server?.api !== ComputePanelAPI.API_VERSION
    ) {
      return;
    }
    await this.refresh();
    if (this._usePoll && !this._poll && !this._isDisposed) {
      this._poll = new Poll({
        factory: () => this._refreshOrThrow(),
        frequency: this._frequency(),
        standby: 'when-hidden',
        name: 'jupyterlab-compute-panel:refresh'
      });
    }
  }

  async refresh(): Promise<void> {
    try {
      await this._refreshOrThrow();
    } catch {
      // The error is already held in `error`.
    }
  }

  async refreshGrants(): Promise<ReadonlyArray<ComputePanelAPI.IGrant>> {
    try {
      await this._loadGrants();
    } catch {
      // The error is already held in `error`.
    }
    return this._grants;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    // Drops every connection to and from the model (notebook, events, views)
    // before the teardown below, so that it emits to no one.
    Signal.clearData(this);
    this.setNotebook(null);
    this._events = null;
    this._poll?.dispose();
    this._poll = null;
    this._stopTicker();
  }

  /**
   * Refresh tiers and run; rejects on failure (for the poll's backoff).
   * Concurrent calls share one request round; a call during a round
   * schedules one more round.
   */
  private _refreshOrThrow(): Promise<void> {
    if (this._refreshing) {
      this._refreshAgain = true;
      return this._refreshing;
    }
    const round = async (): Promise<void> => {
      try {
        do {
          this._refreshAgain = false;
          await Promise.all([
            this._loadTiers(),
            this._loadRun(),
            this._loadGrants()
          ]);
        } while (this._refreshAgain && !this._isDisposed);
      } finally {
        this._refreshing = null;
      }
      if (!this._isDisposed) {
        this._refreshed.emit();
      }
    };
    this._refreshing = round();
    return this._refreshing;
  }

  private async _checkVersion(): Promise<void> {
    this._handshake = await checkVersion(this.client, this._trans);
    this._stateChanged.emit();
  }

  private async _loadTiers(): Promise<void> {
    try {
      const tiers = await this.client.tiers();
      if (this._isDisposed) {
        return;
      }
      const before = this.currentTier?.id;
      this._tiers = tiers;
      this._error = null;
      this._stateChanged.emit();
      if (this.currentTier?.id !== before) {
        // The kernel became (or stopped being) a tier kernel.
        void this._loadRun().catch(() => undefined);
      }
    } catch (error) {
      this._setError(error);
      throw error;
    }
  }

  private async _loadGrants(): Promise<void> {
    try {
      const grants = await this.client.grants({ active: true });
      if (this._isDisposed) {
        return;
      }
      if (!sameGrants(this._grants, grants)) {
        this._grants = grants;
        this._stateChanged.emit();
      }
    } catch (error) {
      this._setError(error);
      throw error;
    }
  }

  private async _loadRun(): Promise<void> {
    const kernelId = this._kernelId;
    if (!kernelId || !this.currentTier) {
      if (this._run) {
        this._setRun(null);
      }
      return;
    }
    try {
      const run = await this.client.kernelRun(kernelId);
      if (this._isDisposed || kernelId !== this._kernelId) {
        return;
      }
      this._unavailable = null;
      this._setRun(run);
    } catch (error) {
      if (kernelId !== this._kernelId) {
        return;
      }
      const err = ComputePanelError.fromAxios(error);
      if (err.status === 404) {
        // No open run (yet): keep a closed run of this kernel on display.
        if (this._run?.status !== 'closed') {
          this._setRun(null);
        }
        return;
      }
      if (err.status === 503) {
        this._unavailable = err.message;
        this._setRun(null);
        throw err;
      }
      this._setError(err);
      throw err;
    }
  }

  private _setRun(run: ComputePanelAPI.IRun | null): void {
    this._run = run;
    this._fetchedAt = Date.now();
    this._rateMicros = run ? parseMicros(run.rate.amount) : null;
    if (run && run.status === 'open' && this._rateMicros !== null) {
      this._startTicker();
    } else {
      this._stopTicker();
    }
    this._stateChanged.emit();
    this._costChanged.emit(this.liveCost);
  }

  private _startTicker(): void {
    if (this._ticker !== null) {
      return;
    }
    this._ticker = setInterval(() => {
      this._costChanged.emit(this.liveCost);
    }, 1000);
  }

  private _stopTicker(): void {
    if (this._ticker !== null) {
      clearInterval(this._ticker);
      this._ticker = null;
    }
  }

  private _setError(error: unknown): void {
    const err = ComputePanelError.fromAxios(error);
    this._error = err.message;
    this._stateChanged.emit();
  }

  private _frequency(): IPoll.Frequency {
    const interval = this._settings.refreshInterval * 1000;
    return { interval, backoff: true, max: Math.max(interval * 6, 60000) };
  }

  private _onKernelChanged(): void {
    this._updateKernel(false);
  }

  private _onNotebookDisposed(): void {
    this.setNotebook(null);
  }

  private _onMetadataChanged(): void {
    const before = this._metadataWarning;
    this._readMetadata();
    if (before !== this._metadataWarning) {
      this._stateChanged.emit();
    }
  }

  private _readMetadata(): void {
    this._metadataWarning = metadataWarning(this._notebook?.model, this._trans);
  }

  private _updateKernel(force: boolean): void {
    const kernel = this._notebook?.sessionContext.session?.kernel ?? null;
    const kernelId = kernel?.id ?? null;
    const kernelName = kernel?.name ?? null;
    if (
      !force &&
      kernelId === this._kernelId &&
      kernelName === this._kernelName
    ) {
      return;
    }
    const changed = kernelId !== this._kernelId;
    this._kernelId = kernelId;
    this._kernelName = kernelName;
    if (changed && this._run) {
      this._run = null;
      this._rateMicros = null;
      this._stopTicker();
      this._costChanged.emit(null);
    }
    this._stateChanged.emit();
    if (changed) {
      // A kernel started or stopped: the tiers' counts of running kernels move too.
      void this.refresh();
    } else {
      void this._loadRun().catch(() => undefined);
    }
  }

  private _onEvent(_: unknown, emission: IEventEmission): void {
    const read = readRunEvent(emission, this._kernelId, this._run);
    if (read === 'ignore') {
      return;
    }
    if (read.closed) {
      this._setRun(read.closed);
    }
    void this.refresh();
  }

  private _isDisposed = false;
  private _trans: TranslationBundle;
  private _usePoll: boolean;
  private _events: ISignal<unknown, IEventEmission> | null;
  private _poll: Poll | null = null;
  private _refreshing: Promise<void> | null = null;
  private _refreshAgain = false;
  private _settings: IComputePanelSettings = { ...DEFAULT_SETTINGS };
  private _handshake: IHandshake = {
    status: 'pending',
    message: null,
    server: null
  };
  private _error: string | null = null;
  private _unavailable: string | null = null;
  private _tiers: ReadonlyArray<ComputePanelAPI.ITier> = [];
  private _grants: ReadonlyArray<ComputePanelAPI.IGrant> = [];
  private _notebook: NotebookPanel | null = null;
  private _kernelId: string | null = null;
  private _kernelName: string | null = null;
  private _run: ComputePanelAPI.IRun | null = null;
  private _rateMicros: bigint | null = null;
  private _fetchedAt = 0;
  private _ticker: ReturnType<typeof setInterval> | null = null;
  private _metadataWarning: string | null = null;
  private _stateChanged = new Signal<IComputePanelModel, void>(this);
  private _refreshed = new Signal<IComputePanelModel, void>(this);
  private _costChanged = new Signal<IComputePanelModel, ILiveCost | null>(this);
}

export namespace ComputePanelModel {
  export interface IOptions {
    client: IComputePanelClient;
    translator?: ITranslator;
    /**
     * The server's event stream (`serviceManager.events.stream`).
     */
    events?: ISignal<unknown, IEventEmission>;
    /**
     * Poll the server every refresh interval after `initialize` (default true).
     */
    poll?: boolean;
  }
}
