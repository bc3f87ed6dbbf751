import { expect, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { ComputePanelHelper, DashboardHelper, micros } from './helpers';

/**
 * Figures stay live with no run event at all: the page's event stream is cut
 * (as in the lab, where the gateway's events never reach the user's server),
 * so what follows a run's end comes from the panel's poll, and what follows
 * an edit comes from the edit itself. Nothing is mocked on the server.
 */
const DASH = 'dash-grant';
const NSF = 'nsf-cns-2401234';

test.use({ autoGoto: false });

/**
 * Open JupyterLab with its event stream connected to nothing.
 */
async function gotoWithoutEvents(page: Page & { goto: () => Promise<void> }) {
  let cut = 0;
  await page.routeWebSocket(/\/api\/events\/subscribe/, () => {
    // Never connected to the server: the page hears no event.
    cut++;
  });
  await page.goto();
  await expect.poll(() => cut, { timeout: 20000 }).toBeGreaterThan(0);
}

function notebook(source: string): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'compute-panel-local-cpu-python3',
        display_name: 'Python 3',
        language: 'python'
      }
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

test.describe('Live figures without run events', () => {
  test('a budget and title edit shows at once in the panel and the move dialog', async ({
    page,
    tmpPath
  }) => {
    await gotoWithoutEvents(page as any);
    const compute = new ComputePanelHelper(page);
    const path = `${tmpPath}/edit.ipynb`;
    await page.contents.uploadContent(
      JSON.stringify(notebook('1')),
      'text',
      path
    );
    await page.notebook.openByPath(path);
    await compute.waitForKernel('compute-panel-local-cpu-python3');
    await compute.open();
    const row = compute.panel.locator('.jp-ComputePanel-grant', {
      hasText: 'DASH 0001'
    });
    await expect(row.locator('.jp-ComputePanel-grantSpend')).toHaveText(
      /^\d+\.\d{2} USD of 100\.00 USD$/
    );

    await page.evaluate(
      id =>
        (window as any).jupyterapp.commands
          .execute('compute-panel:open-dashboard', { grantId: id })
          .then(() => undefined),
      DASH
    );
    const dashboard = new DashboardHelper(page, DASH);
    await dashboard.waitForData();
    await dashboard.view.getByRole('button', { name: 'Edit grant' }).click();
    const form = dashboard.view.getByRole('form', {
      name: 'Edit grant DASH 0001'
    });
    const title = await form.getByLabel('Title').inputValue();
    await form.getByLabel('Title').fill('Two students, renamed');
    await form.getByLabel('Budget (USD)').fill('125.00');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(form.getByRole('status')).toHaveText('Saved.');

    // Well within the poll's 10 s: the edit itself told the panel.
    await expect(row.locator('.jp-ComputePanel-grantSpend')).toHaveText(
      /of 125\.00 USD$/,
      { timeout: 4000 }
    );
    await expect(row.locator('.jp-ComputePanel-grantName')).toHaveAttribute(
      'title',
      'Two students, renamed'
    );
    // The move dialog offers the grant under its new title.
    await page.notebook.activate('edit.ipynb');
    const dialog = await compute.moveTo('rtx4090');
    await expect(
      dialog.locator('select option', { hasText: 'DASH 0001' })
    ).toHaveText('DASH 0001 — Two students, renamed');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Leave the grant as the other tests expect it.
    await page.evaluate(
      id =>
        (window as any).jupyterapp.commands
          .execute('compute-panel:open-dashboard', { grantId: id })
          .then(() => undefined),
      DASH
    );
    await form.getByLabel('Title').fill(title);
    await form.getByLabel('Budget (USD)').fill('100.00');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(dashboard.kpi('budget')).toHaveText('100.00 USD');
    await expect(row.locator('.jp-ComputePanel-grantSpend')).toHaveText(
      /of 100\.00 USD$/,
      { timeout: 4000 }
    );
  });

  test("a re-run that ends elsewhere shows as ended, and its cost in the grant's spend", async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(120000);
    await gotoWithoutEvents(page as any);
    const compute = new ComputePanelHelper(page);
    const path = `${tmpPath}/rerun.ipynb`;
    await page.contents.uploadContent(
      JSON.stringify(notebook('import time; time.sleep(2)')),
      'text',
      path
    );
    await page.notebook.openByPath(path);
    await compute.waitForKernel('compute-panel-local-cpu-python3');
    await compute.open();
    const spend = compute.panel
      .locator('.jp-ComputePanel-grant', { hasText: 'NSF CNS-2401234' })
      .locator('.jp-ComputePanel-grantSpend');
    await expect(spend).toHaveAttribute('title', / USD of 5000\.00 USD$/);
    const spentBefore = micros(
      ((await spend.getAttribute('title')) ?? '').split(' ')[0]
    );
    const runs = compute.panel.locator('.jp-ComputePanel-notebookRun');
    await expect(runs.first()).toContainText('Local CPU');

    // A headless re-run of this notebook on RTX 4090, started by another client.
    const started = await page.request.post('/compute-panel/reruns', {
      data: { path, tier_id: 'rtx4090', grant_id: NSF }
    });
    expect(started.status()).toBe(201);
    const rerunId = (await started.json()).id;
    await expect
      .poll(
        async () =>
          (
            await (
              await page.request.get(`/compute-panel/reruns/${rerunId}`)
            ).json()
          ).status,
        { timeout: 60000, intervals: [1000] }
      )
      .toBe('completed');
    const ledger = await (
      await page.request.get(
        `/compute-panel/runs?notebook=${encodeURIComponent(path)}&sort=-started&limit=1`
      )
    ).json();
    const rerunRun = ledger.runs[0];
    expect([rerunRun.tier_id, rerunRun.status]).toEqual(['rtx4090', 'closed']);

    // The panel hears nothing, yet within a poll (10 s) it shows the re-run
    // ended, at the ledger's exact cost, and the grant's spend with it.
    const top = runs.first();
    await expect(top).toContainText('RTX 4090', { timeout: 25000 });
    await expect(top).not.toContainText('running');
    await expect(
      top.locator('.jp-ComputePanel-notebookRunCost')
    ).toHaveAttribute('title', `${rerunRun.cost.amount} USD`);
    await expect
      .poll(
        async () =>
          micros(((await spend.getAttribute('title')) ?? '').split(' ')[0]),
        { timeout: 25000 }
      )
      .toBeGreaterThan(spentBefore);
    // Money reads the same everywhere: the currency, two decimals or two
    // significant digits below a cent.
    await expect(spend).toHaveText(
      /^(\d+\.\d{2}|0\.0*[1-9]\d?) USD of 5000\.00 USD$/
    );
  });
});
