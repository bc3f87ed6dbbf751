/**
 * The latest runs of the notebook the panel follows (GET /runs?notebook=),
 * newest first, refreshed when one of its runs starts or ends and with every
 * round of the model's poll (where no run event reaches the page, an open
 * run's figures and its end still show within a refresh interval).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { BurstRefresh, runStartedOrEnded } from '../runEvents';
import { IComputePanelModel } from '../tokens';

export class NotebookRunsModel implements IDisposable {
  constructor(options: NotebookRunsModel.IOptions) {
    this._model = options.model;
    this.limit = options.limit ?? 5;
    this._burst = new BurstRefresh(
      () => void this.refresh(),
      options.refreshDelay ?? 1000
    );
    this._model.stateChanged.connect(this._onStateChanged, this);
    this._model.refreshed.connect(this._onRefreshed, this);
    this._events = options.events ?? null;
    this._events?.connect(this._onEvent, this);
    this._onStateChanged();
  }

  /**
   * How many runs are listed.
   */
  readonly limit: number;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * The followed notebook's path, or null.
   */
  get path(): string | null {
    return this._path;
  }

  /**
   * The user whose runs are listed (the server's owner), when known.
   */
  get user(): string | null {
    return this._model.handshake.server?.owner || null;
  }

  get runs(): ReadonlyArray<ComputePanelAPI.IRun> {
    return this._runs;
  }

  /**
   * All the notebook's runs; null until known.
   */
  get count(): number | null {
    return this._count;
  }

  get status(): 'idle' | 'loading' | 'ready' | 'error' {
    return this._status;
  }

  get error(): string | null {
    return this._error;
  }

  async refresh(): Promise<void> {
    const path = this._path;
    const generation = ++this._generation;
    if (!path || this._model.handshake.status !== 'ok') {
      this._runs = [];
      this._count = null;
      this._status = 'idle';
      this._changed.emit();
      return;
    }
    if (this._status !== 'ready') {
      this._status = 'loading';
      this._changed.emit();
    }
    const user = this.user;
    try {
      const page = await this._model.client.runs({
        notebook: path,
        ...(user ? { user } : {}),
        sort: '-started',
        limit: this.limit
      });
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._runs = page.runs;
      this._count = page.count;
      this._status = 'ready';
      this._error = null;
    } catch (reason) {
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._status = 'error';
      this._error = ComputePanelError.fromAxios(reason).message;
    }
    this._changed.emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._burst.dispose();
    this._model.stateChanged.disconnect(this._onStateChanged, this);
    this._model.refreshed.disconnect(this._onRefreshed, this);
    this._events?.disconnect(this._onEvent, this);
    Signal.clearData(this);
  }

  /**
   * Refresh when the notebook, the handshake or the current run changes
   * (the poll's fallback when the event stream is silent).
   */
  private _onStateChanged(): void {
    const path = this._model.notebook?.context.path ?? null;
    const run = this._model.run;
    const key = [path, this._model.handshake.status, run?.id, run?.status].join(
      '|'
    );
    if (key === this._key) {
      return;
    }
    const pathChanged = path !== this._path;
    this._key = key;
    this._path = path;
    if (pathChanged) {
      this._runs = [];
      this._count = null;
      this._status = 'idle';
    }
    void this.refresh();
  }

  /**
   * The model reloaded its figures (its poll, a run event): so do the runs.
   */
  private _onRefreshed(): void {
    if (this._path && this._status !== 'loading') {
      void this.refresh();
    }
  }

  /**
   * A run started or ended: refresh soon (once per burst).
   */
  private _onEvent(_: unknown, emission: { schema_id: string }): void {
    if (runStartedOrEnded(emission) && this._path) {
      this._burst.trigger();
    }
  }

  private _model: IComputePanelModel;
  private _events: ISignal<unknown, { schema_id: string }> | null;
  private _burst: BurstRefresh;
  private _key = '';
  private _path: string | null = null;
  private _runs: ReadonlyArray<ComputePanelAPI.IRun> = [];
  private _count: number | null = null;
  private _status: 'idle' | 'loading' | 'ready' | 'error' = 'idle';
  private _error: string | null = null;
  private _generation = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace NotebookRunsModel {
  export interface IOptions {
    model: IComputePanelModel;
    /**
     * The server's event stream: run starts and ends refresh the list.
     */
    events?: ISignal<unknown, { schema_id: string }>;
    /**
     * Runs listed (default 5).
     */
    limit?: number;
    /**
     * Milliseconds between a run event and the refresh it causes.
     */
    refreshDelay?: number;
  }
}
