import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';
import { ComputePanelHelper, DashboardHelper } from './helpers';

test.use({ autoGoto: true });

const LOCAL = 'compute-panel-local-cpu-python3';
const H200 = 'compute-panel-h200-python3';
const GRANT = 'nsf-cns-2401234';

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
 * The notebook's grant, as the compute panel remembers it on the server.
 */
async function bind(page: IJupyterLabPageFixture, path: string) {
  const response = await page.request.put('/compute-panel/bindings', {
    data: { path, grant_id: GRANT, tier_id: 'h200' }
  });
  expect(response.ok()).toBe(true);
}

/**
 * The kernels the server runs for `path` (its sessions).
 */
async function serverKernels(
  page: IJupyterLabPageFixture,
  path: string
): Promise<string[]> {
  const response = await page.request.get('/api/sessions');
  const sessions = (await response.json()) as any[];
  return sessions.filter(s => s.path === path).map(s => s.kernel.name);
}

function currentKernel(page: IJupyterLabPageFixture): Promise<string | null> {
  return page.evaluate(() => {
    const app = (window as any).jupyterapp;
    return (
      app.shell.currentWidget?.sessionContext?.session?.kernel?.name ?? null
    );
  });
}

function question(page: IJupyterLabPageFixture) {
  return page
    .locator('.jp-Dialog')
    .filter({ has: page.locator('.jp-ComputePanel-paidStart') });
}

test('opening a notebook saved on a paid tier asks, with the price and the grant, before any kernel starts', async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/paid.ipynb`;
  await upload(page, path, H200);
  await bind(page, path);
  await page.notebook.openByPath(path);

  const dialog = question(page);
  await expect(dialog).toBeVisible({ timeout: 20000 });
  await expect(dialog.locator('.jp-ComputePanel-paidStartSentence')).toHaveText(
    'paid.ipynb was saved on H200 training, which costs 3.50 USD/h, charged to grant NSF CNS-2401234.'
  );
  // Asked, and nothing runs meanwhile: no kernel, on the server either.
  expect(await currentKernel(page)).toBeNull();
  expect(await serverKernels(page, path)).toEqual([]);
  await expect(
    dialog.getByRole('button', { name: 'Start on H200 training' })
  ).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'No kernel' })).toBeVisible();

  await dialog.getByRole('button', { name: 'Start on Local CPU' }).click();
  await compute.waitForKernel(LOCAL);
  expect(await serverKernels(page, path)).toEqual([LOCAL]);
});

test('after a reload, a notebook whose paid kernel was stopped asks again instead of starting it', async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/stopped.ipynb`;
  await upload(page, path, H200);
  await bind(page, path);
  await page.notebook.openByPath(path);

  // Start it on H200 from the question: no second dialog, the grant is known.
  const dialog = question(page);
  await dialog.getByRole('button', { name: 'Start on H200 training' }).click();
  await compute.waitForKernel(H200);
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
  // Confirmed in the question: no "now runs on" notice after it.
  await expect(page.getByText(/now runs on H200 training/)).toHaveCount(0);
  await page.notebook.save();

  // The kernel stops (as a hard stop stops it), then the page reloads and
  // JupyterLab restores the notebook.
  const [session] = ((await (
    await page.request.get('/api/sessions')
  ).json()) as any[]).filter(s => s.path === path);
  const stopped = await page.request.delete(`/api/kernels/${session.kernel.id}`);
  expect(stopped.status()).toBe(204);
  await expect.poll(() => serverKernels(page, path)).toEqual([]);
  await page.reload({ waitForIsReady: false } as any);

  await expect(question(page)).toBeVisible({ timeout: 30000 });
  expect(await serverKernels(page, path)).toEqual([]);
  await question(page).getByRole('button', { name: 'No kernel' }).click();
  await expect(question(page)).toHaveCount(0);
  await page.waitForTimeout(1000);
  expect(await currentKernel(page)).toBeNull();
  expect(await serverKernels(page, path)).toEqual([]);
});

test("JupyterLab's Change kernel to a paid tier says its price at once, with Move to Local CPU", async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/stock.ipynb`;
  await upload(page, path, LOCAL);
  await bind(page, path);
  await page.notebook.openByPath(path);
  await compute.waitForKernel(LOCAL);

  await page.evaluate(() => {
    void (window as any).jupyterapp.commands
      .execute('notebook:change-kernel')
      .catch(() => undefined);
  });
  await page
    .locator('.jp-Dialog select')
    .selectOption(JSON.stringify({ name: H200 }));
  await page.getByRole('button', { name: 'Select Kernel' }).click();
  await compute.waitForKernel(H200);

  const toast = page
    .locator('.Toastify__toast')
    .filter({ hasText: 'now runs on H200 training' });
  await expect(toast).toContainText(
    'stock.ipynb now runs on H200 training: 3.50 USD/h, charged to grant NSF CNS-2401234.',
    { timeout: 20000 }
  );
  await toast.getByRole('button', { name: 'Move to Local CPU' }).click();
  await compute.waitForKernel(LOCAL);
  expect(await serverKernels(page, path)).toEqual([LOCAL]);
});

test.describe('with "start on the free tier"', () => {
  test.use({
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      'jupyterlab-compute-panel:panel': { paidStartOnOpen: 'start-local' }
    }
  });

  test('a paid notebook opens on Local CPU and offers the move back', async ({
    page,
    tmpPath
  }) => {
    const compute = new ComputePanelHelper(page);
    const path = `${tmpPath}/local.ipynb`;
    await upload(page, path, H200);
    await page.notebook.openByPath(path);
    await compute.waitForKernel(LOCAL);
    expect(await serverKernels(page, path)).toEqual([LOCAL]);
    await expect(question(page)).toHaveCount(0);
    const toast = page
      .locator('.Toastify__toast')
      .filter({ hasText: 'local.ipynb started on Local CPU' });
    await expect(toast).toContainText(
      'local.ipynb started on Local CPU, not on H200 training (3.50 USD/h).'
    );
    // The move back is a move: its dialog shows the price and the grant.
    await toast.getByRole('button', { name: 'Move to H200 training' }).click();
    await expect(page.locator('.jp-ComputePanel-moveDialog')).toBeVisible();
    await expect(page.locator('.jp-Dialog')).toContainText('3.50 USD');
  });
});

test("a PI's budget edit below the spend names the kernel it stops and asks; the stop reads whole, in the PI's words", async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  const grant = 'dash-grant'; // student is its PI (seed_dashboard.py)
  const path = `${tmpPath}/spending.ipynb`;
  await upload(page, path, H200);
  const bound = await page.request.put('/compute-panel/bindings', {
    data: { path, grant_id: grant, tier_id: 'h200' }
  });
  expect(bound.ok()).toBe(true);
  await page.notebook.openByPath(path);
  await question(page)
    .getByRole('button', { name: 'Start on H200 training' })
    .click();
  await compute.waitForKernel(H200);

  await page.evaluate(async id => {
    // The dashboard widget itself stays in the page.
    await (window as any).jupyterapp.commands.execute(
      'compute-panel:open-dashboard',
      { grantId: id }
    );
  }, grant);
  const dashboard = new DashboardHelper(page, grant);
  await dashboard.waitForData();
  await dashboard.view.getByRole('button', { name: 'Edit grant' }).click();
  const form = dashboard.view.getByRole('form', {
    name: 'Edit grant DASH 0001'
  });
  const budget = form.getByLabel('Budget (USD)');
  try {
    await budget.fill('1.00'); // the seeded runs spent more
    await form.getByRole('button', { name: 'Save' }).click();

    // Asked first, with the kernel it stops; kept: nothing changes.
    const ask = page.locator('.jp-Dialog').filter({
      has: page.locator('.jp-ComputePanel-editStops')
    });
    await expect(ask).toContainText('Stop a running kernel?');
    await expect(ask.getByRole('listitem')).toHaveText(
      `student: ${path} on H200 training (3.50 USD/h)`
    );
    await ask.getByRole('button', { name: 'Keep them running' }).click();
    await expect(form.getByRole('alert')).toHaveText(
      'Not saved: the grant and its kernels are as they were.'
    );
    await expect(dashboard.kpi('budget')).toHaveText('100.00 USD');
    expect(await serverKernels(page, path)).toEqual([H200]);

    // Saved anyway: the kernel stops, and the notification says so whole.
    await form.getByRole('button', { name: 'Save' }).click();
    await ask.getByRole('button', { name: 'Save and stop it' }).click();
    await expect(dashboard.kpi('budget')).toHaveText('1.00 USD');
    const toast = page
      .locator('.Toastify__toast')
      .filter({ hasText: 'was stopped: grant DASH 0001' });
    await expect(toast).toHaveText(
      /(The H200 training kernel of spending\.ipynb|Your H200 training kernel) was stopped: grant DASH 0001 has spent its budget\./,
      { timeout: 30000 }
    );
    await expect(toast).not.toContainText('…');
    await toast.getByRole('button', { name: 'Details' }).click();
    const details = page.locator('.jp-ComputePanel-notificationDetails');
    await expect(details).toContainText(
      'You are its PI: raise its budget on its dashboard'
    );
    await expect(details).not.toContainText(/ask its PI/i);
    await page
      .locator('.jp-Dialog')
      .filter({ has: details })
      .getByRole('button', { name: 'Close' })
      .click();
    await expect.poll(() => serverKernels(page, path)).toEqual([]);
  } finally {
    // Leave the grant as the other tests expect it (no kernel runs now).
    await budget.fill('100.00');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(dashboard.kpi('budget')).toHaveText('100.00 USD');
  }
});
