import { expect, test } from '@jupyterlab/galata';

/**
 * Compare paint: two re-runs of a 200-cell notebook whose every cell prints a
 * random number, so that every cell differs and shows its outputs side by
 * side; the compare view painted after its data arrives, in Chromium. Aim:
 * the first screen under 300 ms, as for the dashboard (issue 4, part 5: 200
 * cells stay fast); the other rows follow a chunk per animation frame.
 *
 * Measured from the model's `changed` with the data (the answer of GET
 * /compare parsed) to the task after the animation frame in which React has
 * committed the first cell rows, and then all 200.
 */
const CELLS = 200;
const OPENINGS = 10;
const WARMUP = 2;
const AIM_MS = 300;

test.use({ autoGoto: true });

test('compare paint of two 200-cell runs that differ everywhere', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(10 * 60 * 1000);
  const path = `${tmpPath}/two-hundred.ipynb`;
  const cells = Array.from({ length: CELLS }, (_, i) => ({
    cell_type: 'code',
    id: `c${i}`,
    metadata: {},
    source: `print("step ${i}: loss", random.random())`,
    outputs: [],
    execution_count: null
  }));
  cells[0].source = 'import random';
  await page.contents.uploadContent(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
      cells
    }),
    'text',
    path
  );
  const runIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const started = await page.request.post('/compute-panel/reruns', {
      data: { path, tier_id: 'local-cpu' }
    });
    expect(started.status()).toBe(201);
    const id = (await started.json()).id;
    let rerun: any = null;
    await expect
      .poll(
        async () => {
          rerun = await (
            await page.request.get(`/compute-panel/reruns/${id}`)
          ).json();
          return rerun.status;
        },
        { timeout: 5 * 60 * 1000, intervals: [1000] }
      )
      .toBe('completed');
    runIds.push(rerun.run_id);
  }

  const samples = await page.evaluate(
    async ({ openings, runIds, cells }) => {
      const app = (window as any).jupyterapp;
      const frame = () =>
        new Promise<void>(resolve =>
          requestAnimationFrame(() => setTimeout(resolve, 0))
        );
      const out: {
        paint: number;
        all: number;
        total: number;
        rows: number;
      }[] = [];
      for (let i = 0; i < openings; i++) {
        const t0 = performance.now();
        const widget = await app.commands.execute(
          'compute-panel:compare-runs',
          { runIds }
        );
        const model = widget.model;
        const arrived: number = await new Promise(resolve => {
          const check = () => {
            if (model.data && !model.loading) {
              model.changed.disconnect(check);
              resolve(performance.now());
            }
          };
          model.changed.connect(check);
          check();
        });
        const count = () =>
          widget.node.querySelectorAll('tr.jp-ComputePanel-compareCell')
            .length;
        let first = 0;
        let rows = 0;
        do {
          await frame();
          rows = count();
          if (!first && rows > 0) {
            first = performance.now();
          }
        } while (rows < cells);
        const painted = performance.now();
        out.push({
          paint: first - arrived,
          all: painted - arrived,
          total: first - t0,
          rows
        });
        widget.dispose();
        await new Promise(resolve => setTimeout(resolve, 300));
      }
      return out;
    },
    { openings: OPENINGS + WARMUP, runIds, cells: CELLS }
  );

  const measured = samples.slice(WARMUP);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => {
    const s = sorted(xs);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const p95 = (xs: number[]) => sorted(xs)[Math.ceil(0.95 * xs.length) - 1];
  const paints = measured.map(s => s.paint);
  const totals = measured.map(s => s.total);
  const alls = measured.map(s => s.all);
  console.log(
    [
      '',
      `Compare paint, ${CELLS} cells x 2 runs, every cell differing with its outputs shown, ${OPENINGS} openings after ${WARMUP} warm-up, Chromium`,
      `  data arrived -> first screen painted  median ${median(paints).toFixed(1)} ms, p95 ${p95(paints).toFixed(1)} ms (aim < ${AIM_MS} ms) ${p95(paints) < AIM_MS ? 'PASS' : 'FAIL'}`,
      `  data arrived -> all ${CELLS} rows in      median ${median(alls).toFixed(1)} ms, p95 ${p95(alls).toFixed(1)} ms (added a chunk per frame, no aim)`,
      `  command -> first screen painted       median ${median(totals).toFixed(0)} ms, p95 ${p95(totals).toFixed(0)} ms (server compare included, no aim)`,
      `  samples (paint ms): ${paints.map(p => p.toFixed(1)).join(' ')}`
    ].join('\n')
  );
  expect(measured[0].rows).toBe(CELLS);
});
