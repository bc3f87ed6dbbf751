import { expect, test } from '@jupyterlab/galata';
import { ComputePanelHelper } from './helpers';
import { docScreenshots } from './screenshots';

const GRANT = 'nsf-cns-2401234';

/**
 * A one-cell notebook whose kernelspec is the given tier kernelspec.
 */
function notebookOn(kernel: string, source = ''): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: kernel, display_name: kernel, language: 'python' }
    },
    cells: [
      {
        cell_type: 'code',
        id: 'c1',
        metadata: {},
        source,
        outputs: [],
        execution_count: null
      }
    ]
  };
}

test.use({ autoGoto: true });

test.describe('Compute panel', () => {
  test('shows the three demo tiers with prices and badges', async ({
    page
  }) => {
    const compute = new ComputePanelHelper(page);
    await compute.open();
    await expect(compute.card('local-cpu')).toContainText('Local CPU');
    await expect(compute.card('local-cpu').locator('.jp-ComputePanel-price')).toHaveText(/Free/i);
    await expect(compute.card('rtx4090').locator('.jp-ComputePanel-price')).toHaveText('0.50 USD/h');
    await expect(compute.card('h200').locator('.jp-ComputePanel-price')).toHaveText('3.50 USD/h');
    await expect(compute.card('rtx4090').locator('.jp-ComputePanel-badge-simulated')).toBeVisible();
    await expect(compute.card('h200').locator('.jp-ComputePanel-badge-simulated')).toBeVisible();
    await expect(compute.card('local-cpu').locator('.jp-ComputePanel-badge-simulated')).toHaveCount(0);
  });

  test('moves a notebook from Local CPU to RTX 4090 to H200, metering each', async ({
    page,
    tmpPath
  }) => {
    const compute = new ComputePanelHelper(page);
    const name = 'move.ipynb';
    const path = `${tmpPath}/${name}`;
    await page.contents.uploadContent(
      JSON.stringify(
        notebookOn(
          'compute-panel-local-cpu-python3',
          "import os; print(os.environ['COMPUTE_PANEL_TIER'])"
        )
      ),
      'text',
      path
    );
    await page.notebook.openByPath(path);
    await compute.waitForKernel('compute-panel-local-cpu-python3');
    await compute.open();
    await expect(compute.card('local-cpu')).toHaveAttribute('aria-current', 'true');
    await expect(compute.status).toContainText('Local CPU');

    // To RTX 4090: the dialog shows the price, asks for a grant, warns about memory.
    const dialog = await compute.moveTo('rtx4090', { grant: GRANT });
    await expect(dialog).toContainText('0.50 USD/h');
    await expect(dialog).toContainText('Kernel memory does not move');
    await compute.confirm(dialog);
    await compute.waitForKernel('compute-panel-rtx4090-python3');
    await expect(compute.card('rtx4090')).toHaveAttribute('aria-current', 'true');
    await expect(compute.status).toContainText('RTX 4090 prototyping');

    // Run a cell on the new tier.
    await page.notebook.runCell(0);
    expect(await page.notebook.getCellTextOutput(0)).toEqual(['rtx4090\n']);

    // To H200: the grant is remembered for this notebook.
    const dialog2 = await compute.moveTo('h200');
    await expect(dialog2).toContainText('3.50 USD/h');
    await expect(dialog2.locator('select')).toHaveValue(GRANT);
    await compute.confirm(dialog2);
    await compute.waitForKernel('compute-panel-h200-python3');
    await expect(compute.status).toContainText('H200 training');

    // The status-bar cost rises while the kernel runs.
    await expect(compute.status).toContainText('USD');
    const before = await compute.statusCostMicros();
    await page.waitForTimeout(2500);
    await expect
      .poll(() => compute.statusCostMicros(), { timeout: 10000 })
      .toBeGreaterThan(before);

    await docScreenshots(page, 'compute-panel');

    // The notebook's metadata records the tier and grant.
    const metadata = await page.evaluate(() => {
      const widget = (window as any).jupyterapp.shell.currentWidget;
      return widget.model.getMetadata('jupyterlab_compute_panel');
    });
    expect(metadata).toEqual({ tier: 'h200', grant: GRANT });

    // Three runs recorded: Local CPU and RTX 4090 closed, H200 open.
    // (On failure the message lists every run with its end reason.)
    let seen = '';
    const runs = expect
      .poll(async () => {
        const response = await page.request.get(
          `/compute-panel/runs?notebook=${encodeURIComponent(path)}`
        );
        const body = await response.json();
        seen = JSON.stringify(
          body.runs.map((r: any) => [r.tier_id, r.status, r.end_reason, r.started_at])
        );
        return body.runs
          .map((r: any) => `${r.tier_id}:${r.status}`)
          .reverse()
          .join(' ');
      }, { timeout: 30000 })
      .toBe('local-cpu:closed rtx4090:closed h200:open');
    await runs.catch((error: Error) => {
      throw new Error(`${error.message}\nruns: ${seen}`);
    });
  });
});
