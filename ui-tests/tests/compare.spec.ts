import { readFileSync } from 'fs';
import { resolve } from 'path';

import { expect, test } from '@jupyterlab/galata';

import { ComputePanelHelper } from './helpers';
import { docScreenshots } from './screenshots';

const GRANT = 'nsf-cns-2401234';
const DEMO = resolve(__dirname, '../../examples/adversarial-robustness.ipynb');

test.use({ autoGoto: true });

/**
 * A re-run's state from the server, until it ends.
 */
async function waitForRerun(
  page: { request: { get: (url: string) => Promise<any> } },
  rerunId: string
): Promise<any> {
  let last: any = null;
  await expect
    .poll(
      async () => {
        const response = await page.request.get(
          `/compute-panel/reruns/${rerunId}`
        );
        last = await response.json();
        return last.status;
      },
      { timeout: 120000, intervals: [1000] }
    )
    .not.toBe('running');
  return last;
}

test('re-runs the demo notebook on Local CPU and H200 training, then compares the two runs', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(240000);
  const name = 'adversarial-robustness.ipynb';
  const path = `${tmpPath}/${name}`;
  await page.contents.uploadContent(readFileSync(DEMO, 'utf-8'), 'text', path);

  // Local CPU through the API, to keep the test short. It starts first, so
  // it is the run that the H200 re-run's "Compare with" picks.
  const started = await page.request.post('/compute-panel/reruns', {
    data: { path, tier_id: 'local-cpu' }
  });
  expect(started.status()).toBe(201);
  const localId = (await started.json()).id;

  // The File menu offers both commands.
  await page.menu.open('File');
  expect(
    await page.menu.getMenuItem('File>Re-run Notebook on…')
  ).not.toBeNull();
  expect(
    await page.menu.getMenuItem('File>Compare Runs of This Notebook…')
  ).not.toBeNull();
  await page.menu.closeAll();

  // H200 training through the command and its dialog (as the panel's
  // "Re-run on…" button and the File menu do).
  const command = page.evaluate(
    p =>
      (window as any).jupyterapp.commands
        .execute('compute-panel:rerun-notebook', { path: p })
        .then((rerun: any) => rerun?.id ?? null),
    path
  );
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-ComputePanel-rerunDialog')).toBeVisible();
  await expect(dialog.locator('.jp-Dialog-header')).toHaveText(
    `Re-run ${name} on…`
  );
  await expect(dialog.locator('[data-tier="h200"]')).toContainText(
    '3.50 USD/h'
  );
  await dialog.locator('[data-tier="h200"] input').check();
  await dialog.getByLabel('Charge to grant').selectOption(GRANT);
  await expect(dialog.getByRole('note')).toContainText(
    'the kernel stops as soon as the last cell ends'
  );
  await dialog.getByRole('button', { name: 'Re-run' }).click();
  await expect(dialog).toHaveCount(0);
  const rerunId = await command;
  expect(rerunId).toBeTruthy();

  // Progress, then the end, in one notification.
  await expect(
    page.getByText(new RegExp(`Re-running ${name} on H200 training`)).first()
  ).toBeVisible({ timeout: 20000 });
  await expect(
    page.getByText(new RegExp(`Re-ran ${name} on H200 training: \\d+ cells`))
  ).toBeVisible({ timeout: 120000 });
  const h200 = await waitForRerun(page, rerunId);
  expect(h200.status).toBe('completed');
  expect(h200.output).toMatch(
    new RegExp(
      `^${tmpPath}/adversarial-robustness\\.h200\\.\\d{8}T\\d{6}\\.ipynb$`
    )
  );

  const local = await waitForRerun(page, localId);
  expect(local.status).toBe('completed');

  // Compare with the Local CPU run, from the notification.
  await page.getByRole('button', { name: 'Compare with Local CPU' }).click();
  const view = page.locator('.jp-ComputePanel-compare[data-verdict]');
  await expect(view).toBeVisible({ timeout: 30000 });
  // H200 training is simulated here: its cost is real, its speed is not
  // claimed.
  await expect(view.locator('.jp-ComputePanel-compareSummary')).toHaveText(
    /^outputs are identical; H200 training cost 0\.\d+ USD more \(Local CPU was free\); speed is not comparable: H200 training is a simulated tier$/
  );
  const verdict = view.locator('.jp-ComputePanel-verdict');
  await expect(verdict).toHaveAttribute('data-verdict', 'match');
  await expect(verdict).toHaveText('identical');
  // Baseline first: the Local CPU run, then H200 training, with their costs.
  await expect(view.locator('thead th[data-run]')).toHaveCount(2);
  await expect(view.locator('thead th[data-run]').first()).toHaveAttribute(
    'data-run',
    local.run_id
  );
  await expect(view.locator('thead th[data-run]').nth(1)).toContainText(
    'H200 training'
  );
  await expect(view.locator('tr.jp-ComputePanel-compareCell')).toHaveCount(7);
  await expect(
    view.locator(
      'tr.jp-ComputePanel-compareCell .jp-ComputePanel-cellVerdict[data-verdict="same"]'
    )
  ).toHaveCount(7);
  const h200Head = view.locator('thead th[data-run]').nth(1);
  await expect(h200Head.locator('.jp-ComputePanel-badge')).toHaveText(
    'simulated'
  );
  await expect(h200Head.locator('.jp-ComputePanel-compareSpeed')).toHaveText(
    'speed not comparable: simulated tier'
  );
  // The environment differs at least in the tier, named in words, and not
  // in what every capture changes.
  const env = view.locator('[data-section="environment"]');
  await expect(
    env.locator('[data-env-field="tier.hardware.gpu.memory_gb"] th')
  ).toHaveText('GPU memory');
  await expect(
    env.locator('[data-env-field="tier.hardware.gpu.memory_gb"] td').last()
  ).toHaveText('141 GB');
  await expect(env.locator('[data-env-field="tier.id"] th')).toHaveText(
    'Tier'
  );
  await expect(env.locator('[data-env-field^="notebook."]')).toHaveCount(0);
  await expect(env.locator('th[scope="row"]')).not.toContainText([
    /\w\.\w/
  ]);

  if (process.env.UPDATE_README_SCREENSHOT) {
    await page.sidebar.close('left');
    await docScreenshots(page, 'compare');
    await page.sidebar.open('left');
  }

  // The same runs open the same tab again.
  await page.evaluate(
    ids =>
      (window as any).jupyterapp.commands
        .execute('compute-panel:compare-runs', { runIds: ids })
        .then(() => null),
    [local.run_id, h200.run_id]
  );
  const compareTabs = () =>
    page.evaluate(
      () =>
        Array.from((window as any).jupyterapp.shell.widgets('main')).filter(
          (w: any) => w.id.startsWith('jp-compute-panel-compare-')
        ).length
    );
  expect(await compareTabs()).toBe(1);

  // The run history offers both: "Re-run on…" for the run shown, and
  // "Compare" for the runs ticked, the first ticked as the baseline.
  await page.evaluate(
    p =>
      (window as any).jupyterapp.commands
        .execute('compute-panel:open-run-history', { notebook: p })
        .then(() => null),
    path
  );
  const history = page.locator('#jp-compute-panel-run-history');
  const rows = history.locator('.jp-ComputePanel-vtBody [role="row"]');
  await expect(rows).toHaveCount(2);
  const localRow = rows.filter({ hasText: 'Local CPU' });
  const h200Row = rows.filter({ hasText: 'H200 training' });
  await h200Row.click();
  const details = history.locator('.jp-ComputePanel-historyDetails');
  await expect(details).toHaveAttribute('data-run', h200.run_id);
  await expect(
    details.getByRole('button', { name: 'Re-run on…' })
  ).toBeEnabled();
  const compareButton = history.getByRole('button', { name: /^Compare/ });
  await expect(compareButton).toBeDisabled();
  await localRow.locator('input.jp-ComputePanel-historySelect').check();
  await expect(compareButton).toBeDisabled();
  await h200Row.locator('input.jp-ComputePanel-historySelect').check();
  await expect(compareButton).toHaveText('Compare 2 Runs');
  await compareButton.click();
  // The same two runs in the same order: the open tab comes forward.
  await expect(view).toBeVisible();
  expect(await compareTabs()).toBe(1);
});

test('an open notebook saved before its cells ran compares as incomplete, never with its kernel’s lifetime as speed', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(240000);
  const path = `${tmpPath}/walkthrough.ipynb`;
  const demo = JSON.parse(readFileSync(DEMO, 'utf-8'));
  demo.metadata.kernelspec = {
    name: 'compute-panel-local-cpu-python3',
    display_name: 'Local CPU',
    language: 'python'
  };
  await page.contents.uploadContent(JSON.stringify(demo), 'text', path);

  // Open on Local CPU and save before running anything: the saved notebook
  // names the open run, and holds no outputs.
  await page.notebook.openByPath(path);
  await new ComputePanelHelper(page).waitForKernel(
    'compute-panel-local-cpu-python3'
  );
  const kernelId = await page.evaluate(
    () =>
      (window as any).jupyterapp.shell.currentWidget.sessionContext.session
        .kernel.id
  );
  const interactive = await (
    await page.request.get(`/compute-panel/kernels/${kernelId}/run`)
  ).json();
  await expect
    .poll(
      async () => {
        await page.notebook.save();
        const response = await page.request.get(
          `/api/contents/${path}?content=1&type=notebook`
        );
        return (await response.json()).content.metadata
          .jupyterlab_compute_panel?.provenance?.run_id;
      },
      { timeout: 30000, intervals: [500, 1000, 2000] }
    )
    .toBe(interactive.id);

  // Re-run it headlessly on Local CPU too: the same machine, so the only
  // honest speed is the cells' own times.
  const started = await page.request.post('/compute-panel/reruns', {
    data: { path, tier_id: 'local-cpu' }
  });
  expect(started.status()).toBe(201);
  const rerun = await waitForRerun(page, (await started.json()).id);
  expect(rerun.status).toBe('completed');

  await page.evaluate(
    ids =>
      (window as any).jupyterapp.commands
        .execute('compute-panel:compare-runs', { runIds: ids })
        .then(() => null),
    [interactive.id, rerun.run_id]
  );
  const view = page.locator('.jp-ComputePanel-compare[data-verdict]');
  await expect(view).toBeVisible({ timeout: 30000 });
  const verdict = view.locator('.jp-ComputePanel-verdict');
  await expect(verdict).toHaveAttribute('data-verdict', 'incomplete');
  await expect(verdict).toHaveText('incomplete');
  const summary = view.locator('.jp-ComputePanel-compareSummary');
  await expect(summary).toHaveText(
    /^Local CPU \(the baseline\) ran no cell; Local CPU cost nothing either; speed is not comparable: Local CPU \(the baseline\) recorded no cell timings$/
  );
  await expect(summary).not.toContainText('faster');
  const other = view.locator('thead th[data-run]').nth(1);
  await expect(other.locator('.jp-ComputePanel-compareSpeed')).toHaveText(
    'speed not comparable: cells not timed'
  );
  const baseline = view.locator('thead th[data-run]').first();
  await expect(baseline).toContainText('cells not timed');
  await expect(baseline).toContainText('running');
  await expect(baseline).toContainText('no cell ran');
  await expect(
    view.locator(
      'tr.jp-ComputePanel-compareCell .jp-ComputePanel-cellVerdict[data-verdict="not_run"]'
    )
  ).toHaveCount(14);

  // Run the cells in JupyterLab (cell timing is not recorded by default)
  // and save: the outputs now compare, and still no speed is made up from
  // the kernel's lifetime.
  expect(
    await page.evaluate(p => {
      const shell = (window as any).jupyterapp.shell;
      const widget = Array.from(shell.widgets('main')).find(
        (w: any) => w.context?.path === p
      ) as any;
      if (widget) {
        shell.activateById(widget.id);
      }
      return !!widget;
    }, path)
  ).toBe(true);
  await page.notebook.run();
  await page.notebook.save();
  await page.evaluate(
    ids =>
      (window as any).jupyterapp.commands
        .execute('compute-panel:compare-runs', { runIds: ids })
        .then(() => null),
    [interactive.id, rerun.run_id]
  );
  const rtol = view.getByLabel('Relative tolerance');
  await rtol.fill('0.002');
  await rtol.press('Enter');
  await expect(verdict).toHaveAttribute('data-verdict', 'match', {
    timeout: 30000
  });
  await expect(summary).toHaveText(
    /^outputs are identical; Local CPU cost nothing either; speed is not comparable: Local CPU \(the baseline\) recorded no cell timings$/
  );
  await expect(baseline).toContainText('cells not timed');
});
