/**
 * The rows of one code cell: its source, each run's verdict and duration,
 * and the outputs side by side when they differ.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { formatSeconds } from '../rerun/format';
import { cellVerdictLabel, firstLine, outputKindLabel } from './labels';
import { cellDiffers } from './model';

/**
 * The longest text output shown in full; longer ones are cut (the executed
 * copies hold them whole).
 */
export const MAX_OUTPUT_CHARS = 4000;

/**
 * One run's outputs of a cell that differs: texts in full (cut when very
 * long), rich outputs by their hash.
 */
export function CellOutputs(props: {
  outputs: ComputePanelAPI.ICompareOutput[] | null | undefined;
  available: boolean;
  /**
   * Whether the cell ran in this run; null: the run has no such cell.
   */
  ran?: boolean | null;
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
        {props.ran === false
          ? trans.__('did not run')
          : trans.__('no such cell')}
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
export const CellRows = React.memo(function CellRows(props: {
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
              verdict={
                i === 0 && cell.ran[0] === false
                  ? 'not_run'
                  : (cell.verdicts[i] ?? null)
              }
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
                ran={cell.ran[i]}
                trans={trans}
              />
            </td>
          ))}
        </tr>
      ) : null}
    </>
  );
});
