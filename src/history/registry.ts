/**
 * The run history's extension points (`IRunHistory`): the commands other
 * plugins add for one run or for the selected runs, and the selection of
 * the open view. Small and free of React: it lives from activation on, the
 * view's code loads when the view is first opened.
 */
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IRunHistory, IRunHistoryFilters } from '../tokens';

interface IAction {
  command: string;
  rank: number;
}

export class RunHistoryRegistry implements IRunHistory {
  constructor(options: RunHistoryRegistry.IOptions) {
    this._open = options.open;
  }

  get actionsChanged(): ISignal<IRunHistory, void> {
    return this._actionsChanged;
  }

  get selectionChanged(): ISignal<IRunHistory, ReadonlyArray<string>> {
    return this._selectionChanged;
  }

  get runActions(): ReadonlyArray<string> {
    return sorted(this._runActions);
  }

  get selectionActions(): ReadonlyArray<string> {
    return sorted(this._selectionActions);
  }

  get selection(): ReadonlyArray<string> {
    return this._selection;
  }

  open(filters?: IRunHistoryFilters): Promise<void> {
    return this._open(filters ?? {});
  }

  addRunAction(command: string, options: { rank?: number } = {}): IDisposable {
    return this._add(this._runActions, command, options.rank);
  }

  addSelectionAction(
    command: string,
    options: { rank?: number } = {}
  ): IDisposable {
    return this._add(this._selectionActions, command, options.rank);
  }

  /**
   * The open view's selection changed (or the view closed: empty).
   */
  setSelection(runIds: ReadonlyArray<string>): void {
    if (
      runIds.length === this._selection.length &&
      runIds.every((id, i) => id === this._selection[i])
    ) {
      return;
    }
    this._selection = [...runIds];
    this._selectionChanged.emit(this._selection);
  }

  private _add(list: IAction[], command: string, rank = 100): IDisposable {
    const action = { command, rank };
    list.push(action);
    this._actionsChanged.emit();
    return new DisposableDelegate(() => {
      const index = list.indexOf(action);
      if (index >= 0) {
        list.splice(index, 1);
        this._actionsChanged.emit();
      }
    });
  }

  private _open: (filters: IRunHistoryFilters) => Promise<void>;
  private _runActions: IAction[] = [];
  private _selectionActions: IAction[] = [];
  private _selection: ReadonlyArray<string> = [];
  private _actionsChanged = new Signal<IRunHistory, void>(this);
  private _selectionChanged = new Signal<IRunHistory, ReadonlyArray<string>>(
    this
  );
}

export namespace RunHistoryRegistry {
  export interface IOptions {
    /**
     * Open the view (the `compute-panel:open-run-history` command).
     */
    open: (filters: IRunHistoryFilters) => Promise<void>;
  }
}

function sorted(actions: IAction[]): string[] {
  // A stable sort: equal ranks keep the order they were added in.
  return [...actions]
    .sort((a, b) => a.rank - b.rank)
    .map(action => action.command);
}
