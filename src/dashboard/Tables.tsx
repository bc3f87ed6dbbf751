/**
 * The table twins of the charts: every figure as the server sent it, and
 * totals summed exactly in micro-units (so the total row is the sum of the
 * rows shown, digit for digit).
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { formatExactMicros, sumMicros } from '../money';
import { micros } from './chartData';

/**
 * A share as a percentage with one decimal, computed exactly ("12.5 %").
 */
export function share(part: bigint, total: bigint): string {
  if (total <= BigInt(0)) {
    return '–';
  }
  const permille = (part * BigInt(2000) + total) / (BigInt(2) * total);
  const whole = permille / BigInt(10);
  const tenth = permille % BigInt(10);
  return `${whole}.${tenth} %`;
}

export function BreakdownTable(props: {
  rows: ReadonlyArray<ComputePanelAPI.ISpendRow>;
  caption: string;
  keyLabel: string;
  currency: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { rows, currency, trans } = props;
  const total = sumMicros(rows.map(r => r.amount));
  return (
    <table className="jp-ComputePanel-table">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{props.keyLabel}</th>
          <th scope="col" className="jp-mod-numeric">
            {trans.__('Spent (%1)', currency)}
          </th>
          <th scope="col" className="jp-mod-numeric">
            {trans.__('Share')}
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(row => (
          <tr key={`${row.key}`} data-key={row.key ?? ''}>
            <th scope="row">{row.label}</th>
            <td className="jp-mod-numeric">{row.amount}</td>
            <td className="jp-mod-numeric">
              {share(micros(row.amount), total)}
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">{trans.__('Total')}</th>
          <td className="jp-mod-numeric jp-ComputePanel-total">
            {formatExactMicros(total)}
          </td>
          <td className="jp-mod-numeric">{rows.length ? '100.0 %' : '–'}</td>
        </tr>
      </tfoot>
    </table>
  );
}

export function MonthTable(props: {
  months: ReadonlyArray<ComputePanelAPI.IMonthSpend>;
  tiers: ReadonlyArray<{ id: string; label: string }>;
  currency: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { months, currency, trans } = props;
  const ids = props.tiers
    .map(t => t.id)
    .filter(id => months.some(m => m.by_tier[id] !== undefined));
  for (const m of months) {
    for (const id of Object.keys(m.by_tier)) {
      if (!ids.includes(id)) {
        ids.push(id);
      }
    }
  }
  const labelOf = (id: string) =>
    props.tiers.find(t => t.id === id)?.label ?? id;
  return (
    <table className="jp-ComputePanel-table">
      <caption>{trans.__('Spend by month and tier (%1)', currency)}</caption>
      <thead>
        <tr>
          <th scope="col">{trans.__('Month')}</th>
          {ids.map(id => (
            <th key={id} scope="col" className="jp-mod-numeric">
              {labelOf(id)}
            </th>
          ))}
          <th scope="col" className="jp-mod-numeric">
            {trans.__('Total')}
          </th>
        </tr>
      </thead>
      <tbody>
        {months.map(m => (
          <tr key={m.month}>
            <th scope="row">{m.month}</th>
            {ids.map(id => (
              <td key={id} className="jp-mod-numeric">
                {m.by_tier[id] ?? '0.00'}
              </td>
            ))}
            <td className="jp-mod-numeric">{m.total}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">{trans.__('Total')}</th>
          {ids.map(id => (
            <td key={id} className="jp-mod-numeric">
              {formatExactMicros(
                sumMicros(months.map(m => m.by_tier[id] ?? '0'))
              )}
            </td>
          ))}
          <td className="jp-mod-numeric jp-ComputePanel-total">
            {formatExactMicros(sumMicros(months.map(m => m.total)))}
          </td>
        </tr>
      </tfoot>
    </table>
  );
}

export function BurnDownTable(props: {
  points: ReadonlyArray<ComputePanelAPI.IBurnDownPoint>;
  currency: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { points, currency, trans } = props;
  return (
    <table className="jp-ComputePanel-table">
      <caption>
        {trans.__('Spent and remaining at the end of each day (%1)', currency)}
      </caption>
      <thead>
        <tr>
          <th scope="col">{trans.__('Day')}</th>
          <th scope="col" className="jp-mod-numeric">
            {trans.__('Spent')}
          </th>
          <th scope="col" className="jp-mod-numeric">
            {trans.__('Remaining')}
          </th>
        </tr>
      </thead>
      <tbody>
        {points.map(p => (
          <tr key={p.day}>
            <th scope="row">{p.day}</th>
            <td className="jp-mod-numeric">{p.spent}</td>
            <td className="jp-mod-numeric">{p.remaining}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
