/**
 * Chart geometry in plain functions: the SVG components only draw what these
 * compute, so the geometry is tested without a DOM.
 *
 * Amounts stay exact (BigInt micro-units) for every figure shown; they become
 * floating-point numbers only to place pixels.
 */
import { ComputePanelAPI } from '../api';
import { parseMicros } from '../money';

const ZERO = BigInt(0);
const MS_PER_DAY = 86400000;

/**
 * Micro-units of a decimal string; 0 for anything unparsable.
 */
export function micros(amount: string | undefined | null): bigint {
  return (amount ? parseMicros(amount) : null) ?? ZERO;
}

/**
 * Micro-units to currency units, for pixel positions only.
 */
export function toUnits(value: bigint): number {
  return Number(value) / 1e6;
}

/**
 * Round axis ticks from `min` to at least `max`: `count` steps or fewer of
 * 1, 2 or 5 times a power of ten.
 */
export function niceTicks(
  min: number,
  max: number,
  count = 4
): { min: number; max: number; ticks: number[] } {
  const lo = Math.min(0, min);
  const hi = Math.max(lo === 0 && max <= 0 ? 1 : max, 0);
  const span = hi - lo || 1;
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step =
    [1, 2, 5, 10].map(f => f * power).find(s => s >= raw - 1e-12) ?? 10 * power;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step / 2; v += step) {
    // Avoid 0.30000000000000004 on the axis.
    ticks.push(Number(v.toPrecision(12)));
  }
  return { min: start, max: end, ticks };
}

/**
 * A linear map from [d0, d1] to [r0, r1].
 */
export function linearScale(
  d0: number,
  d1: number,
  r0: number,
  r1: number
): (value: number) => number {
  const span = d1 - d0;
  if (span === 0) {
    return () => (r0 + r1) / 2;
  }
  return value => r0 + ((value - d0) / span) * (r1 - r0);
}

/**
 * The drawing area of a chart: outer size and margins.
 */
export interface IFrame {
  width: number;
  height: number;
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export const DEFAULT_FRAME: IFrame = {
  width: 800,
  height: 260,
  top: 12,
  right: 16,
  bottom: 28,
  left: 64
};

export interface IStackSegment {
  tierId: string;
  /**
   * The exact amount (the server's string).
   */
  amount: string;
  micros: bigint;
  y: number;
  height: number;
}

export interface IStackBar {
  month: string;
  x: number;
  width: number;
  /**
   * The month total: the server's figure.
   */
  total: string;
  /**
   * The sum of the segments (equals `total` when the server is consistent).
   */
  segmentsMicros: bigint;
  y: number;
  height: number;
  segments: IStackSegment[];
}

export interface IStackedBars {
  frame: IFrame;
  bars: IStackBar[];
  ticks: { value: number; y: number }[];
  /**
   * Tier ids in stacking order (bottom first) with their series index.
   */
  series: { tierId: string; index: number }[];
}

/**
 * Stacked bars of spend by month and tier.
 *
 * Segments are stacked on cumulative sums, so each bar's segment heights add
 * up to its total's height exactly (up to floating-point rounding).
 */
export function stackedBars(
  months: ReadonlyArray<ComputePanelAPI.IMonthSpend>,
  tiers: ReadonlyArray<{ id: string }>,
  frame: IFrame = DEFAULT_FRAME
): IStackedBars {
  const order: string[] = tiers.map(t => t.id);
  for (const month of months) {
    for (const id of Object.keys(month.by_tier)) {
      if (!order.includes(id)) {
        order.push(id);
      }
    }
  }
  // Only tiers with spend get a series (and a legend entry).
  const used = order.filter(id =>
    months.some(m => micros(m.by_tier[id]) !== ZERO)
  );
  const series = used.map((tierId, index) => ({ tierId, index }));
  let top = ZERO;
  for (const m of months) {
    const sum = used.reduce((acc, id) => acc + micros(m.by_tier[id]), ZERO);
    const total = micros(m.total);
    top = [top, sum, total].reduce((a, b) => (b > a ? b : a));
  }
  const axis = niceTicks(0, toUnits(top));
  const y = linearScale(
    axis.min,
    axis.max,
    frame.height - frame.bottom,
    frame.top
  );
  const plotWidth = frame.width - frame.left - frame.right;
  const slot = months.length ? plotWidth / months.length : plotWidth;
  const barWidth = Math.max(1, Math.min(48, slot * 0.7));
  const bars = months.map((m, i) => {
    let cumulative = ZERO;
    const segments: IStackSegment[] = [];
    for (const tierId of used) {
      const amount = m.by_tier[tierId];
      const value = micros(amount);
      if (value === ZERO) {
        continue;
      }
      const y0 = y(toUnits(cumulative));
      cumulative += value;
      const y1 = y(toUnits(cumulative));
      segments.push({
        tierId,
        amount,
        micros: value,
        y: Math.min(y0, y1),
        height: Math.abs(y0 - y1)
      });
    }
    const base = y(0);
    const yTop = y(toUnits(cumulative));
    return {
      month: m.month,
      x: frame.left + i * slot + (slot - barWidth) / 2,
      width: barWidth,
      total: m.total,
      segmentsMicros: cumulative,
      y: Math.min(base, yTop),
      height: Math.abs(base - yTop),
      segments
    };
  });
  return {
    frame,
    bars,
    ticks: axis.ticks.map(value => ({ value, y: y(value) })),
    series
  };
}

/**
 * Milliseconds since the epoch of a 'YYYY-MM-DD' day (UTC); NaN if invalid.
 */
export function dayMs(day: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!match) {
    return NaN;
  }
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

export interface IBurnDown {
  frame: IFrame;
  /**
   * The SVG path of the remaining budget, one point per day.
   */
  path: string;
  points: number;
  ticks: { value: number; y: number }[];
  /**
   * The y of the budget line and of zero.
   */
  budgetY: number;
  zeroY: number;
  /**
   * The x of the grant's end date, of the forecast exhaustion date (when
   * within the drawn range) and of the first and last days drawn.
   */
  endX: number | null;
  forecastX: number | null;
  firstDay: string | null;
  lastDay: string | null;
  x0: number;
  x1: number;
}

/**
 * The burn-down line: remaining budget by day, from the first point to the
 * later of the last point and the grant's end date, with the budget and the
 * end date marked.
 */
export function burnDown(
  points: ReadonlyArray<ComputePanelAPI.IBurnDownPoint>,
  budget: string,
  endDate: string,
  forecast: string | null,
  frame: IFrame = DEFAULT_FRAME
): IBurnDown {
  const budgetUnits = toUnits(micros(budget));
  const values = points.map(p => toUnits(micros(p.remaining)));
  const lowest = Math.min(0, ...values);
  const axis = niceTicks(lowest, Math.max(budgetUnits, ...values, 0));
  const y = linearScale(
    axis.min,
    axis.max,
    frame.height - frame.bottom,
    frame.top
  );
  const firstDay = points.length ? points[0].day : null;
  const lastDay = points.length ? points[points.length - 1].day : null;
  const start = firstDay ? dayMs(firstDay) : dayMs(endDate);
  const endMs = dayMs(endDate);
  const stop = Math.max(
    lastDay ? dayMs(lastDay) : start,
    isNaN(endMs) ? start : endMs,
    start + MS_PER_DAY
  );
  const x = linearScale(start, stop, frame.left, frame.width - frame.right);
  const path = points
    .map((p, i) => {
      const px = x(dayMs(p.day)).toFixed(1);
      const py = y(values[i]).toFixed(1);
      return `${i === 0 ? 'M' : 'L'}${px},${py}`;
    })
    .join('');
  const forecastMs = forecast ? dayMs(forecast) : NaN;
  return {
    frame,
    path,
    points: points.length,
    ticks: axis.ticks.map(value => ({ value, y: y(value) })),
    budgetY: y(budgetUnits),
    zeroY: y(0),
    endX: isNaN(endMs) ? null : x(endMs),
    forecastX:
      !isNaN(forecastMs) && forecastMs >= start && forecastMs <= stop
        ? x(forecastMs)
        : null,
    firstDay,
    lastDay,
    x0: frame.left,
    x1: frame.width - frame.right
  };
}

export interface IHBar {
  key: string | null;
  label: string;
  amount: string;
  micros: bigint;
  /**
   * The bar's length as a fraction of the longest (0 to 1).
   */
  fraction: number;
  /**
   * True for the row that gathers the rows past the limit.
   */
  others?: boolean;
  count?: number;
}

/**
 * Horizontal bars of a breakdown: the `limit` largest rows, and the rest
 * summed exactly into one "others" row, so the bars still add up to the total.
 */
export function horizontalBars(
  rows: ReadonlyArray<ComputePanelAPI.ISpendRow>,
  limit = 10
): IHBar[] {
  const sorted = [...rows].sort((a, b) => {
    const d = micros(b.amount) - micros(a.amount);
    return d > ZERO ? 1 : d < ZERO ? -1 : 0;
  });
  const head = sorted.slice(0, rows.length > limit ? limit - 1 : limit);
  const rest = sorted.slice(head.length);
  const bars: IHBar[] = head.map(r => ({
    key: r.key,
    label: r.label,
    amount: r.amount,
    micros: micros(r.amount),
    fraction: 0
  }));
  if (rest.length) {
    const sum = rest.reduce((acc, r) => acc + micros(r.amount), ZERO);
    bars.push({
      key: null,
      label: '',
      amount: '',
      micros: sum,
      fraction: 0,
      others: true,
      count: rest.length
    });
  }
  const longest = bars.reduce(
    (acc, b) => (b.micros > acc ? b.micros : acc),
    ZERO
  );
  for (const bar of bars) {
    bar.fraction =
      longest > ZERO && bar.micros > ZERO
        ? toUnits(bar.micros) / toUnits(longest)
        : 0;
  }
  return bars;
}

/**
 * Axis labels: compact numbers ("1.5k", "250", "0.25").
 */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) {
    return `${Number((value / 1e6).toPrecision(3))}M`;
  }
  if (abs >= 1e4) {
    return `${Number((value / 1e3).toPrecision(3))}k`;
  }
  return String(Number(value.toPrecision(4)));
}
