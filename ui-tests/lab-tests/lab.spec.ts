/**
 * The lab in Chromium: alice, logged into the hub, moves a notebook from her own Local
 * CPU to the gateway's H200 tier, runs a cell there and sees the cost tick; bob, logged
 * in beside her, sees none of it. Made a viewer of the grant by its PI, alice restarts
 * her H200 kernel: the gateway refuses, and JupyterLab says why and that the notebook
 * has no kernel.
 */
import { expect, test as galataTest } from '@jupyterlab/galata';
import { ComputePanelHelper } from '../tests/helpers';
import { labInfo, storageStateOf } from './login';

const info = labInfo();
const server = `${info.hub}/user/alice`;

/**
 * galata makes its test folder through the server's root URL when it has no page yet:
 * under the hub the server lives at /user/alice, so the folder is made here instead.
 */
const test = galataTest.extend<{ tmpPath: string }>({
  tmpPath: async ({ request }, use, testInfo) => {
    const folder = `lab-${testInfo.testId}`;
    const made = await request.put(`${server}/api/contents/${folder}`, {
      data: { type: 'directory' }
    });
    expect(made.ok()).toBeTruthy();
    await use(folder);
    await request.delete(`${server}/api/contents/${folder}`);
  }
});

test.use({
  autoGoto: true,
  baseURL: server,
  storageState: storageStateOf('alice'),
  // galata's own file helpers call the server's API outside the page: with alice's token.
  extraHTTPHeaders: { Authorization: `token ${info.tokens.alice}` }
});

function notebook(source: string): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
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

test('alice moves a notebook to the gateway H200 tier and sees the cost tick; bob sees none of it', async ({
  page,
  tmpPath,
  browser
}) => {
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/robustness.ipynb`;
  await page.contents.uploadContent(
    JSON.stringify(
      notebook(
        "import os, pwd; print(os.environ.get('COMPUTE_PANEL_TIER'), pwd.getpwuid(os.getuid()).pw_name)"
      )
    ),
    'text',
    path
  );
  await page.notebook.openByPath(path);
  await compute.waitForKernel('python3');
  await compute.open(2);
  // Her own server's Local CPU (its kernel runs here, as alice), then the gateway's tiers.
  await expect(compute.card('local-cpu')).toHaveAttribute(
    'aria-current',
    'true'
  );
  await page.notebook.runCell(0);
  expect(await page.notebook.getCellTextOutput(0)).toEqual(['None alice\n']);

  const dialog = await compute.moveTo('h200', { grant: info.grant });
  await expect(dialog).toContainText('3.60 USD/h');
  await compute.confirm(dialog);
  await compute.waitForKernel('compute-panel-h200-python3');
  await expect(compute.status).toContainText('H200 training');
  // The cell runs on the gateway, as its account (the GPU node of a real lab).
  await page.notebook.runCell(0);
  expect(await page.notebook.getCellTextOutput(0)).toEqual([
    'h200 compute-gateway\n'
  ]);
  const before = await compute.statusCostMicros();
  await expect
    .poll(() => compute.statusCostMicros(), { timeout: 15000 })
    .toBeGreaterThan(before);
  if (process.env.UPDATE_README_SCREENSHOT) {
    await page.screenshot({ path: '../docs/images/lab-mode.png' });
  }
  const runs = await page.request.get(
    `${info.hub}/user/alice/compute-panel/runs?notebook=${encodeURIComponent(path)}`
  );
  const mine = (await runs.json()).runs;
  expect(mine.map((r: any) => `${r.user}:${r.tier_id}:${r.status}`)).toEqual([
    'alice:h200:open'
  ]);

  // Bob, logged in beside her: none of her kernels, none of her runs.
  const bob = await browser.newContext({
    storageState: storageStateOf('bob'),
    extraHTTPHeaders: { Authorization: `token ${info.tokens.bob}` }
  });
  try {
    const bobs = await bob.newPage();
    await bobs.goto(`${info.hub}/user/bob/lab`);
    await bobs.waitForFunction(() => (window as any).jupyterapp?.started);
    const kernels = await bob.request.get(`${info.hub}/user/bob/api/kernels`);
    expect(await kernels.json()).toEqual([]);
    const theirs = await bob.request.get(
      `${info.hub}/user/bob/compute-panel/runs`
    );
    expect((await theirs.json()).runs).toEqual([]);
    const hers = await bob.request.get(`${info.hub}/user/alice/api/kernels`, {
      maxRedirects: 0
    });
    expect(hers.status()).not.toBe(200);
  } finally {
    await bob.close();
  }
});

test('a restart the gateway refuses once alice is a viewer says why, and that the notebook has no kernel', async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/restart.ipynb`;
  await page.contents.uploadContent(
    JSON.stringify(notebook('print(1)')),
    'text',
    path
  );
  await page.notebook.openByPath(path);
  await compute.waitForKernel('python3');
  await compute.open(2);
  await compute.confirm(await compute.moveTo('h200', { grant: info.grant }));
  await compute.waitForKernel('compute-panel-h200-python3');

  const role = (value: string) =>
    page.request.put(
      `${info.gateway}/compute-panel/grants/${info.grant}/members/alice`,
      {
        data: { role: value },
        headers: { Authorization: `token ${info.pi_token}` }
      }
    );
  expect((await role('viewer')).status()).toBe(200);
  try {
    await page.evaluate(() => {
      void (window as any).jupyterapp.commands.execute(
        'notebook:restart-kernel'
      );
    });
    await page
      .locator('.jp-Dialog')
      .getByRole('button', { name: 'Confirm Kernel Restart' })
      .click();
    const dialog = page.locator('.jp-Dialog').filter({
      has: page.locator('.jp-ComputePanel-refusal')
    });
    await expect(dialog).toBeVisible({ timeout: 30000 });
    await expect(dialog.locator('.jp-Dialog-header')).toHaveText(
      'Kernel not restarted'
    );
    await expect(dialog.locator('.jp-ComputePanel-refusalSentence')).toHaveText(
      /^You can view grant .* but not charge it: ask its PI/
    );
    await expect(dialog).toContainText('restart.ipynb has no kernel now.');
    await expect(
      dialog.getByRole('button', { name: 'Start on Local CPU' })
    ).toBeVisible();
    const shown = await page.evaluate(
      () =>
        (window as any).jupyterapp.shell.currentWidget.sessionContext
          .kernelDisplayName
    );
    expect(shown).toBe('No Kernel');
    await dialog.getByRole('button', { name: 'Close' }).click();
  } finally {
    await role('member');
  }
});
