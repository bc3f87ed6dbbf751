/**
 * The state of one grant's dashboard: its figures, its runs (paged) and the
 * edits of its PI. The only owner of the dashboard's server calls.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ComputePanelAPI,
  ComputePanelError,
  IComputePanelClient
} from '../api';
import { BurstRefresh, runStartedOrEnded } from '../runEvents';
import { ISort } from '../table/VirtualTable';
import { IPage, Pager } from '../table/pager';

/**
 * The runs table's query: filters, search and sort.
 */
export interface IRunsQuery {
  user: string;
  tier: string;
  status: '' | 'open' | 'closed';
  /**
   * 'YYYY-MM-DD' (UTC) or ''.
   */
  since: string;
  until: string;
  q: string;
  sort: ISort;
}

export const DEFAULT_RUNS_QUERY: IRunsQuery = {
  user: '',
  tier: '',
  status: '',
  since: '',
  until: '',
  q: '',
  sort: { key: 'started', descending: true }
};

/**
 * The server's `/runs` parameters of a query.
 */
export function runFilters(
  grantId: string,
  query: IRunsQuery
): ComputePanelAPI.IRunFilters {
  const filters: ComputePanelAPI.IRunFilters = { grant: grantId };
  if (query.user) {
    filters.user = query.user;
  }
  if (query.tier) {
    filters.tier = query.tier;
  }
  if (query.status) {
    filters.status = query.status;
  }
  if (query.since) {
    filters.since = `${query.since}T00:00:00Z`;
  }
  if (query.until) {
    // The whole 'until' day is included.
    const end = new Date(`${query.until}T00:00:00Z`);
    if (!isNaN(end.getTime())) {
      end.setUTCDate(end.getUTCDate() + 1);
      filters.until = end.toISOString();
    }
  }
  if (query.q.trim()) {
    filters.q = query.q.trim();
  }
  filters.sort =
    `${query.sort.descending ? '-' : ''}${query.sort.key}` as ComputePanelAPI.RunSort;
  return filters;
}

/**
 * A page of runs with the totals of every matching run.
 */
export interface IRunsPage extends IPage<ComputePanelAPI.IRun> {
  totals: ComputePanelAPI.IMoney[];
}

/**
 * Performance mark names (read by the paint benchmark).
 */
export namespace DashboardMarks {
  export const data = 'compute-panel:dashboard-data';
  export const paint = 'compute-panel:dashboard-paint';
}

export class DashboardModel implements IDisposable {
  constructor(options: DashboardModel.IOptions) {
    this.grantId = options.grantId;
    this._client = options.client;
    this._tiers = options.tiers ?? [];
    this.runs = new Pager<ComputePanelAPI.IRun, IRunsQuery>({
      query: DEFAULT_RUNS_QUERY,
      pageSize: options.pageSize ?? 100,
      fetch: async (query, offset, limit): Promise<IRunsPage> => {
        const page = await this._client.runs({
          ...runFilters(this.grantId, query),
          limit,
          offset
        });
        return { rows: page.runs, count: page.count, totals: page.totals };
      }
    });
    this._events = options.events ?? null;
    this._events?.connect(this._onEvent, this);
    this._burst = new BurstRefresh(
      () => void this.refresh(),
      options.refreshDelay ?? 2000
    );
  }

  readonly grantId: string;

  /**
   * The grant's runs, a page at a time.
   */
  readonly runs: Pager<ComputePanelAPI.IRun, IRunsQuery>;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get status(): 'loading' | 'ready' | 'error' {
    return this._status;
  }

  /**
   * Why the dashboard could not load, in plain words.
   */
  get error(): string | null {
    return this._error;
  }

  get data(): ComputePanelAPI.IDashboard | null {
    return this._data;
  }

  /**
   * The catalog tiers (for the grant editor's allowed tiers).
   */
  get catalogTiers(): ReadonlyArray<{ id: string; label: string }> {
    return this._tiers.length ? this._tiers : (this._data?.tiers ?? []);
  }

  /**
   * When the dashboard answer and the first runs page last arrived
   * (performance.now()), for the paint measure; null once measured.
   */
  get dataArrivedAt(): number | null {
    return this._dataArrivedAt;
  }

  /**
   * Load the figures and the first page of runs, in parallel.
   */
  async refresh(): Promise<void> {
    const generation = ++this._generation;
    if (!this._data) {
      this._status = 'loading';
      this._changed.emit();
    }
    try {
      const [data] = await Promise.all([
        this._client.dashboard(this.grantId),
        // A refresh keeps the runs table where the user scrolled it.
        this.runs.count === null ? this.runs.load() : this.runs.refresh()
      ]);
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._data = data;
      this._status = 'ready';
      this._error = null;
      this._dataArrivedAt = now();
      mark(DashboardMarks.data);
    } catch (reason) {
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._error =
        reason instanceof Error ? reason.message : String(reason ?? '');
      if (ComputePanelError.fromAxios(reason).status === 503) {
        // A part the figures come from is away (the ledger): the sentence, not
        // the last figures, which would pass for live.
        this._data = null;
      }
      this._status = this._data ? 'ready' : 'error';
    }
    this._changed.emit();
  }

  /**
   * The view painted the data: measure from its arrival to now.
   */
  painted(): number | null {
    const arrived = this._dataArrivedAt;
    if (arrived === null) {
      return null;
    }
    this._dataArrivedAt = null;
    const duration = now() - arrived;
    measure(DashboardMarks.paint, arrived, duration, this.grantId);
    return duration;
  }

  setRunsQuery(query: IRunsQuery): Promise<void> {
    return this.runs.setQuery(query);
  }

  /**
   * Download one table as CSV or JSON; the runs as filtered in the table.
   */
  exportTable(
    table: ComputePanelAPI.ExportTable,
    format: ComputePanelAPI.ExportFormat
  ): Promise<ComputePanelAPI.IExportFile> {
    return this._client.exportTable(
      this.grantId,
      table,
      format,
      table === 'runs' ? runFilters(this.grantId, this.runs.query) : undefined
    );
  }

  /**
   * Save the grant's edits in one PATCH, then reload the dashboard. Throws
   * the server's error (with its field) for the form to show.
   *
   * An edit of the budget or the hard stop asks the server first which
   * running kernels it would stop; when there are any, `confirmStops` shows
   * them and rejects unless the user saves anyway (the PATCH then says so,
   * as the server requires).
   */
  async saveGrant(
    patch: ComputePanelAPI.IGrantPatch,
    confirmStops?: (stops: ComputePanelAPI.IEditStops) => Promise<void>
  ): Promise<void> {
    let stopKernels = false;
    if (confirmStops && ('budget' in patch || 'hard_stop' in patch)) {
      const stops = await this._client.editStops(this.grantId, {
        budget: patch.budget,
        hard_stop: patch.hard_stop
      });
      if (stops.kernels.length) {
        await confirmStops(stops);
        stopKernels = true;
      }
    }
    await this._client.patchGrant(
      this.grantId,
      stopKernels ? { ...patch, stop_kernels: true } : patch
    );
    this._grantChanged.emit();
    await this.refresh();
  }

  /**
   * Emitted after an edit of the grant saved here (its values, its members),
   * for the views that show it elsewhere (the panel, the move dialog).
   */
  get grantChanged(): ISignal<this, void> {
    return this._grantChanged;
  }

  async setMember(user: string, role: ComputePanelAPI.Role): Promise<void> {
    await this._mutate(() => this._client.setMember(this.grantId, user, role));
  }

  async removeMember(user: string): Promise<void> {
    await this._mutate(() => this._client.removeMember(this.grantId, user));
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._burst.dispose();
    this._events?.disconnect(this._onEvent, this);
    this.runs.dispose();
    Signal.clearData(this);
  }

  private async _mutate(call: () => Promise<ComputePanelAPI.IGrant>) {
    const grant = await call();
    this._grantChanged.emit();
    if (this._data) {
      // Show the members at once; the figures follow with the refresh.
      this._data = {
        ...this._data,
        grant: { ...this._data.grant, ...grant, role: this._data.grant.role }
      };
      this._changed.emit();
    }
    void this.refresh();
  }

  /**
   * A run of this grant started or closed: refresh soon (once per burst).
   */
  private _onEvent(_: unknown, emission: { schema_id: string }): void {
    if (runStartedOrEnded(emission)?.grant_id === this.grantId) {
      this._burst.trigger();
    }
  }

  private _grantChanged = new Signal<this, void>(this);
  private _client: IComputePanelClient;
  private _tiers: ReadonlyArray<{ id: string; label: string }>;
  private _events: ISignal<unknown, { schema_id: string }> | null;
  private _data: ComputePanelAPI.IDashboard | null = null;
  private _status: 'loading' | 'ready' | 'error' = 'loading';
  private _error: string | null = null;
  private _generation = 0;
  private _dataArrivedAt: number | null = null;
  private _burst: BurstRefresh;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace DashboardModel {
  export interface IOptions {
    grantId: string;
    client: IComputePanelClient;
    /**
     * The catalog's tiers, when known.
     */
    tiers?: ReadonlyArray<{ id: string; label: string }>;
    /**
     * The server's event stream: run events of the grant refresh it.
     */
    events?: ISignal<unknown, { schema_id: string }>;
    pageSize?: number;
    /**
     * Milliseconds between a run event and the refresh it causes.
     */
    refreshDelay?: number;
  }
}

/**
 * The message and field of an error from a save, for the form.
 */
export function fieldError(reason: unknown): {
  message: string;
  field: string | null;
} {
  if (reason instanceof ComputePanelError) {
    return { message: reason.message, field: reason.field };
  }
  return {
    message: reason instanceof Error ? reason.message : String(reason),
    field: null
  };
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function mark(name: string): void {
  if (typeof performance !== 'undefined' && performance.mark) {
    try {
      performance.mark(name);
    } catch {
      // marks are a measure, never a failure
    }
  }
}

function measure(
  name: string,
  start: number,
  duration: number,
  grantId: string
): void {
  if (typeof performance !== 'undefined' && performance.measure) {
    try {
      performance.measure(name, { start, duration, detail: { grantId } });
    } catch {
      // older browsers: no options form of measure
    }
  }
}
