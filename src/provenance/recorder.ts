/**
 * Provenance on save: when a notebook whose kernel runs on a compute tier is
 * saved, `metadata.jupyterlab_compute_panel.provenance` records the run that
 * computed its outputs (tier, hardware, price, grant, CUDA, times).
 *
 * A save never waits for the server: the run and its environment are fetched
 * ahead, per kernel, and the block is written synchronously when the save
 * starts (the context's `saveState` 'started' is emitted just before it
 * serializes the model). Whatever fails, the save goes on without touching
 * the block.
 */
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ComputePanelAPI,
  ComputePanelError,
  IComputePanelClient,
  IReproduceClient
} from '../api';
import { IProvenance } from '../metadata';
import { METADATA_KEY } from '../tokens';

/**
 * The provenance block of `run`: the shape re-runs write (same field names),
 * plus `cuda` from its environment and `recorded`.
 */
export function buildProvenance(
  run: ComputePanelAPI.IRun,
  tier: ComputePanelAPI.ITier | null,
  environment: ComputePanelAPI.IEnvironment | null,
  now: Date
): IProvenance {
  const cuda = environment?.fingerprint?.cuda;
  return {
    run_id: run.id,
    tier: run.tier_id,
    tier_label: run.tier_label ?? tier?.label ?? run.tier_id,
    hardware: tier ? { ...tier.hardware } : null,
    // The rate the run is charged at (kept from its start), not today's price.
    price_per_hour: { amount: run.rate.amount, currency: run.rate.currency },
    grant: run.grant_id,
    cuda:
      cuda && typeof cuda === 'object' && !Array.isArray(cuda)
        ? { ...cuda }
        : null,
    started: run.started,
    recorded: now.toISOString()
  };
}

/**
 * What to store under our key: the current value with `provenance` set.
 *
 * `tier` and `grant` (the notebook's last choice, written by a move) are
 * kept; a notebook that has none gets the run's. Returns null, meaning
 * "leave the metadata alone", when the current value is not an object.
 */
export function withProvenance(
  current: unknown,
  provenance: IProvenance
): Record<string, unknown> | null {
  if (current === undefined || current === null) {
    return {
      tier: provenance.tier,
      grant: provenance.grant,
      provenance
    };
  }
  if (typeof current !== 'object' || Array.isArray(current)) {
    return null;
  }
  const record = current as Record<string, unknown>;
  const next: Record<string, unknown> = { ...record, provenance };
  if (typeof record.tier !== 'string' || !record.tier) {
    next.tier = provenance.tier;
    next.grant = provenance.grant;
  }
  return next;
}

/**
 * The run and environment known for one kernel.
 */
interface ICacheEntry {
  kernelId: string;
  run: ComputePanelAPI.IRun | null;
  environment: ComputePanelAPI.IEnvironment | null;
  /**
   * A fetch under way (shared by concurrent refreshes).
   */
  pending: Promise<void> | null;
  /**
   * Retries left for an environment that is still being captured.
   */
  retries: number;
  timer: ReturnType<typeof setTimeout> | null;
  /**
   * The run whose environment capture was waited for (once per run).
   */
  waitedFor?: string;
}

/**
 * Writes the provenance block of tracked notebooks when they are saved.
 */
export class ProvenanceRecorder implements IDisposable {
  constructor(options: ProvenanceRecorder.IOptions) {
    this._client = options.client;
    this._tierForKernel = options.tierForKernel;
    this._now = options.now ?? (() => new Date());
    this._retryDelays = options.retryDelays ?? [5000, 15000, 45000];
    this._captureWait = options.captureWait ?? 25000;
    // eslint-disable-next-line no-console -- a missed provenance is a line in the console, never a dialog
    this._log = options.log ?? ((...args) => console.warn(...args));
    options.events?.connect(this._onEvent, this);
    this._events = options.events ?? null;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Emitted after a save-time write (for tests): the notebook and its block,
   * or null when it was left alone.
   */
  get recorded(): ISignal<this, ProvenanceRecorder.IRecorded> {
    return this._recorded;
  }

  /**
   * Follow a notebook: prefetch its kernel's run, write on save.
   */
  track(panel: NotebookPanel): void {
    if (this._isDisposed || this._panels.has(panel)) {
      return;
    }
    this._panels.add(panel);
    panel.context.saveState.connect(this._onSaveState, this);
    panel.sessionContext.kernelChanged.connect(this._onKernelChanged, this);
    panel.disposed.connect(this._onDisposed, this);
    void this.refresh(this._meteredKernelOf(panel));
  }

  /**
   * Fetch the runs of followed kernels not fetched yet (the tiers arrived
   * after a notebook was followed, or the model's poll came round).
   */
  refreshMissing(): void {
    for (const panel of this._panels) {
      const kernelId = this._meteredKernelOf(panel);
      if (kernelId && !this._cache.get(kernelId)?.run) {
        void this.refresh(kernelId);
      }
    }
  }

  /**
   * Fetch the run (and environment) of a kernel again, in the background.
   */
  refresh(kernelId: string | null): Promise<void> {
    if (!kernelId || this._isDisposed) {
      return Promise.resolve();
    }
    let entry = this._cache.get(kernelId);
    if (!entry) {
      entry = {
        kernelId,
        run: null,
        environment: null,
        pending: null,
        retries: this._retryDelays.length,
        timer: null
      };
      this._cache.set(kernelId, entry);
    }
    if (entry.pending) {
      return entry.pending;
    }
    const current = entry;
    const pending = this._fetch(current).finally(() => {
      current.pending = null;
    });
    current.pending = pending;
    return pending;
  }

  /**
   * The block that a save of `panel` would write now, or null.
   */
  provenanceFor(panel: NotebookPanel): IProvenance | null {
    const kernel = panel.sessionContext.session?.kernel ?? null;
    if (!kernel) {
      return null;
    }
    const tier = this._tierForKernel(kernel.name);
    if (!tier) {
      return null; // not a compute-panel tier: not our business
    }
    const entry = this._cache.get(kernel.id);
    const run = entry?.run ?? null;
    if (!run || run.tier_id !== tier.id) {
      return null;
    }
    return buildProvenance(
      run,
      tier,
      entry?.environment?.run_id === run.id ? entry.environment : null,
      this._now()
    );
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const entry of this._cache.values()) {
      if (entry.timer !== null) {
        clearTimeout(entry.timer);
      }
    }
    this._cache.clear();
    this._events?.disconnect(this._onEvent, this);
    for (const panel of this._panels) {
      panel.context.saveState.disconnect(this._onSaveState, this);
      panel.sessionContext.kernelChanged.disconnect(
        this._onKernelChanged,
        this
      );
      panel.disposed.disconnect(this._onDisposed, this);
    }
    this._panels.clear();
    Signal.clearData(this);
  }

  private async _fetch(entry: ICacheEntry): Promise<void> {
    let run: ComputePanelAPI.IRun;
    try {
      run = await this._client.kernelRun(entry.kernelId);
    } catch (error) {
      if (ComputePanelError.fromAxios(error).status !== 404) {
        this._log(
          'compute-panel: cannot fetch the run of kernel %s for provenance:',
          entry.kernelId,
          error
        );
      }
      return; // keep what was known
    }
    if (this._isDisposed) {
      return;
    }
    if (entry.run?.id !== run.id) {
      entry.environment = null;
      entry.retries = this._retryDelays.length;
    }
    entry.run = run;
    if (entry.environment?.run_id === run.id) {
      return;
    }
    // A new run's environment is captured in the background once its kernel
    // is ready, a record (complete or partial) by the server's
    // environment_timeout: ask when it is there rather than for a 404.
    const age = this._now().getTime() - Date.parse(run.started);
    if (
      run.status === 'open' &&
      entry.waitedFor !== run.id &&
      age >= 0 &&
      age < this._captureWait
    ) {
      entry.waitedFor = run.id;
      this._askLater(entry, this._captureWait - age);
      return;
    }
    try {
      entry.environment = await this._client.environment(run.id);
    } catch (error) {
      const err = ComputePanelError.fromAxios(error);
      if (err.status !== 404) {
        this._log(
          'compute-panel: cannot fetch the environment of run %s:',
          run.id,
          error
        );
      }
      // Not captured yet (a new kernel's capture takes a few seconds): ask
      // again a little later while the run is open.
      if (run.status === 'open') {
        this._retryLater(entry);
      }
    }
  }

  private _retryLater(entry: ICacheEntry): void {
    if (entry.timer !== null || entry.retries <= 0 || this._isDisposed) {
      return;
    }
    const delay =
      this._retryDelays[this._retryDelays.length - entry.retries] ?? 0;
    entry.retries--;
    this._askLater(entry, delay);
  }

  private _askLater(entry: ICacheEntry, delay: number): void {
    if (entry.timer !== null || this._isDisposed) {
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (this._cache.get(entry.kernelId) === entry) {
        void this.refresh(entry.kernelId);
      }
    }, delay);
  }

  private _onSaveState(
    context: DocumentRegistry.IContext<INotebookModel>,
    state: DocumentRegistry.SaveState
  ): void {
    if (state !== 'started') {
      return;
    }
    const panel = [...this._panels].find(p => p.context === context);
    if (!panel) {
      return;
    }
    let provenance: IProvenance | null = null;
    try {
      provenance = this.provenanceFor(panel);
      const kernel = panel.sessionContext.session?.kernel ?? null;
      if (!provenance && kernel && !this._tierForKernel(kernel.name)) {
        // Outputs saved now may come from this kernel, which no tier meters:
        // a block naming an earlier run would attribute them to it.
        const current = context.model.getMetadata(METADATA_KEY);
        if (
          current &&
          typeof current === 'object' &&
          !Array.isArray(current) &&
          'provenance' in current
        ) {
          const rest = { ...(current as Record<string, unknown>) };
          delete rest.provenance;
          context.model.setMetadata(METADATA_KEY, rest);
        }
      }
      if (provenance) {
        const model = context.model;
        const next = withProvenance(
          model.getMetadata(METADATA_KEY),
          provenance
        );
        if (next) {
          model.setMetadata(METADATA_KEY, next);
        } else {
          this._log(
            'compute-panel: %s has a malformed "%s" metadata value; provenance not written',
            context.path,
            METADATA_KEY
          );
          provenance = null;
        }
      }
    } catch (error) {
      provenance = null;
      this._log(
        'compute-panel: provenance not written on save of %s:',
        context.path,
        error
      );
    }
    this._recorded.emit({ panel, provenance });
    // Be up to date for the next save (a restart opens a new run, the
    // environment may have been captured since).
    const kernelId = this._meteredKernelOf(panel);
    if (kernelId) {
      void this.refresh(kernelId);
    }
  }

  private _onKernelChanged(): void {
    // Forget the kernels no followed notebook uses any more.
    // Only tier kernels have runs: an unmetered kernel is not asked about.
    const used = new Set([...this._panels].map(p => this._meteredKernelOf(p)));
    for (const [kernelId, entry] of this._cache) {
      if (!used.has(kernelId)) {
        if (entry.timer !== null) {
          clearTimeout(entry.timer);
        }
        this._cache.delete(kernelId);
      }
    }
    // Fetch the new ones (a restart keeps its kernel: its run event refreshes).
    for (const kernelId of used) {
      if (kernelId && !this._cache.has(kernelId)) {
        void this.refresh(kernelId);
      }
    }
  }

  private _onDisposed(panel: NotebookPanel): void {
    this._panels.delete(panel);
  }

  /**
   * A run started or closed: fetch its kernel's run again if we follow it.
   */
  private _onEvent(_: unknown, emission: { schema_id: string }): void {
    if (emission.schema_id !== ComputePanelAPI.RUN_EVENT_SCHEMA) {
      return;
    }
    const event = emission as unknown as ComputePanelAPI.IRunEvent;
    if (
      (event.action === 'started' || event.action === 'closed') &&
      this._cache.has(event.kernel_id)
    ) {
      void this.refresh(event.kernel_id);
    }
  }

  /**
   * The id of the panel's kernel when a tier meters it, else null.
   */
  private _meteredKernelOf(panel: NotebookPanel): string | null {
    const kernel = panel.sessionContext.session?.kernel ?? null;
    return kernel && this._tierForKernel(kernel.name) ? kernel.id : null;
  }

  private _client: ProvenanceRecorder.IClient;
  private _tierForKernel: (kernelName: string) => ComputePanelAPI.ITier | null;
  private _now: () => Date;
  private _log: (...args: unknown[]) => void;
  private _retryDelays: number[];
  private _captureWait: number;
  private _events: ISignal<unknown, { schema_id: string }> | null;
  private _panels = new Set<NotebookPanel>();
  private _cache = new Map<string, ICacheEntry>();
  private _isDisposed = false;
  private _recorded = new Signal<this, ProvenanceRecorder.IRecorded>(this);
}

export namespace ProvenanceRecorder {
  export type IClient = Pick<IComputePanelClient, 'kernelRun'> &
    Pick<IReproduceClient, 'environment'>;

  export interface IOptions {
    client: IClient;
    /**
     * The compute tier of a kernelspec name, or null (the model's).
     */
    tierForKernel: (kernelName: string) => ComputePanelAPI.ITier | null;
    /**
     * The server's event stream: run events refresh the cached runs.
     */
    events?: ISignal<unknown, { schema_id: string }>;
    /**
     * Where failures are told (default: the browser console).
     */
    log?: (...args: unknown[]) => void;
    now?: () => Date;
    /**
     * Milliseconds before asking again for an environment not captured yet.
     */
    retryDelays?: number[];
    /**
     * Milliseconds from a run's start before its environment is asked for
     * (default 25 s: past the server's default environment_timeout, 20 s).
     */
    captureWait?: number;
  }

  export interface IRecorded {
    panel: NotebookPanel;
    provenance: IProvenance | null;
  }
}
