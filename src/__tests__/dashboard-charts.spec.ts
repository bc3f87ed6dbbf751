import {
  burnDown,
  dayMs,
  formatTick,
  horizontalBars,
  linearScale,
  micros,
  niceTicks,
  stackedBars,
  DEFAULT_FRAME
} from '../dashboard/chartData';
import { share } from '../dashboard/Tables';
import { formatExactMicros, sumMicros } from '../money';
import { makeDashboard } from './fixtures';

const ZERO = BigInt(0);

describe('exact money of the dashboard', () => {
  it('formats micro-units as the server does', () => {
    expect(formatExactMicros(BigInt(0))).toBe('0.00');
    expect(formatExactMicros(BigInt(500000))).toBe('0.50');
    expect(formatExactMicros(BigInt(13889))).toBe('0.013889');
    expect(formatExactMicros(BigInt(41343612))).toBe('41.343612');
    expect(formatExactMicros(BigInt(12000000))).toBe('12.00');
    expect(formatExactMicros(BigInt(-3100000))).toBe('-3.10');
    expect(formatExactMicros(BigInt('999999999999999999'))).toBe(
      '999999999999.999999'
    );
  });

  it('sums decimal strings exactly, where floats drift', () => {
    const amounts = ['0.1', '0.2', '0.000001', '7.000007'];
    // The float sum is off in the last places...
    expect(String(0.1 + 0.2)).toBe('0.30000000000000004');
    // ...the micro-unit sum is not.
    expect(formatExactMicros(sumMicros(amounts))).toBe('7.300008');
    expect(formatExactMicros(sumMicros(['0.1', '0.2']))).toBe('0.30');
  });

  it('each breakdown of the fixture adds up to the spent total, digit for digit', () => {
    const data = makeDashboard();
    for (const rows of [data.by_tier, data.by_user, data.by_notebook]) {
      expect(formatExactMicros(sumMicros(rows.map(r => r.amount)))).toBe(
        data.summary.spent
      );
    }
    expect(formatExactMicros(sumMicros(data.by_month.map(m => m.total)))).toBe(
      data.summary.spent
    );
  });

  it('adds 10,000 rows of odd amounts without losing a micro-unit', () => {
    const rows: string[] = [];
    let expected = ZERO;
    for (let i = 1; i <= 10000; i++) {
      const value = BigInt(i) * BigInt(1000003); // 1.000003 x i
      expected += value;
      rows.push(formatExactMicros(value));
    }
    expect(sumMicros(rows)).toBe(expected);
    expect(formatExactMicros(sumMicros(rows))).toBe('50005150.015');
  });

  it('computes shares with one decimal, half up, in integers', () => {
    expect(share(BigInt(1), BigInt(3))).toBe('33.3 %');
    expect(share(BigInt(2), BigInt(3))).toBe('66.7 %');
    expect(share(BigInt(1), BigInt(8))).toBe('12.5 %');
    expect(share(BigInt(5), BigInt(0))).toBe('–');
  });
});

describe('scales and ticks', () => {
  it('maps a domain linearly onto a range, inverted for SVG y', () => {
    const y = linearScale(0, 100, 200, 0);
    expect(y(0)).toBe(200);
    expect(y(100)).toBe(0);
    expect(y(25)).toBe(150);
    expect(linearScale(5, 5, 0, 10)(5)).toBe(5);
  });

  it('chooses round ticks that cover the data', () => {
    const a = niceTicks(0, 41.34);
    expect(a.min).toBe(0);
    expect(a.max).toBeGreaterThanOrEqual(41.34);
    expect(a.ticks).toEqual([0, 20, 40, 60]);
    const b = niceTicks(-120, 5000);
    expect(b.min).toBeLessThanOrEqual(-120);
    expect(b.max).toBeGreaterThanOrEqual(5000);
    expect(b.ticks).toContain(0);
    const c = niceTicks(0, 0);
    expect(c.ticks[0]).toBe(0);
    expect(c.max).toBeGreaterThan(0);
    expect(niceTicks(0, 0.3).ticks).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it('writes compact axis labels', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(2500)).toBe('2500');
    expect(formatTick(25000)).toBe('25k');
    expect(formatTick(1500000)).toBe('1.5M');
    expect(formatTick(0.25)).toBe('0.25');
  });
});

describe('stacked bars by month and tier', () => {
  const data = makeDashboard();
  const geometry = stackedBars(data.by_month, data.tiers);

  it('has one bar per month, in order, inside the frame', () => {
    expect(geometry.bars.map(b => b.month)).toEqual([
      '2026-01',
      '2026-02',
      '2026-03'
    ]);
    for (const bar of geometry.bars) {
      expect(bar.x).toBeGreaterThanOrEqual(DEFAULT_FRAME.left);
      expect(bar.x + bar.width).toBeLessThanOrEqual(
        DEFAULT_FRAME.width - DEFAULT_FRAME.right
      );
      expect(bar.y).toBeGreaterThanOrEqual(DEFAULT_FRAME.top - 1e-9);
    }
  });

  it('stacks segments whose amounts sum exactly to the month total', () => {
    for (const bar of geometry.bars) {
      const sum = bar.segments.reduce((acc, s) => acc + s.micros, ZERO);
      expect(sum).toBe(bar.segmentsMicros);
      expect(formatExactMicros(sum)).toBe(bar.total);
    }
  });

  it('stacks segments whose heights add up to the bar, without gaps', () => {
    for (const bar of geometry.bars) {
      const heights = bar.segments.reduce((acc, s) => acc + s.height, 0);
      expect(heights).toBeCloseTo(bar.height, 9);
      // Bottom segment sits on the baseline, each next one on the previous.
      let bottom = bar.y + bar.height;
      for (const segment of bar.segments) {
        expect(segment.y + segment.height).toBeCloseTo(bottom, 9);
        bottom = segment.y;
      }
      expect(bottom).toBeCloseTo(bar.y, 9);
    }
  });

  it('scales heights in proportion to the amounts', () => {
    const [jan, feb, mar] = geometry.bars;
    expect(feb.height).toBe(0);
    expect(feb.segments).toEqual([]);
    expect(jan.height / mar.height).toBeCloseTo(15.4 / 25.943612, 9);
    // The axis top is a round number at or above the largest month.
    const top = geometry.ticks[geometry.ticks.length - 1];
    expect(top.value).toBeGreaterThanOrEqual(25.943612);
    expect(top.y).toBeCloseTo(DEFAULT_FRAME.top, 9);
  });

  it('gives series only to tiers with spend, catalog order first', () => {
    expect(geometry.series).toEqual([
      { tierId: 'rtx4090', index: 0 },
      { tierId: 'h200', index: 1 }
    ]);
  });

  it('keeps a tier the catalog no longer lists', () => {
    const g = stackedBars(
      [{ month: '2025-12', by_tier: { old: '2.00' }, total: '2.00' }],
      data.tiers
    );
    expect(g.series).toEqual([{ tierId: 'old', index: 0 }]);
    expect(g.bars[0].segments[0].amount).toBe('2.00');
  });
});

describe('burn-down', () => {
  const data = makeDashboard();
  const g = burnDown(
    data.burn_down,
    data.summary.budget,
    data.summary.end_date,
    data.summary.forecast_exhaustion
  );

  it('draws one point per day of the series', () => {
    expect(g.points).toBe(3);
    expect(g.path.startsWith('M')).toBe(true);
    expect(g.path.split('L')).toHaveLength(3);
  });

  it('marks the budget at the top and zero at the bottom', () => {
    expect(g.budgetY).toBeLessThan(g.zeroY);
    expect(g.zeroY).toBeCloseTo(DEFAULT_FRAME.height - DEFAULT_FRAME.bottom, 9);
  });

  it('spans the time to the end date and marks it at the right edge', () => {
    expect(g.endX).toBeCloseTo(g.x1, 9);
    const firstX = Number(/^M([\d.]+),/.exec(g.path)![1]);
    expect(firstX).toBeCloseTo(g.x0, 1);
    // A forecast past the end date is outside the drawn range.
    expect(g.forecastX).toBeNull();
  });

  it('marks a forecast inside the range, in time proportion', () => {
    const forecast = '2027-01-01';
    const h = burnDown(data.burn_down, '5000.00', '2027-12-31', forecast);
    const t0 = dayMs('2026-01-01');
    const t1 = dayMs('2027-12-31');
    const expected =
      h.x0 + ((dayMs(forecast) - t0) / (t1 - t0)) * (h.x1 - h.x0);
    expect(h.forecastX).toBeCloseTo(expected, 9);
  });

  it('keeps an overspent grant on the chart (below zero)', () => {
    const h = burnDown(
      [
        { day: '2026-01-01', spent: '0.00', remaining: '10.00' },
        { day: '2026-01-02', spent: '12.50', remaining: '-2.50' }
      ],
      '10.00',
      '2026-01-02',
      '2026-01-02'
    );
    expect(h.ticks[0].value).toBeLessThan(0);
    const lastY = Number(/,([\d.]+)$/.exec(h.path)![1]);
    expect(lastY).toBeGreaterThan(h.zeroY);
    expect(lastY).toBeLessThanOrEqual(
      DEFAULT_FRAME.height - DEFAULT_FRAME.bottom + 1e-9
    );
  });
});

describe('horizontal bars', () => {
  it('are proportional to the largest row', () => {
    const bars = horizontalBars(makeDashboard().by_user);
    expect(bars.map(b => b.label)).toEqual(['student', 'ravi']);
    expect(bars[0].fraction).toBe(1);
    expect(bars[1].fraction).toBeCloseTo(13.243612 / 28.1, 9);
  });

  it('sum the rows past the limit exactly into one "others" bar', () => {
    const rows = Array.from({ length: 25 }, (_, i) => ({
      key: `nb-${i}.ipynb`,
      label: `nb-${i}.ipynb`,
      amount: formatExactMicros(BigInt(i + 1) * BigInt(333333))
    }));
    const bars = horizontalBars(rows, 10);
    expect(bars).toHaveLength(10);
    expect(bars[9].others).toBe(true);
    expect(bars[9].count).toBe(16);
    const total = bars.reduce((acc, b) => acc + b.micros, ZERO);
    expect(total).toBe(sumMicros(rows.map(r => r.amount)));
    expect(bars[0].label).toBe('nb-24.ipynb');
  });

  it('reads unparsable amounts as zero rather than failing', () => {
    expect(micros('n/a')).toBe(ZERO);
    expect(
      horizontalBars([{ key: 'x', label: 'x', amount: 'n/a' }])[0].fraction
    ).toBe(0);
  });
});
