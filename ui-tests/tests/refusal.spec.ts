import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { ComputePanelHelper } from './helpers';

test.use({ autoGoto: true });

const LOCAL = 'compute-panel-local-cpu-python3';
const H200 = 'compute-panel-h200-python3';
const NO_GRANT =
  /H200 training is a paid tier .*, and no grant is chosen for this notebook: choose one in the compute panel/;

async function upload(
  page: IJupyterLabPageFixture,
  path: string,
  kernel: string
): Promise<void> {
  await page.contents.uploadContent(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: kernel, display_name: kernel } },
      cells: []
    }),
    'text',
    path
  );
}

/**
 * The admin's command line on the galata server's ledger (playwright.config.js).
 */
function grantsCli(...args: string[]): void {
  const data = path.resolve(__dirname, '..', '.ui-tests-data');
  execFileSync(
    'jupyter',
    ['compute-panel', '--db-url', `sqlite:///${data}/ledger.sqlite`, 'grants', ...args],
    { stdio: 'pipe' }
  );
}

function kernelId(page: IJupyterLabPageFixture): Promise<string | null> {
  return page.evaluate(() => {
    const app = (window as any).jupyterapp;
    return app.shell.currentWidget?.sessionContext?.session?.kernel?.id ?? null;
  });
}

/**
 * The dialog on screen (not JupyterLab's, which the extension hides and replaces).
 */
function shownDialog(page: IJupyterLabPageFixture) {
  return page.locator('.jp-Dialog:not(.jp-ComputePanel-supersededDialog)');
}

test("JupyterLab's Change kernel to a paid tier without a grant keeps the kernel and says why, wrapped", async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/change.ipynb`;
  await upload(page, path, LOCAL);
  await page.notebook.openByPath(path);
  await compute.waitForKernel(LOCAL);
  const before = await kernelId(page);

  // The stock path: Kernel > Change Kernel..., then H200 in its selector.
  // (JupyterLab's command rejects with the refusal, after the dialog.)
  await page.evaluate(() => {
    void (window as any).jupyterapp.commands
      .execute('notebook:change-kernel')
      .catch(() => undefined);
  });
  const selector = page.locator('.jp-Dialog select');
  await selector.selectOption(JSON.stringify({ name: H200 }));
  await page.getByRole('button', { name: 'Select Kernel' }).click();

  const dialog = shownDialog(page);
  const sentence = dialog.locator('.jp-ComputePanel-refusalSentence');
  await expect(sentence).toHaveText(NO_GRANT, { timeout: 20000 });
  await expect(dialog).toContainText(
    'change.ipynb is on its kernel, Local CPU.'
  );
  // Wrapped: nothing to scroll sideways.
  const overflow = await sentence.evaluate(
    el => el.scrollWidth - el.clientWidth
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await expect(page.locator('.jp-Dialog')).toHaveCount(1);

  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
  await compute.waitForKernel(LOCAL);
  expect(await kernelId(page)).toBe(before);
});

test('a notebook opened on a paid tier without a grant asks before any start, and starts on Local CPU', async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/opened.ipynb`;
  await upload(page, path, H200);
  await page.notebook.openByPath(path);

  // Nothing is started (so nothing is refused): the question before a paid
  // start says there is no grant yet (paid-start.spec.ts tests the rest).
  const question = page
    .locator('.jp-Dialog')
    .filter({ has: page.locator('.jp-ComputePanel-paidStart') });
  await expect(question).toContainText(
    'opened.ipynb was saved on H200 training, which costs 3.50 USD/h; no grant is chosen for it yet',
    { timeout: 20000 }
  );
  await expect(page.locator('.jp-ComputePanel-refusal')).toHaveCount(0);
  await question.getByRole('button', { name: 'Start on Local CPU' }).click();
  await compute.waitForKernel(LOCAL);
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
});

test("a restart refused on a paid tier says why, that the notebook has no kernel, and starts it on Local CPU", async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  // A grant of its own, that the student may charge until its PI makes them a viewer.
  grantsCli(
    'add',
    '--id', 'restart-grant',
    '--award-number', 'SEED 0002',
    '--title', 'A grant whose PI changes roles',
    '--funder', 'Internal',
    '--pi', 'dana',
    '--budget', '100.00',
    '--currency', 'USD',
    '--start-date', '2026-01-01',
    '--end-date', '2030-12-31'
  );
  grantsCli('add-member', 'restart-grant', 'student', 'member');
  try {
    const path = `${tmpPath}/restart.ipynb`;
    await upload(page, path, LOCAL);
    await page.notebook.openByPath(path);
    await compute.waitForKernel(LOCAL);
    await compute.open();
    await compute.confirm(
      await compute.moveTo('h200', { grant: 'restart-grant' })
    );
    await compute.waitForKernel(H200);
    const paid = await kernelId(page);

    // While the kernel runs, the PI makes the student a viewer of the grant.
    grantsCli('add-member', 'restart-grant', 'student', 'viewer');

    // JupyterLab's own restart, confirmed in its own dialog.
    await page.evaluate(() => {
      void (window as any).jupyterapp.commands.execute('notebook:restart-kernel');
    });
    await page
      .locator('.jp-Dialog')
      .getByRole('button', { name: 'Confirm Kernel Restart' })
      .click();

    const dialog = shownDialog(page).filter({
      has: page.locator('.jp-ComputePanel-refusal')
    });
    await expect(dialog).toBeVisible({ timeout: 20000 });
    await expect(dialog.locator('.jp-Dialog-header')).toHaveText(
      'Kernel not restarted'
    );
    const sentence = dialog.locator('.jp-ComputePanel-refusalSentence');
    await expect(sentence).toHaveText(
      /^You can view grant SEED 0002 but not charge it: ask its PI \(dana\) to make you a member, or choose another grant\.$/
    );
    const overflow = await sentence.evaluate(
      el => el.scrollWidth - el.clientWidth
    );
    expect(overflow).toBeLessThanOrEqual(0); // wrapped
    await expect(dialog).toContainText('restart.ipynb has no kernel now.');
    await expect(page.locator('.jp-Dialog')).toHaveCount(1);

    // The notebook says what the server has: no kernel (the paid one is gone).
    expect(await kernelId(page)).toBeNull();
    const shown = await page.evaluate(
      () =>
        (window as any).jupyterapp.shell.currentWidget.sessionContext
          .kernelDisplayName
    );
    expect(shown).toBe('No Kernel');
    const kernels = await (await page.request.get('/api/kernels')).json();
    expect(kernels.map((k: any) => k.id)).not.toContain(paid);

    await dialog.getByRole('button', { name: 'Start on Local CPU' }).click();
    const move = page.locator('.jp-Dialog').filter({
      has: page.locator('.jp-ComputePanel-moveDialog')
    });
    await expect(move).toBeVisible({ timeout: 20000 });
    await compute.confirm(move);
    await compute.waitForKernel(LOCAL);
  } finally {
    grantsCli('remove-member', 'restart-grant', 'student');
  }
});
