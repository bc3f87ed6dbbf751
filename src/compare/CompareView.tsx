/**
 * The compare view: the summary line and verdict, the tolerance, then one
 * table whose run columns line up from top to bottom: the runs (tier, time,
 * cost), the environment diff (only what differs), a row per code cell
 * (verdict and duration per run, outputs side by side where they differ) and
 * the totals.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { formatSeconds } from '../rerun/format';
import { CellRows } from './CellRows';
import { CompareHeader } from './CompareHeader';
import { EnvironmentRows } from './EnvironmentRows';
import { CompareModel } from './model';
import { useProgressiveCount } from './progressive';
import { formatMoney } from '../money';
import { Money } from '../components/Money';

export namespace CompareView {
  export interface IProps {
    model: CompareModel;
    trans: TranslationBundle;
    /**
     * Open a file (an executed copy); without it no Open buttons show.
     */
    onOpen?: (path: string) => void;
  }
}

export function CompareView(props: CompareView.IProps): JSX.Element {
  const { model, trans } = props;
  const data = model.data;
  // A new answer or another filter paints from the first rows again.
  const progress = React.useMemo(() => ({}), [data, model.onlyDiffering]);
  const cells = model.cells;
  const shown = useProgressiveCount(cells.length, progress);
  if (!data) {
    return (
      <div className="jp-ComputePanel-compare">
        {model.error ? (
          <p
            className="jp-ComputePanel-banner jp-ComputePanel-banner-error"
            role="alert"
          >
            {model.error}
          </p>
        ) : (
          <p className="jp-ComputePanel-empty">{trans.__('Comparing…')}</p>
        )}
      </div>
    );
  }
  const runs = data.runs;
  const columns = runs.length + 2;
  return (
    <div
      className="jp-ComputePanel-compare"
      data-verdict={data.verdict}
      aria-busy={model.loading}
    >
      <CompareHeader
        model={model}
        data={data}
        shownCells={cells.length}
        trans={trans}
      />
      <table
        className="jp-ComputePanel-compareTable"
        style={{ ['--jp-ComputePanel-compare-runs' as any]: runs.length }}
      >
        <colgroup>
          <col className="jp-ComputePanel-compareIndexCol" />
          <col className="jp-ComputePanel-compareSourceCol" />
          {runs.map(run => (
            <col key={run.id} />
          ))}
        </colgroup>
        <thead>
          <tr className="jp-ComputePanel-compareRuns">
            <th scope="col">{trans.__('#')}</th>
            <th scope="col">{trans.__('Cell')}</th>
            {runs.map((run, i) => (
              <th key={run.id} scope="col" data-run={run.id}>
                <span className="jp-ComputePanel-compareRunLabel">
                  {run.label}
                </span>
                {i === 0 ? (
                  <span className="jp-ComputePanel-compareBaseline">
                    {trans.__('baseline')}
                  </span>
                ) : null}
                <span className="jp-ComputePanel-compareRunFigures">
                  {trans.__(
                    '%1 · %2',
                    formatSeconds(run.time_s),
                    formatMoney(run.cost.amount, run.cost.currency)
                  )}
                  {run.status === 'open' ? ` · ${trans.__('running')}` : ''}
                </span>
                {!run.outputs_available ? (
                  <span className="jp-ComputePanel-compareUnavailable">
                    {trans.__('outputs not available')}
                  </span>
                ) : null}
                {run.output && props.onOpen ? (
                  <button
                    type="button"
                    className="jp-ComputePanel-linkButton"
                    title={run.output}
                    onClick={() => props.onOpen?.(run.output!)}
                  >
                    {run.rerun_id
                      ? trans.__('Open executed copy')
                      : trans.__('Open notebook')}
                  </button>
                ) : null}
              </th>
            ))}
          </tr>
        </thead>
        <EnvironmentRows
          environment={data.environment}
          runs={runs}
          trans={trans}
        />
        <tbody className="jp-ComputePanel-compareCells" data-section="cells">
          <tr>
            <th scope="colgroup" colSpan={columns}>
              {data.timing === 'cells'
                ? trans.__('Code cells: outputs and execution time')
                : trans.__(
                    'Code cells: outputs and execution time (totals are the runs’ kernel time: not every cell was timed)'
                  )}
            </th>
          </tr>
          {cells.slice(0, shown).map(cell => (
            <CellRows key={cell.index} cell={cell} runs={runs} trans={trans} />
          ))}
          {shown < cells.length ? (
            <tr className="jp-ComputePanel-compareMore" aria-hidden="true">
              <td />
              <td colSpan={columns - 1}>{trans.__('Loading cells…')}</td>
            </tr>
          ) : null}
          {!cells.length ? (
            <tr className="jp-ComputePanel-compareNoCells">
              <td />
              <td colSpan={columns - 1}>
                {data.cells.length
                  ? trans.__('Every cell is identical in every run.')
                  : trans.__('No code cell to compare.')}
              </td>
            </tr>
          ) : null}
        </tbody>
        <tfoot>
          <tr className="jp-ComputePanel-compareTotals">
            <td />
            <th scope="row">{trans.__('Total')}</th>
            {runs.map(run => (
              <td key={run.id}>
                <span className="jp-ComputePanel-compareTotalTime">
                  {formatSeconds(run.time_s)}
                </span>
                <Money
                  className="jp-ComputePanel-compareTotalCost"
                  amount={run.cost.amount}
                  currency={run.cost.currency}
                />
              </td>
            ))}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
