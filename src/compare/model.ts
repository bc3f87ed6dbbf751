/**
 * The state of one compare view: its runs (the first is the baseline), the
 * tolerance, the server's comparison, and the "only cells that differ" filter.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ComputePanelAPI, ComputePanelError, IReproduceClient } from '../api';

/**
 * The tolerance the server uses when none is asked for.
 */
export const DEFAULT_RTOL = 1e-3;

/**
 * Whether a cell's outputs are not identical in every run (it differs, is
 * missing, or matches only within the tolerance).
 */
export function cellDiffers(cell: ComputePanelAPI.ICompareCell): boolean {
  return cell.verdicts.some(v => v !== null && v !== 'same');
}

/**
 * A relative tolerance typed by the user: a number from 0 to 1 ("1e-3",
 * "0.001"), else null.
 */
export function parseRtol(text: string): number | null {
  const trimmed = text.trim();
  if (!/^[+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(trimmed)) {
    return null;
  }
  const value = Number(trimmed);
  return isFinite(value) && value >= 0 && value <= 1 ? value : null;
}

export class CompareModel implements IDisposable {
  constructor(options: CompareModel.IOptions) {
    this.client = options.client;
    this.runIds = [...options.runIds];
    this._rtol = options.rtol ?? DEFAULT_RTOL;
  }

  readonly client: Pick<IReproduceClient, 'compare'>;

  /**
   * The runs compared, the baseline first.
   */
  readonly runIds: ReadonlyArray<string>;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get rtol(): number {
    return this._rtol;
  }

  get data(): ComputePanelAPI.ICompareResult | null {
    return this._data;
  }

  get loading(): boolean {
    return this._loading;
  }

  get error(): string | null {
    return this._error;
  }

  get onlyDiffering(): boolean {
    return this._onlyDiffering;
  }

  /**
   * The cells shown: all, or only those that differ.
   */
  get cells(): ComputePanelAPI.ICompareCell[] {
    const cells = this._data?.cells ?? [];
    return this._onlyDiffering ? cells.filter(cellDiffers) : cells;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  setOnlyDiffering(value: boolean): void {
    if (value !== this._onlyDiffering) {
      this._onlyDiffering = value;
      this._changed.emit();
    }
  }

  /**
   * Compare again with another tolerance.
   */
  async setRtol(rtol: number): Promise<void> {
    if (rtol === this._rtol && this._data) {
      return;
    }
    this._rtol = rtol;
    await this.refresh();
  }

  /**
   * Ask the server for the comparison; an older answer arriving late is
   * dropped.
   */
  async refresh(): Promise<void> {
    const request = ++this._request;
    this._loading = true;
    this._changed.emit();
    try {
      const data = await this.client.compare([...this.runIds], this._rtol);
      if (this._isDisposed || request !== this._request) {
        return;
      }
      this._data = data;
      this._error = null;
    } catch (reason) {
      if (this._isDisposed || request !== this._request) {
        return;
      }
      this._error = ComputePanelError.fromAxios(reason).message;
    }
    this._loading = false;
    this._changed.emit();
  }

  private _isDisposed = false;
  private _rtol: number;
  private _data: ComputePanelAPI.ICompareResult | null = null;
  private _loading = false;
  private _error: string | null = null;
  private _onlyDiffering = false;
  private _request = 0;
  private _changed = new Signal<this, void>(this);
}

export namespace CompareModel {
  export interface IOptions {
    client: Pick<IReproduceClient, 'compare'>;
    runIds: ReadonlyArray<string>;
    rtol?: number;
  }
}
