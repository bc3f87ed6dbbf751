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
import { formatSeconds } from '../rerun/format';
import { cellDiffers, CompareModel, parseRtol } from './model';

/**
 * The longest text output shown in full; longer ones are cut (the executed
 * copies hold them whole).
 */
export const MAX_OUTPUT_CHARS = 4000;

/**
 * The cell rows painted with the data; the rest follow, a chunk per
 * animation frame, so that the first screen of a 200-cell comparison paints
 * at once and the page stays responsive while the others are added.
 */
export const FIRST_ROWS = 40;
export const ROWS_PER_FRAME = 40;

/**
 * How many of `count` rows to render now: FIRST_ROWS, then ROWS_PER_FRAME
 * more each animation frame; back to FIRST_ROWS when `key` changes.
 */
export function useProgressiveCount(count: number, key: unknown): number {
  const [state, setState] = React.useState({
    key,
    shown: Math.min(count, FIRST_ROWS)
  });
  const shown =
    state.key === key
      ? Math.min(count, state.shown)
      : Math.min(count, FIRST_ROWS);
  React.useEffect(() => {
    if (state.key !== key) {
      setState({ key, shown: Math.min(count, FIRST_ROWS) });
      return;
    }
    if (shown >= count) {
      return;
    }
    const frame = requestAnimationFrame(() =>
      setState(current =>
        current.key === key
          ? { key, shown: Math.min(count, current.shown + ROWS_PER_FRAME) }
          : current
      )
    );
    return () => cancelAnimationFrame(frame);
    // state.key too: the render after a reset has the same `shown` as the
    // one that asked for it, and must still schedule the next chunk.
  }, [key, state.key, shown, count]);
  return shown;
}

/**
 * A relative difference, short: "0", "0.00023", "2.3e-7".
 */
export function formatRel(value: number): string {
  if (value === 0) {
    return '0';
  }
  return String(Number(value.toPrecision(2)));
}

/**
 * The words of the overall verdict.
 */
export function verdictLabel(
  data: Pick<ComputePanelAPI.ICompareResult, 'verdict' | 'rtol'>,
  trans: TranslationBundle
): string {
  switch (data.verdict) {
    case 'match':
      return trans.__('identical');
    case 'match_within_tolerance':
      return trans.__('match within %1', String(data.rtol));
    case 'differ':
      return trans.__('differ');
    case 'incomplete':
      return trans.__('incomplete');
    default:
      return String(data.verdict);
  }
}

/**
 * The words of one run's verdict on one cell; the baseline's is null.
 */
export function cellVerdictLabel(
  verdict: ComputePanelAPI.CellVerdict | null,
  maxRelDiff: number | null,
  trans: TranslationBundle
): string {
  switch (verdict) {
    case null:
      return trans.__('baseline');
    case 'same':
      return trans.__('same');
    case 'within_tolerance':
      return maxRelDiff === null
        ? trans.__('within tolerance')
        : trans.__(
            'within tolerance (max rel. diff %1)',
            formatRel(maxRelDiff)
          );
    case 'differs':
      return maxRelDiff !== null && maxRelDiff > 0
        ? trans.__('differs (max rel. diff %1)', formatRel(maxRelDiff))
        : trans.__('differs');
    case 'missing':
      return trans.__('missing');
    default:
      return String(verdict);
  }
}

/**
 * An environment value in a table cell.
 */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

/**
 * The first line of a cell's source, for its collapsed row.
 */
export function firstLine(source: string): string {
  const line = source.split('\n').find(l => l.trim()) ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

function outputKindLabel(kind: string, trans: TranslationBundle): string {
  switch (kind) {
    case 'text:stdout':
      return trans.__('stdout');
    case 'text:stderr':
      return trans.__('stderr');
    case 'text:text/plain':
      return trans.__('result');
    case 'text:error':
      return trans.__('error');
    default:
      return kind.replace(/^text:/, '');
  }
}

/**
 * One run's outputs of a cell that differs: texts in full (cut when very
 * long), rich outputs by their hash.
 */
export function CellOutputs(props: {
  outputs: ComputePanelAPI.ICompareOutput[] | null | undefined;
  available: boolean;
  trans: TranslationBundle;
}): JSX.Element {
  const { outputs, trans } = props;
  if (!props.available) {
    return (
      <span className="jp-ComputePanel-compareNone">
        {trans.__('outputs not available')}
      </span>
    );
  }
  if (!outputs) {
    return (
      <span className="jp-ComputePanel-compareNone">
        {trans.__('no such cell')}
      </span>
    );
  }
  if (!outputs.length) {
    return (
      <span className="jp-ComputePanel-compareNone">
        {trans.__('no output')}
      </span>
    );
  }
  return (
    <div className="jp-ComputePanel-compareOutputs">
      {outputs.map((output, index) => {
        if (output.kind.startsWith('text:')) {
          const text = output.content;
          const cut = text.length > MAX_OUTPUT_CHARS;
          return (
            <div key={index} className="jp-ComputePanel-compareOutput">
              <span className="jp-ComputePanel-compareKind">
                {outputKindLabel(output.kind, trans)}
              </span>
              <pre>
                {cut ? text.slice(0, MAX_OUTPUT_CHARS) : text}
                {cut
                  ? `\n${trans.__('… %1 more characters', String(text.length - MAX_OUTPUT_CHARS))}`
                  : ''}
              </pre>
            </div>
          );
        }
        const hash = output.content.slice(0, 12);
        return (
          <div
            key={index}
            className="jp-ComputePanel-compareOutput jp-mod-hashed"
            title={`${output.kind} sha256:${output.content}`}
          >
            {output.kind.startsWith('image/')
              ? trans.__('image (hash %1…)', hash)
              : trans.__('%1 (hash %2…)', output.kind, hash)}
          </div>
        );
      })}
    </div>
  );
}

function VerdictBadge(props: {
  verdict: ComputePanelAPI.CellVerdict | null;
  maxRelDiff: number | null;
  trans: TranslationBundle;
}): JSX.Element {
  const kind = props.verdict ?? 'baseline';
  return (
    <span
      className={`jp-ComputePanel-cellVerdict jp-mod-${kind}`}
      data-verdict={kind}
    >
      {cellVerdictLabel(props.verdict, props.maxRelDiff, props.trans)}
    </span>
  );
}

/**
 * One code cell: its row, and its outputs side by side when they differ.
 */
const CellRows = React.memo(function CellRows(props: {
  cell: ComputePanelAPI.ICompareCell;
  runs: ReadonlyArray<ComputePanelAPI.ICompareRun>;
  trans: TranslationBundle;
}): JSX.Element {
  const { cell, runs, trans } = props;
  const differs = cellDiffers(cell);
  return (
    <>
      <tr
        className={`jp-ComputePanel-compareCell${differs ? ' jp-mod-differs' : ''}`}
        data-cell={cell.index}
      >
        <th scope="row" className="jp-ComputePanel-compareIndex">
          {cell.index + 1}
        </th>
        <td className="jp-ComputePanel-compareSource">
          <details>
            <summary>
              <code>{firstLine(cell.source) || trans.__('(empty cell)')}</code>
              {cell.source_differs ? (
                <span
                  className="jp-ComputePanel-badge jp-ComputePanel-sourceDiffers"
                  title={trans.__(
                    'The source of this cell is not the same in every run; it is shown as in the first run that has it.'
                  )}
                >
                  {trans.__('source differs')}
                </span>
              ) : null}
            </summary>
            <pre>{cell.source}</pre>
          </details>
        </td>
        {runs.map((run, i) => (
          <td key={run.id} className="jp-ComputePanel-compareRunCell">
            <VerdictBadge
              verdict={cell.verdicts[i] ?? null}
              maxRelDiff={cell.max_rel_diff}
              trans={trans}
            />
            <span className="jp-ComputePanel-compareDuration">
              {formatSeconds(cell.durations_s[i])}
            </span>
          </td>
        ))}
      </tr>
      {differs && cell.outputs ? (
        <tr
          className="jp-ComputePanel-compareOutputsRow"
          data-cell={cell.index}
        >
          <td />
          <td className="jp-ComputePanel-compareOutputsLabel">
            {trans.__('Outputs of cell %1', String(cell.index + 1))}
          </td>
          {runs.map((run, i) => (
            <td key={run.id}>
              <CellOutputs
                outputs={cell.outputs?.[i]}
                available={run.outputs_available}
                trans={trans}
              />
            </td>
          ))}
        </tr>
      ) : null}
    </>
  );
});

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
  const env = data.environment;
  const missing = new Set(env.missing);
  const notebook = runs[0]?.notebook;
  return (
    <div
      className="jp-ComputePanel-compare"
      data-verdict={data.verdict}
      aria-busy={model.loading}
    >
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
            {trans.__(
              '%1 of %2 cells shown',
              String(cells.length),
              String(data.cells.length)
            )}
          </span>
        </div>
      </header>
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
                    '%1 · %2 %3',
                    formatSeconds(run.time_s),
                    run.cost.amount,
                    run.cost.currency
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
        <tbody
          className="jp-ComputePanel-compareEnv"
          data-section="environment"
        >
          <tr>
            <th scope="colgroup" colSpan={columns}>
              {trans.__('Environment: only what differs')}
            </th>
          </tr>
          {missing.size ? (
            <tr className="jp-ComputePanel-compareEnvMissing">
              <td />
              <td>{trans.__('captured')}</td>
              {runs.map((run, i) => (
                <td key={run.id}>
                  {missing.has(i)
                    ? trans.__('no environment captured')
                    : trans.__('yes')}
                </td>
              ))}
            </tr>
          ) : null}
          {env.fields.map(field => (
            <tr key={`f:${field.key}`} data-env-field={field.key}>
              <td />
              <th scope="row">{field.key}</th>
              {runs.map((run, i) => (
                <td key={run.id}>{formatValue(field.values[i])}</td>
              ))}
            </tr>
          ))}
          {env.packages.map(pkg => (
            <tr key={`p:${pkg.name}`} data-env-package={pkg.name}>
              <td />
              <th scope="row">{trans.__('package %1', pkg.name)}</th>
              {runs.map((run, i) => (
                <td key={run.id}>
                  {missing.has(i)
                    ? '—'
                    : (pkg.versions[i] ?? trans.__('not installed'))}
                </td>
              ))}
            </tr>
          ))}
          {!env.fields.length && !env.packages.length ? (
            <tr className="jp-ComputePanel-compareEnvSame">
              <td />
              <td colSpan={columns - 1}>
                {missing.size && runs.length - missing.size < 2
                  ? trans.__(
                      'Not enough environments were captured to compare.'
                    )
                  : trans.__('The captured environments do not differ.')}
              </td>
            </tr>
          ) : null}
        </tbody>
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
                <span className="jp-ComputePanel-compareTotalCost">
                  {`${run.cost.amount} ${run.cost.currency}`}
                </span>
              </td>
            ))}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
