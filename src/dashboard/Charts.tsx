/**
 * The dashboard's charts in plain SVG: stacked bars of spend by month and
 * tier, the burn-down line, horizontal bars of a breakdown. Colours come from
 * CSS classes on --jp-* variables, so every theme applies; tooltips are SVG
 * <title>s; each chart is role="img" with an aria-label and has a table twin.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { exactMoney, formatExactMicros, formatMoney } from '../money';
import {
  burnDown,
  formatTick,
  horizontalBars,
  IFrame,
  stackedBars,
  DEFAULT_FRAME
} from './chartData';

/**
 * The CSS class of the n-th series colour (8, then they repeat).
 */
export function seriesClass(index: number): string {
  return `jp-ComputePanel-series-${index % 8}`;
}

function Axis(props: {
  frame: IFrame;
  ticks: { value: number; y: number }[];
  /** The currency of the values, written on every tick. */
  currency: string;
}): JSX.Element {
  const { frame, ticks, currency } = props;
  return (
    <g className="jp-ComputePanel-axis" aria-hidden="true">
      {ticks.map(tick => (
        <g key={tick.value}>
          <line
            className="jp-ComputePanel-gridline"
            x1={frame.left}
            x2={frame.width - frame.right}
            y1={tick.y}
            y2={tick.y}
          />
          <text x={frame.left - 6} y={tick.y} dy="0.32em" textAnchor="end">
            {`${formatTick(tick.value)} ${currency}`}
          </text>
        </g>
      ))}
    </g>
  );
}

export function Legend(props: {
  items: { label: string; index: number }[];
  label: string;
}): JSX.Element {
  return (
    <ul className="jp-ComputePanel-legend" aria-label={props.label}>
      {props.items.map(item => (
        <li key={item.index}>
          <span
            className={`jp-ComputePanel-swatch ${seriesClass(item.index)}`}
            aria-hidden="true"
          />
          {item.label}
        </li>
      ))}
    </ul>
  );
}

/**
 * Spend by month, stacked by tier.
 */
export function MonthChart(props: {
  months: ReadonlyArray<ComputePanelAPI.IMonthSpend>;
  tiers: ReadonlyArray<{ id: string; label: string }>;
  currency: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { months, tiers, currency, trans } = props;
  const geometry = React.useMemo(
    () => stackedBars(months, tiers),
    [months, tiers]
  );
  const labelOf = (id: string) => tiers.find(t => t.id === id)?.label ?? id;
  const { frame } = geometry;
  // At most about 12 month labels under the axis.
  const every = Math.max(1, Math.ceil(geometry.bars.length / 12));
  if (!months.length) {
    return (
      <p className="jp-ComputePanel-chartEmpty">{trans.__('No spend yet.')}</p>
    );
  }
  return (
    <figure className="jp-ComputePanel-chart">
      <svg
        className="jp-ComputePanel-svg"
        viewBox={`0 0 ${frame.width} ${frame.height}`}
        role="img"
        aria-label={trans.__(
          'Spend by month and tier in %1, stacked bars, %2 months from %3 to %4',
          currency,
          String(months.length),
          months[0].month,
          months[months.length - 1].month
        )}
        preserveAspectRatio="xMidYMid meet"
      >
        <Axis frame={frame} ticks={geometry.ticks} currency={currency} />
        {geometry.bars.map((bar, i) => (
          <g key={bar.month} className="jp-ComputePanel-bar">
            <title>
              {`${bar.month}: ${exactMoney(bar.total, currency)}`}
              {bar.segments
                .map(
                  s =>
                    `\n${labelOf(s.tierId)}: ${exactMoney(s.amount, currency)}`
                )
                .join('')}
            </title>
            {bar.segments.map(segment => (
              <rect
                key={segment.tierId}
                className={seriesClass(
                  geometry.series.find(s => s.tierId === segment.tierId)!.index
                )}
                x={bar.x}
                y={segment.y}
                width={bar.width}
                height={segment.height}
              >
                <title>{`${bar.month} · ${labelOf(segment.tierId)}: ${exactMoney(segment.amount, currency)}`}</title>
              </rect>
            ))}
            {i % every === 0 ? (
              <text
                className="jp-ComputePanel-xLabel"
                x={bar.x + bar.width / 2}
                y={frame.height - frame.bottom + 16}
                textAnchor="middle"
                aria-hidden="true"
              >
                {bar.month}
              </text>
            ) : null}
          </g>
        ))}
      </svg>
      <Legend
        label={trans.__('Tiers')}
        items={geometry.series.map(s => ({
          label: labelOf(s.tierId),
          index: s.index
        }))}
      />
    </figure>
  );
}

/**
 * Remaining budget by day, with the budget, zero, the end date and the
 * forecast exhaustion marked.
 */
export function BurnDownChart(props: {
  points: ReadonlyArray<ComputePanelAPI.IBurnDownPoint>;
  summary: ComputePanelAPI.IDashboardSummary;
  trans: TranslationBundle;
}): JSX.Element {
  const { points, summary, trans } = props;
  const geometry = React.useMemo(
    () =>
      burnDown(
        points,
        summary.budget,
        summary.end_date,
        summary.forecast_exhaustion,
        DEFAULT_FRAME
      ),
    [points, summary]
  );
  const { frame } = geometry;
  const last = points.length ? points[points.length - 1] : null;
  return (
    <figure className="jp-ComputePanel-chart">
      <svg
        className="jp-ComputePanel-svg"
        viewBox={`0 0 ${frame.width} ${frame.height}`}
        role="img"
        aria-label={trans.__(
          'Burn-down: %1 remaining of a budget of %2 on %3; the grant ends on %4; %5',
          formatMoney(summary.remaining, summary.currency),
          formatMoney(summary.budget, summary.currency),
          last?.day ?? summary.end_date,
          summary.end_date,
          summary.forecast_exhaustion === null
            ? trans.__('no spend in the last 30 days')
            : summary.exhausts_before_end
              ? trans.__(
                  'at the 30-day rate it runs out on %1',
                  summary.forecast_exhaustion
                )
              : trans.__('at the 30-day rate it lasts past the end date')
        )}
        preserveAspectRatio="xMidYMid meet"
      >
        <Axis
          frame={frame}
          ticks={geometry.ticks}
          currency={summary.currency}
        />
        <line
          className="jp-ComputePanel-budgetLine"
          x1={geometry.x0}
          x2={geometry.x1}
          y1={geometry.budgetY}
          y2={geometry.budgetY}
        >
          <title>
            {trans.__(
              'Budget: %1',
              exactMoney(summary.budget, summary.currency)
            )}
          </title>
        </line>
        <line
          className="jp-ComputePanel-zeroLine"
          x1={geometry.x0}
          x2={geometry.x1}
          y1={geometry.zeroY}
          y2={geometry.zeroY}
        />
        {geometry.endX !== null ? (
          <g className="jp-ComputePanel-endMark">
            <line
              x1={geometry.endX}
              x2={geometry.endX}
              y1={frame.top}
              y2={frame.height - frame.bottom}
            >
              <title>{trans.__('End date: %1', summary.end_date)}</title>
            </line>
            <text
              x={geometry.endX}
              y={frame.height - frame.bottom + 16}
              textAnchor="end"
              aria-hidden="true"
            >
              {trans.__('ends %1', summary.end_date)}
            </text>
          </g>
        ) : null}
        {geometry.forecastX !== null ? (
          <g
            className={`jp-ComputePanel-forecastMark${summary.exhausts_before_end ? ' jp-mod-warning' : ''}`}
          >
            <line
              x1={geometry.forecastX}
              x2={geometry.forecastX}
              y1={frame.top}
              y2={frame.height - frame.bottom}
            >
              <title>
                {trans.__(
                  'Forecast exhaustion: %1',
                  summary.forecast_exhaustion ?? ''
                )}
              </title>
            </line>
          </g>
        ) : null}
        <path className="jp-ComputePanel-burnLine" d={geometry.path}>
          <title>
            {trans.__(
              'Remaining from %1 to %2',
              geometry.firstDay ?? '',
              geometry.lastDay ?? ''
            )}
          </title>
        </path>
        {geometry.firstDay ? (
          <text
            className="jp-ComputePanel-xLabel"
            x={geometry.x0}
            y={frame.height - frame.bottom + 16}
            aria-hidden="true"
          >
            {geometry.firstDay}
          </text>
        ) : null}
      </svg>
      <Legend
        label={trans.__('Lines')}
        items={[
          { label: trans.__('Remaining'), index: 0 },
          { label: trans.__('Budget'), index: 2 },
          { label: trans.__('End date'), index: 4 }
        ]}
      />
    </figure>
  );
}

/**
 * A breakdown as horizontal bars (the largest rows, the rest summed).
 */
export function BreakdownChart(props: {
  rows: ReadonlyArray<ComputePanelAPI.ISpendRow>;
  currency: string;
  label: string;
  trans: TranslationBundle;
  limit?: number;
}): JSX.Element {
  const { rows, currency, trans } = props;
  const bars = React.useMemo(
    () => horizontalBars(rows, props.limit ?? 10),
    [rows, props.limit]
  );
  if (!rows.length) {
    return (
      <p className="jp-ComputePanel-chartEmpty">{trans.__('No spend yet.')}</p>
    );
  }
  // About the width of a half-width section, so that text keeps its size.
  const rowHeight = 22;
  const width = 480;
  const labelWidth = 160;
  const amountWidth = 96;
  const barSpace = width - labelWidth - amountWidth;
  const height = bars.length * rowHeight + 4;
  return (
    <figure className="jp-ComputePanel-chart">
      <svg
        className="jp-ComputePanel-svg jp-ComputePanel-hbars"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={props.label}
        preserveAspectRatio="xMinYMin meet"
      >
        {bars.map((bar, i) => {
          const label = bar.others
            ? trans._n('%1 other', '%1 others', bar.count ?? 0)
            : bar.label;
          const amount = bar.others
            ? formatExactMicros(bar.micros)
            : bar.amount;
          const y = i * rowHeight + 2;
          return (
            <g
              key={bar.others ? '\u0000others' : `${bar.key}`}
              className="jp-ComputePanel-hbar"
              data-key={bar.others ? undefined : (bar.key ?? '')}
            >
              <title>{`${label}: ${exactMoney(amount, currency)}`}</title>
              <text
                className="jp-ComputePanel-hbarLabel"
                x={labelWidth - 8}
                y={y + rowHeight / 2}
                dy="0.32em"
                textAnchor="end"
              >
                {label.length > 24 ? `…${label.slice(-23)}` : label}
              </text>
              <rect
                className={seriesClass(bar.others ? 7 : 0)}
                x={labelWidth}
                y={y + 3}
                width={Math.max(
                  bar.micros > BigInt(0) ? 1 : 0,
                  bar.fraction * barSpace
                )}
                height={rowHeight - 6}
              />
              <text
                className="jp-ComputePanel-hbarAmount"
                x={width - 4}
                y={y + rowHeight / 2}
                dy="0.32em"
                textAnchor="end"
              >
                {formatMoney(amount, currency)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
