/**
 * The head of the compare view: the notebook, the verdict and summary
 * line, the tolerance and the filter of the cells.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { verdictLabel } from './labels';
import { CompareModel, parseRtol } from './model';

/**
 * The tolerance input: applied on Enter or when it loses the focus.
 */
function ToleranceInput(props: {
  rtol: number;
  onApply: (rtol: number) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const [text, setText] = React.useState(String(props.rtol));
  React.useEffect(() => setText(String(props.rtol)), [props.rtol]);
  const parsed = parseRtol(text);
  const apply = () => {
    if (parsed !== null && parsed !== props.rtol) {
      props.onApply(parsed);
    }
  };
  return (
    <span className="jp-ComputePanel-compareRtol">
      <label htmlFor="jp-ComputePanel-compareRtol">
        {trans.__('Relative tolerance')}
      </label>
      <input
        id="jp-ComputePanel-compareRtol"
        className="jp-mod-styled"
        type="text"
        inputMode="decimal"
        value={text}
        aria-invalid={parsed === null}
        title={trans.__(
          'Numbers in text outputs count as equal when they differ by at most this fraction, such as 1e-3; Enter to compare again'
        )}
        onChange={event => setText(event.target.value)}
        onBlur={apply}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            apply();
          }
        }}
      />
      {parsed === null ? (
        <span className="jp-ComputePanel-compareRtolError" role="alert">
          {trans.__('a number from 0 to 1, such as 1e-3')}
        </span>
      ) : null}
    </span>
  );
}

/**
 * The header above the table, once the answer is there.
 */
export function CompareHeader(props: {
  model: CompareModel;
  data: ComputePanelAPI.ICompareResult;
  /**
   * How many cells the filter leaves.
   */
  shownCells: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, data, trans } = props;
  const notebook = data.runs[0]?.notebook;
  return (
    <header className="jp-ComputePanel-compareHeader">
      {notebook ? (
        <h1 className="jp-ComputePanel-compareTitle">{notebook}</h1>
      ) : null}
      <p className="jp-ComputePanel-compareSummaryLine">
        <span
          className={`jp-ComputePanel-verdict jp-mod-${data.verdict}`}
          data-verdict={data.verdict}
        >
          {verdictLabel(data, trans)}
        </span>
        <span className="jp-ComputePanel-compareSummary" role="status">
          {data.summary}
        </span>
      </p>
      {model.error ? (
        <p
          className="jp-ComputePanel-banner jp-ComputePanel-banner-error"
          role="alert"
        >
          {model.error}
        </p>
      ) : null}
      <div className="jp-ComputePanel-compareControls">
        <ToleranceInput
          rtol={model.rtol}
          onApply={rtol => void model.setRtol(rtol)}
          trans={trans}
        />
        <span className="jp-ComputePanel-compareFilter">
          <input
            id="jp-ComputePanel-compareOnlyDiffering"
            type="checkbox"
            checked={model.onlyDiffering}
            onChange={event => model.setOnlyDiffering(event.target.checked)}
          />
          <label
            htmlFor="jp-ComputePanel-compareOnlyDiffering"
            title={trans.__(
              'Hide the cells whose outputs are identical in every run (cells within the tolerance stay)'
            )}
          >
            {trans.__('Only cells that differ')}
          </label>
        </span>
        <span className="jp-ComputePanel-compareCount">
          {trans._n(
            '%2 of %1 cell shown',
            '%2 of %1 cells shown',
            data.cells.length,
            props.shownCells
          )}
        </span>
      </div>
    </header>
  );
}
