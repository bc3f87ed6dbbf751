/**
 * The words and short forms of the compare view: verdicts, relative
 * differences, environment values, a cell's first line, output kinds.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';

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

/**
 * The words of an output's kind.
 */
export function outputKindLabel(
  kind: string,
  trans: TranslationBundle
): string {
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
