import { expect, test } from '@jupyterlab/galata';
import { ComputePanelHelper } from './helpers';
import { docScreenshots } from './screenshots';

const GRANT = 'nsf-cns-2401234';
const KERNEL = 'compute-panel-rtx4090-python3';

test.use({ autoGoto: true });

test('a notebook saved on a paid tier keeps its provenance; its run shows in the panel and the run history', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(120000);
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/provenance.ipynb`;
  // The notebook's grant (what the panel's move dialog would save), then a
  // notebook whose kernelspec is the RTX 4090 tier's.
  const bound = await page.request.put('/compute-panel/bindings', {
    data: { path, grant_id: GRANT }
  });
  expect(bound.ok()).toBe(true);
  await page.contents.uploadContent(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: { name: KERNEL, display_name: KERNEL, language: 'python' }
      },
      cells: [
        {
          cell_type: 'code',
          id: 'c1',
          metadata: {},
          source: 'import sys; print(sys.version_info[:2])',
          outputs: [],
          execution_count: null
        }
      ]
    }),
    'text',
    path
  );
  await page.notebook.openByPath(path);
  // A paid kernel starts once its price was seen (paid-start.spec.ts).
  await page
    .locator('.jp-Dialog')
    .filter({ has: page.locator('.jp-ComputePanel-paidStart') })
    .getByRole('button', { name: 'Start on RTX 4090 prototyping' })
    .click();
  await compute.waitForKernel(KERNEL);
  await page.notebook.runCell(0);

  const kernelId = await page.evaluate(
    () =>
      (window as any).jupyterapp.shell.currentWidget.sessionContext.session
        .kernel.id
  );
  const run = await (
    await page.request.get(`/compute-panel/kernels/${kernelId}/run`)
  ).json();
  // The environment is captured in the background once the kernel is ready.
  await expect
    .poll(
      async () =>
        (await page.request.get(`/compute-panel/runs/${run.id}/environment`))
          .status(),
      { timeout: 30000 }
    )
    .toBe(200);
  const python = (
    await (
      await page.request.get(`/compute-panel/runs/${run.id}/environment`)
    ).json()
  ).fingerprint.python.version as string;

  // Save; what is on disk names the run. (The first save may come before
  // the environment was fetched: the block then says cuda null; save again
  // once the recorder has it.)
  const onDisk = async () => {
    const response = await page.request.get(
      `/api/contents/${path}?content=1&type=notebook`
    );
    return (await response.json()).content.metadata.jupyterlab_compute_panel;
  };
  await expect
    .poll(
      async () => {
        await page.notebook.save();
        return (await onDisk())?.provenance?.cuda !== null;
      },
      { timeout: 20000, intervals: [500, 1000, 2000] }
    )
    .toBe(true);
  const saved = await onDisk();
  expect(saved.tier).toBe('rtx4090');
  expect(saved.grant).toBe(GRANT);
  expect(saved.provenance).toMatchObject({
    run_id: run.id,
    tier: 'rtx4090',
    tier_label: 'RTX 4090 prototyping',
    price_per_hour: { amount: '0.50', currency: 'USD' },
    grant: GRANT,
    started: run.started,
    hardware: { gpu: { model: expect.stringContaining('4090') } }
  });
  expect(Object.keys(saved.provenance.cuda).sort()).toEqual([
    'cudnn',
    'driver',
    'runtime',
    'toolkit'
  ]);
  expect(Date.parse(saved.provenance.recorded)).toBeGreaterThanOrEqual(
    Date.parse(run.started)
  );

  // Round trip: closed and opened again, the notebook holds the same block.
  await page.notebook.close(true);
  await page.notebook.openByPath(path);
  await compute.waitForKernel(KERNEL);
  const reopened = await page.evaluate(() =>
    (window as any).jupyterapp.shell.currentWidget.model.getMetadata(
      'jupyterlab_compute_panel'
    )
  );
  expect(reopened).toEqual(saved);

  // The panel lists the notebook's runs; its link opens the run history
  // filtered to the notebook.
  await compute.open();
  const section = compute.panel.locator('.jp-ComputePanel-notebookRuns');
  await expect(section.locator(`[data-run="${run.id}"]`)).toContainText(
    'RTX 4090 prototyping'
  );
  await section.getByRole('button', { name: 'Run history' }).click();
  const history = page.locator('#jp-compute-panel-run-history');
  await expect(history.locator('.jp-ComputePanel-history')).toHaveAttribute(
    'data-notebook',
    path
  );
  const row = history
    .locator('.jp-ComputePanel-vtBody [role="row"]')
    .filter({ hasText: 'RTX 4090 prototyping' })
    .filter({ hasText: run.started.replace('T', ' ').slice(0, 16) });
  await expect(row).toHaveCount(1);
  await row.click();
  const details = history.locator('.jp-ComputePanel-historyDetails');
  await expect(details).toHaveAttribute('data-run', run.id);
  await expect(details.locator('[data-fact="rate"]')).toContainText(
    '0.50 USD/h'
  );
  await expect(details.locator('[data-env="python"]')).toContainText(python);
  if (process.env.UPDATE_README_SCREENSHOT) {
    await page.sidebar.close('left');
    await docScreenshots(page, 'run-history');
    await page.sidebar.open('left');
  }
});
