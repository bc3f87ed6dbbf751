/**
 * The compare view: the summary line and verdict, the tolerance, then one
 * table whose run columns line up from top to bottom: the runs (tier, time,
 * cost), the environment diff (only what differs), a row per code cell
 * (verdict and duration per run, outputs side by side where they differ) and
 * the totals.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { SimulatedBadge } from '../components/TierCard';
import { formatSeconds } from '../rerun/format';
import { CellRows } from './CellRows';
import { CompareHeader } from './CompareHeader';
import { EnvironmentRows } from './EnvironmentRows';
import { speedLabel, speedTitle } from './labels';
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

/**
 * A run's time: its timed cells' execution time, or that none was timed
 * (never the kernel's lifetime).
 */
export function runTime(
  run: Pick<ComputePanelAPI.ICompareRun, 'time_s' | 'timed_cells'>,
  trans: TranslationBundle
): string {
  return run.time_s === null || !run.timed_cells
    ? trans.__('cells not timed')
    : formatSeconds(run.time_s);
}

/**
 * The heading of the cells: what the times are.
 */
export function cellsHeading(
  timing: ComputePanelAPI.ICompareResult['timing'],
  trans: TranslationBundle
): string {
  switch (timing) {
    case 'cells':
      return trans.__('Code cells: outputs and execution time');
    case 'partial':
      return trans.__(
        'Code cells: outputs and execution time (not every cell was timed: totals are of the timed cells, speed of the cells timed in both runs)'
      );
    default:
      return trans.__(
        'Code cells: outputs (no cell’s execution time was recorded, so speed is not compared)'
      );
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
                {run.simulated ? <SimulatedBadge trans={trans} /> : null}
                {i === 0 ? (
                  <span className="jp-ComputePanel-compareBaseline">
                    {trans.__('baseline')}
                  </span>
                ) : null}
                <span className="jp-ComputePanel-compareRunFigures">
                  {trans.__(
                    '%1 · %2',
                    runTime(run, trans),
                    formatMoney(run.cost.amount, run.cost.currency)
                  )}
                  {run.status === 'open' ? ` · ${trans.__('running')}` : ''}
                </span>
                {run.speed ? (
                  <span
                    className={`jp-ComputePanel-compareSpeed${run.speed.ratio === null ? ' jp-mod-notComparable' : ''}`}
                    data-speed={run.speed.reason ?? 'compared'}
                    title={speedTitle(run.speed, trans)}
                  >
                    {speedLabel(run.speed, trans)}
                  </span>
                ) : null}
                {!run.outputs_available ? (
                  <span className="jp-ComputePanel-compareUnavailable">
                    {run.ran_cells === 0
                      ? trans.__('no cell ran')
                      : trans.__('outputs not available')}
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
              {cellsHeading(data.timing, trans)}
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
                  {runTime(run, trans)}
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
