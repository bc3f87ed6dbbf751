/**
 * Following runs as they start and end, for views that list them (the
 * panel's runs of a notebook, the run history, a grant's dashboard).
 */
import { IDisposable } from '@lumino/disposable';

import { ComputePanelAPI } from './api';

/**
 * The run event in a server event emission when a run started or ended;
 * null for anything else (heartbeats, other schemas).
 */
export function runStartedOrEnded(emission: {
  schema_id: string;
}): Partial<ComputePanelAPI.IRunEvent> | null {
  const event = emission as unknown as Partial<ComputePanelAPI.IRunEvent>;
  return event.schema_id === ComputePanelAPI.RUN_EVENT_SCHEMA &&
    (event.action === 'started' || event.action === 'closed')
    ? event
    : null;
}

/**
 * Calls `refresh` once, `delay` ms after the first `trigger()` of a burst:
 * the triggers in between join that call.
 */
export class BurstRefresh implements IDisposable {
  constructor(
    private readonly _refresh: () => void,
    private readonly _delay: number
  ) {}

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  trigger(): void {
    if (this._isDisposed || this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      if (!this._isDisposed) {
        this._refresh();
      }
    }, this._delay);
  }

  dispose(): void {
    this._isDisposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _isDisposed = false;
}
