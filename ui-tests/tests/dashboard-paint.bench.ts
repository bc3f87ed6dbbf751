import { expect, test } from '@jupyterlab/galata';

/**
 * Dashboard paint: a grant with 100,000 runs (seed_dashboard.py --bulk-runs,
 * run by playwright.bench.config.js) painted in the dashboard in under 300 ms
 * after its data arrives, in Chromium (issue 3, part 4).
 *
 * The widget marks the arrival of the dashboard JSON and of the first runs
 * page (DashboardModel.refresh), and measures `compute-panel:dashboard-paint`
 * from there to the task after the next animation frame, once React has
 * committed the summary, the charts and the runs table's first rows.
 */
const OPENINGS = 12;
const WARMUP = 2;
const AIM_MS = 300;
const GRANT = 'bench-grant';

test.use({ autoGoto: true });

test('dashboard paint of a 100,000-run grant', async ({ page }) => {
  test.setTimeout(10 * 60 * 1000);
  const samples = await page.evaluate(
    async ({ openings, grant }) => {
      const app = (window as any).jupyterapp;
      const name = 'compute-panel:dashboard-paint';
      const out: {
        paint: number;
        total: number;
        rows: number;
        count: string;
      }[] = [];
      for (let i = 0; i < openings; i++) {
        performance.clearMeasures(name);
        const t0 = performance.now();
        const widget = await app.commands.execute(
          'compute-panel:open-dashboard',
          { grantId: grant }
        );
        while (!performance.getEntriesByName(name).length) {
          await new Promise(resolve => setTimeout(resolve, 5));
        }
        const entry = performance.getEntriesByName(name)[0];
        out.push({
          paint: entry.duration,
          total: entry.startTime + entry.duration - t0,
          rows: widget.node.querySelectorAll(
            '.jp-ComputePanel-vtBody [role="row"]'
          ).length,
          count:
            widget.node.querySelector('.jp-ComputePanel-runsCount')
              ?.textContent ?? ''
        });
        widget.dispose();
        await new Promise(resolve => setTimeout(resolve, 300));
      }
      return out;
    },
    { openings: OPENINGS + WARMUP, grant: GRANT }
  );

  const measured = samples.slice(WARMUP);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => {
    const s = sorted(xs);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  // Nearest rank.
  const p95 = (xs: number[]) =>
    sorted(xs)[Math.ceil(0.95 * xs.length) - 1];
  const paints = measured.map(s => s.paint);
  const totals = measured.map(s => s.total);
  const verdict = p95(paints) < AIM_MS ? 'PASS' : 'FAIL';
  console.log(
    [
      '',
      `Dashboard paint, ${GRANT} (${measured[0].count}), ${OPENINGS} openings after ${WARMUP} warm-up, Chromium`,
      `  data arrived -> painted  median ${median(paints).toFixed(1)} ms, p95 ${p95(paints).toFixed(1)} ms (aim < ${AIM_MS} ms) ${verdict}`,
      `  command -> painted       median ${median(totals).toFixed(0)} ms, p95 ${p95(totals).toFixed(0)} ms (server and network included, no aim)`,
      `  run rows in the DOM: ${measured[0].rows} (virtualized)`,
      `  samples (paint ms): ${paints.map(p => p.toFixed(1)).join(' ')}`
    ].join('\n')
  );
  expect(measured[0].count).toMatch(/^100,000 runs/);
  expect(measured[0].rows).toBeLessThan(100);
});
