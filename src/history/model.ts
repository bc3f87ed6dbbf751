/**
 * The state of the run history: every run the user may see (their own, and
 * those of the grants they are PI or viewer of), paged from GET /runs with
 * the server's sort, search and filters; the selected runs; the run whose
 * details are shown and its environment. The only owner of the view's
 * server calls.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ComputePanelAPI,
  ComputePanelError,
  IComputePanelClient,
  IReproduceClient
} from '../api';
import { BurstRefresh, runStartedOrEnded } from '../runEvents';
import { ISort } from '../table/VirtualTable';
import { IRunHistoryFilters } from '../tokens';
import { IPage, Pager } from '../table/pager';

/**
 * The history's query: filters, search and sort. Empty strings mean "any".
 */
export interface IHistoryQuery {
  notebook: string;
  tier: string;
  grant: string;
  user: string;
  status: '' | 'open' | 'closed';
  /**
   * 'YYYY-MM-DD' (UTC) or ''.
   */
  since: string;
  until: string;
  q: string;
  sort: ISort;
}

export const DEFAULT_HISTORY_QUERY: IHistoryQuery = {
  notebook: '',
  tier: '',
  grant: '',
  user: '',
  status: '',
  since: '',
  until: '',
  q: '',
  sort: { key: 'started', descending: true }
};

/**
 * The filters a command or a restored layout may preset.
 */
export type HistoryPreset = IRunHistoryFilters;

/**
 * The preset part of command arguments (strings only, others ignored).
 */
export function presetFromArgs(args: {
  [key: string]: unknown;
}): HistoryPreset {
  const preset: HistoryPreset = {};
  for (const key of ['notebook', 'tier', 'grant', 'user'] as const) {
    const value = args[key];
    if (typeof value === 'string' && value) {
      preset[key] = value;
    }
  }
  if (args.status === 'open' || args.status === 'closed') {
    preset.status = args.status;
  }
  return preset;
}

/**
 * The server's `/runs` parameters of a query.
 */
export function historyFilters(
  query: IHistoryQuery
): ComputePanelAPI.IRunFilters {
  const filters: ComputePanelAPI.IRunFilters = {};
  for (const key of ['notebook', 'tier', 'grant', 'user'] as const) {
    if (query[key]) {
      filters[key] = query[key];
    }
  }
  if (query.status) {
    filters.status = query.status;
  }
  const since = dayStart(query.since, 0);
  if (since) {
    filters.since = since;
  }
  // The whole 'until' day is included.
  const until = dayStart(query.until, 1);
  if (until) {
    filters.until = until;
  }
  if (query.q.trim()) {
    filters.q = query.q.trim();
  }
  filters.sort =
    `${query.sort.descending ? '-' : ''}${query.sort.key}` as ComputePanelAPI.RunSort;
  return filters;
}

/**
 * The UTC midnight `days` after a 'YYYY-MM-DD' day, or null.
 */
function dayStart(day: string, days: number): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
    return null;
  }
  const date = new Date(`${day}T00:00:00Z`);
  if (isNaN(date.getTime())) {
    return null;
  }
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString();
}

/**
 * The environment of the run shown in the details pane.
 */
export type EnvironmentState =
  | { status: 'loading' }
  | { status: 'ready'; environment: ComputePanelAPI.IEnvironment }
  /**
   * Not captured (404): the server's sentence says why.
   */
  | { status: 'missing'; message: string }
  | { status: 'error'; message: string };

/**
 * Performance mark names (read by the paint benchmark).
 */
export namespace HistoryMarks {
  export const data = 'compute-panel:history-data';
  export const paint = 'compute-panel:history-paint';
}

export class RunHistoryModel implements IDisposable {
  constructor(options: RunHistoryModel.IOptions) {
    this._client = options.client;
    this.runs = new Pager<ComputePanelAPI.IRun, IHistoryQuery>({
      query: { ...DEFAULT_HISTORY_QUERY, ...options.preset },
      pageSize: options.pageSize ?? 100,
      fetch: async (
        query,
        offset,
        limit
      ): Promise<IPage<ComputePanelAPI.IRun>> => {
        const page = await this._client.runs({
          ...historyFilters(query),
          limit,
          offset
        });
        if (offset === 0 && !this._isDisposed) {
          // The first page's data is here: the paint measure starts now.
          this._dataArrivedAt = now();
          mark(HistoryMarks.data);
        }
        return { rows: page.runs, count: page.count };
      }
    });
    this._events = options.events ?? null;
    this._events?.connect(this._onEvent, this);
    this._burst = new BurstRefresh(
      () => this._onBurst(),
      options.refreshDelay ?? 2000
    );
  }

  /**
   * The runs, a page at a time.
   */
  readonly runs: Pager<ComputePanelAPI.IRun, IHistoryQuery>;

  /**
   * Emitted when the query, the selection, the shown run or its
   * environment change (pages have `runs.changed`).
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Emitted with the selected run ids, in the order they were selected.
   */
  get selectionChanged(): ISignal<this, ReadonlyArray<string>> {
    return this._selectionChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get query(): IHistoryQuery {
    return this.runs.query;
  }

  /**
   * The selected run ids, in the order they were selected (a compare takes
   * the first as its baseline). The selection outlives query changes, so
   * runs found with different filters can be selected together.
   */
  get selected(): ReadonlyArray<string> {
    return [...this._selected.keys()];
  }

  /**
   * The selected runs as they were when selected.
   */
  get selectedRuns(): ReadonlyArray<ComputePanelAPI.IRun> {
    return [...this._selected.values()];
  }

  /**
   * The run whose details are shown.
   */
  get active(): ComputePanelAPI.IRun | null {
    return this._active;
  }

  /**
   * The environment of the shown run.
   */
  get environment(): EnvironmentState | null {
    return this._active
      ? (this._environments.get(this._active.id) ?? null)
      : null;
  }

  /**
   * When the first page of the current query arrived (performance.now()),
   * for the paint measure; null once measured.
   */
  get dataArrivedAt(): number | null {
    return this._dataArrivedAt;
  }

  /**
   * Load the first page of the current query.
   */
  load(): Promise<void> {
    return this.runs.count === null ? this.runs.load() : this.runs.refresh();
  }

  /**
   * Fetch the pages again (runs started or ended), keeping the scroll.
   */
  refresh(): Promise<void> {
    return this.runs.refresh();
  }

  setQuery(query: IHistoryQuery): Promise<void> {
    const done = this.runs.setQuery(query);
    this._changed.emit();
    return done;
  }

  /**
   * Apply a preset (the command's filters) over the current query; the
   * other filters are cleared so that the preset is what is seen.
   */
  applyPreset(preset: HistoryPreset): Promise<void> {
    return this.setQuery({
      ...DEFAULT_HISTORY_QUERY,
      sort: this.query.sort,
      ...preset
    });
  }

  isSelected(runId: string): boolean {
    return this._selected.has(runId);
  }

  toggle(run: ComputePanelAPI.IRun): void {
    if (this._selected.has(run.id)) {
      this._selected.delete(run.id);
    } else {
      this._selected.set(run.id, run);
    }
    this._emitSelection();
  }

  setSelection(runs: ReadonlyArray<ComputePanelAPI.IRun>): void {
    this._selected = new Map(runs.map(run => [run.id, run]));
    this._emitSelection();
  }

  clearSelection(): void {
    if (this._selected.size) {
      this._selected.clear();
      this._emitSelection();
    }
  }

  /**
   * Show a run's details, and fetch its environment once.
   */
  show(run: ComputePanelAPI.IRun | null): void {
    if (run === this._active) {
      return;
    }
    this._active = run;
    this._changed.emit();
    if (run) {
      const known = this._environments.get(run.id);
      // A capture may have finished since a 404; an error may have passed.
      if (!known || known.status === 'missing' || known.status === 'error') {
        void this._loadEnvironment(run.id);
      }
    }
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
    measure(HistoryMarks.paint, arrived, duration);
    return duration;
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

  private async _loadEnvironment(runId: string): Promise<void> {
    this._environments.set(runId, { status: 'loading' });
    this._changed.emit();
    let state: EnvironmentState;
    try {
      const environment = await this._client.environment(runId);
      state = { status: 'ready', environment };
    } catch (reason) {
      const err = ComputePanelError.fromAxios(reason);
      state = {
        status: err.status === 404 ? 'missing' : 'error',
        message: err.message
      };
    }
    if (this._isDisposed) {
      return;
    }
    this._environments.set(runId, state);
    if (this._active?.id === runId) {
      this._changed.emit();
    }
  }

  private _emitSelection(): void {
    this._changed.emit();
    this._selectionChanged.emit(this.selected);
  }

  /**
   * A run started or closed: refresh soon (once per burst).
   */
  private _onEvent(_: unknown, emission: { schema_id: string }): void {
    if (runStartedOrEnded(emission)) {
      this._burst.trigger();
    }
  }

  /**
   * Refresh the page shown and an open run on display (a run event, a poll).
   */
  pulse(): void {
    this._onBurst();
  }

  private _onBurst(): void {
    void this.refresh();
    // The shown run's times and cost move on too.
    const shown = this._active;
    if (shown && shown.status === 'open') {
      this._refreshShown(shown.id);
    }
  }

  private _refreshShown(runId: string): void {
    void this._client
      .run(runId)
      .then(run => {
        if (!this._isDisposed && this._active?.id === runId) {
          this._active = run;
          if (this._selected.has(run.id)) {
            this._selected.set(run.id, run);
          }
          this._changed.emit();
        }
      })
      .catch(() => undefined);
  }

  private _client: RunHistoryModel.IClient;
  private _events: ISignal<unknown, { schema_id: string }> | null;
  private _selected = new Map<string, ComputePanelAPI.IRun>();
  private _active: ComputePanelAPI.IRun | null = null;
  private _environments = new Map<string, EnvironmentState>();
  private _dataArrivedAt: number | null = null;
  private _burst: BurstRefresh;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _selectionChanged = new Signal<this, ReadonlyArray<string>>(this);
}

export namespace RunHistoryModel {
  export type IClient = Pick<IComputePanelClient, 'runs' | 'run'> &
    Pick<IReproduceClient, 'environment'>;

  export interface IOptions {
    client: IClient;
    /**
     * Filters to start with (e.g. the notebook of the panel).
     */
    preset?: HistoryPreset;
    /**
     * The server's event stream: run starts and ends refresh the table.
     */
    events?: ISignal<unknown, { schema_id: string }>;
    pageSize?: number;
    /**
     * Milliseconds between a run event and the refresh it causes.
     */
    refreshDelay?: number;
  }
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

function measure(name: string, start: number, duration: number): void {
  if (typeof performance !== 'undefined' && performance.measure) {
    try {
      performance.measure(name, { start, duration });
    } catch {
      // older browsers: no options form of measure
    }
  }
}
