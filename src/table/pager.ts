/**
 * Rows fetched from the server a page at a time, cached, for a virtualized
 * table: the table asks for the rows it shows, the pager fetches the pages
 * they lie on (once), and a new query drops the cache.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * One page as the server answers it.
 */
export interface IPage<Row> {
  rows: Row[];
  /**
   * Rows matching the query, all pages together.
   */
  count: number;
}

/**
 * Fetch `limit` rows from `offset` for `query`.
 */
export type PageFetcher<Row, Query> = (
  query: Query,
  offset: number,
  limit: number
) => Promise<IPage<Row>>;

/**
 * The state of a pager: for the table and its status line.
 */
export type PagerStatus = 'idle' | 'loading' | 'ready' | 'error';

export class Pager<Row, Query> implements IDisposable {
  constructor(options: Pager.IOptions<Row, Query>) {
    this._fetch = options.fetch;
    this._query = options.query;
    this.pageSize = options.pageSize ?? 100;
    this._maxPages = options.maxPages ?? 50;
  }

  /**
   * Rows per request.
   */
  readonly pageSize: number;

  /**
   * Emitted when pages arrive, the query changes or a fetch fails.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get query(): Query {
    return this._query;
  }

  /**
   * Rows matching the query; null until the first page arrives.
   */
  get count(): number | null {
    return this._count;
  }

  get status(): PagerStatus {
    return this._status;
  }

  get error(): string | null {
    return this._error;
  }

  /**
   * The last page answer (for totals the server sends beside the rows).
   */
  get lastPage(): IPage<Row> | null {
    return this._lastPage;
  }

  /**
   * Pages fetched since the last query change (for tests and benchmarks).
   */
  get requests(): number {
    return this._requests;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * The row at `index`, or undefined while its page is not loaded.
   */
  rowAt(index: number): Row | undefined {
    const number = Math.floor(index / this.pageSize);
    // A refreshed page not back yet shows its previous rows meanwhile.
    const page = this._pages.get(number) ?? this._stale.get(number);
    return page ? page[index % this.pageSize] : undefined;
  }

  /**
   * Make sure the pages holding rows [start, end) are loaded or loading.
   */
  ensure(start: number, end: number): void {
    if (this._isDisposed) {
      return;
    }
    const last =
      this._count === null ? end : Math.min(end, Math.max(this._count, 1));
    const first = Math.floor(Math.max(0, start) / this.pageSize);
    const stop = Math.floor(Math.max(0, last - 1) / this.pageSize);
    for (let page = first; page <= stop; page++) {
      if (!this._pages.has(page) && !this._pending.has(page)) {
        void this._load(page);
      }
    }
  }

  /**
   * Load the first page (again); resolves when it is there.
   */
  async load(): Promise<void> {
    await this._load(0);
  }

  /**
   * A new query: drop every page, then load the first.
   */
  setQuery(query: Query): Promise<void> {
    this._query = query;
    return this.reload();
  }

  /**
   * Fetch the pages again for the same query (the data changed), keeping
   * the count and showing the previous rows until their page is back, so a
   * table keeps its scroll position.
   */
  refresh(): Promise<void> {
    if (this._count === null) {
      return this.reload();
    }
    this._generation++;
    this._stale = this._pages;
    this._pages = new Map();
    this._pending.clear();
    this._order = [];
    this._requests = 0;
    return this._load(0);
  }

  /**
   * Drop every page and load the first again (same query).
   */
  reload(): Promise<void> {
    this._generation++;
    this._stale = new Map();
    this._pages.clear();
    this._pending.clear();
    this._order = [];
    this._count = null;
    this._error = null;
    this._requests = 0;
    this._status = 'idle';
    this._changed.emit();
    return this._load(0);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._pages.clear();
    this._stale.clear();
    Signal.clearData(this);
  }

  private async _load(page: number): Promise<void> {
    const generation = this._generation;
    this._pending.add(page);
    this._requests++;
    if (this._status !== 'ready') {
      this._status = 'loading';
    }
    try {
      const answer = await this._fetch(
        this._query,
        page * this.pageSize,
        this.pageSize
      );
      if (generation !== this._generation || this._isDisposed) {
        return; // an answer to a query that is no longer asked
      }
      this._pages.set(page, answer.rows);
      this._order.push(page);
      this._evict(page);
      this._count = answer.count;
      this._lastPage = answer;
      this._status = 'ready';
      this._error = null;
    } catch (reason) {
      if (generation !== this._generation || this._isDisposed) {
        return;
      }
      this._status = 'error';
      this._error =
        reason instanceof Error ? reason.message : String(reason ?? '');
    } finally {
      if (generation === this._generation) {
        this._pending.delete(page);
      }
    }
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  /**
   * Keep at most `maxPages` pages: forget the oldest loaded, never `keep`.
   */
  private _evict(keep: number): void {
    while (this._order.length > this._maxPages) {
      const index = this._order.findIndex(p => p !== keep);
      const [page] = this._order.splice(index, 1);
      this._pages.delete(page);
    }
  }

  private _fetch: PageFetcher<Row, Query>;
  private _query: Query;
  private _maxPages: number;
  private _pages = new Map<number, Row[]>();
  private _stale = new Map<number, Row[]>();
  private _pending = new Set<number>();
  private _order: number[] = [];
  private _count: number | null = null;
  private _lastPage: IPage<Row> | null = null;
  private _status: PagerStatus = 'idle';
  private _error: string | null = null;
  private _generation = 0;
  private _requests = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace Pager {
  export interface IOptions<Row, Query> {
    fetch: PageFetcher<Row, Query>;
    query: Query;
    /**
     * Rows per request (default 100).
     */
    pageSize?: number;
    /**
     * Pages kept in memory (default 50): scrolling through 100,000 rows
     * never holds them all.
     */
    maxPages?: number;
  }
}

/**
 * The rows to render for a scroll position: the visible ones plus
 * `overscan` on each side, clamped to [0, count).
 */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan: number
): { start: number; end: number } {
  if (count <= 0 || rowHeight <= 0) {
    return { start: 0, end: 0 };
  }
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end: Math.max(start, end) };
}
