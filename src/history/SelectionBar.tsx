/**
 * The selection of several runs above the history's table: how many, a way
 * to clear it, and the actions other plugins offer on them.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { RunHistoryModel } from './model';

export function SelectionBar(props: {
  model: RunHistoryModel;
  trans: TranslationBundle;
  /**
   * EXTENSION POINT: see HistoryView.IProps.renderSelectionActions.
   */
  renderSelectionActions?: (
    runs: ReadonlyArray<ComputePanelAPI.IRun>
  ) => React.ReactNode;
}): JSX.Element {
  const { model, trans } = props;
  const selectedRuns = model.selectedRuns;
  return (
    <div
      className="jp-ComputePanel-historySelection"
      aria-live="polite"
      data-selected={selectedRuns.length}
    >
      {selectedRuns.length ? (
        <>
          <span>
            {trans._n(
              '%1 run selected',
              '%1 runs selected',
              selectedRuns.length
            )}
          </span>
          <button
            type="button"
            className="jp-mod-styled jp-ComputePanel-linkButton"
            onClick={() => model.clearSelection()}
          >
            {trans.__('Clear selection')}
          </button>
        </>
      ) : (
        <span className="jp-ComputePanel-hint">
          {trans.__('Tick runs (or Ctrl-click, Space) to select several.')}
        </span>
      )}
      {props.renderSelectionActions ? (
        <span className="jp-ComputePanel-historyActions">
          {props.renderSelectionActions(selectedRuns)}
        </span>
      ) : null}
    </div>
  );
}
