import { expect, test } from '@jupyterlab/galata';
import {
  amount,
  ComputePanelHelper,
  DashboardHelper,
  micros,
  shown
} from './helpers';
import { docScreenshots } from './screenshots';

/**
 * seed_dashboard.py (run by the webServer command) gives `dash-grant` real
 * ledger runs of two users: student (the server's owner, the grant's PI) and
 * ravi (a member). Nothing here is mocked: the figures come from the ledger
 * through the server's dashboard endpoint.
 */
const GRANT = 'dash-grant';

test.use({ autoGoto: true });

test.describe('Grant dashboard', () => {
  test('a PI opens the dashboard from the panel and sees the spend of two users', async ({
    page
  }) => {
    // What the ledger says each user spent, summed exactly from its runs.
    const response = await page.request.get(
      `/compute-panel/runs?grant=${GRANT}&limit=1000`
    );
    expect(response.ok()).toBe(true);
    const runs = (await response.json()).runs as {
      user: string;
      cost: { amount: string };
    }[];
    const spent = new Map<string, bigint>();
    for (const run of runs) {
      spent.set(
        run.user,
        (spent.get(run.user) ?? BigInt(0)) + micros(run.cost.amount)
      );
    }
    expect([...spent.keys()].sort()).toEqual(['ravi', 'student']);
    const student = amount(spent.get('student')!);
    const ravi = amount(spent.get('ravi')!);
    const total = amount(spent.get('student')! + spent.get('ravi')!);

    const compute = new ComputePanelHelper(page);
    await compute.open();
    await compute.panel
      .getByRole('button', { name: 'Dashboard of DASH 0001' })
      .click();
    const dashboard = new DashboardHelper(page, GRANT);
    await dashboard.waitForData();
    await expect(
      page.getByRole('tab', { name: /Dashboard: DASH 0001/ })
    ).toBeVisible();

    await expect(dashboard.kpi('spent')).toHaveText(`${shown(total)} USD`);
    await expect(dashboard.kpi('spent')).toHaveAttribute(
      'title',
      `${total} USD`
    );
    await expect(dashboard.kpi('budget')).toHaveText('100.00 USD');

    // The chart: one bar per user, the amount in its tooltip and its label.
    const bars = dashboard.section('user').locator('.jp-ComputePanel-hbar');
    await expect(bars).toHaveCount(2);
    await expect(bars.locator('title')).toHaveText([
      `student: ${student} USD`,
      `ravi: ${ravi} USD`
    ]);
    await expect(
      dashboard.section('user').locator('svg[role="img"]')
    ).toHaveAttribute('aria-label', /Spend by user/);

    // The table: both users with their exact amounts; the total is their sum.
    const table = await dashboard.showTable('user');
    await expect(table.locator('caption')).toHaveText('Spend by user (USD)');
    await expect(table.locator('tbody tr th')).toHaveText(['student', 'ravi']);
    await expect(table.locator('tbody tr td:nth-child(2)')).toHaveText([
      student,
      ravi
    ]);
    await expect(table.locator('.jp-ComputePanel-total')).toHaveText(total);

    // The runs table lists the four runs, and its total agrees.
    await expect(
      dashboard.view.locator('.jp-ComputePanel-runsCount')
    ).toHaveText(`4 runs · total ${shown(total)} USD`);
    await expect(
      dashboard.view.locator('.jp-ComputePanel-vtBody [role="row"]')
    ).toHaveCount(4);

    // Filtering the runs by user asks the server again.
    await dashboard.view
      .getByRole('search')
      .getByLabel('User')
      .selectOption('ravi');
    await expect(
      dashboard.view.locator('.jp-ComputePanel-runsCount')
    ).toHaveText(`2 runs · total ${shown(ravi)} USD`);
    await docScreenshots(page, 'dashboard');
  });

  test('opens from the command palette, once per grant', async ({ page }) => {
    await page.keyboard.press('Control+Shift+C');
    const palette = page.locator('#modal-command-palette');
    await palette.locator('input').fill('Open Grant Dashboard');
    await palette
      .locator('.lm-CommandPalette-item', { hasText: 'Open Grant Dashboard' })
      .first()
      .click();
    const dialog = page.locator('.jp-Dialog');
    await dialog.locator('select').selectOption({
      label: 'DASH 0001 — Two students on one grant (dash-grant)'
    });
    await dialog.getByRole('button', { name: 'Open' }).click();
    const dashboard = new DashboardHelper(page, GRANT);
    await dashboard.waitForData();
    await expect(dashboard.view.locator('h1')).toHaveText(
      'DASH 0001 — Two students on one grant'
    );

    // Asking again brings the same tab forward.
    await page.evaluate(
      id =>
        (window as any).jupyterapp.commands.execute(
          'compute-panel:open-dashboard',
          { grantId: id }
        ),
      GRANT
    );
    expect(await dashboard.openCount()).toBe(1);

    // The layout restorer brings it back after a reload.
    await page.reload({ waitForIsReady: false });
    await dashboard.waitForData();
    expect(await dashboard.openCount()).toBe(1);
  });

  test('the PI edits the budget; a refused end date is explained next to its field', async ({
    page
  }) => {
    await page.evaluate(
      id =>
        (window as any).jupyterapp.commands.execute(
          'compute-panel:open-dashboard',
          { grantId: id }
        ),
      GRANT
    );
    const dashboard = new DashboardHelper(page, GRANT);
    await dashboard.waitForData();
    const spent = micros(
      ((await dashboard.kpi('spent').getAttribute('title')) ?? '').replace(
        ' USD',
        ''
      )
    );
    await dashboard.view.getByRole('button', { name: 'Edit grant' }).click();
    const form = dashboard.view.getByRole('form', {
      name: 'Edit grant DASH 0001'
    });
    await form.getByLabel('Budget (USD)').fill('150.00');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(dashboard.kpi('budget')).toHaveText('150.00 USD');
    await expect(form.getByRole('status')).toHaveText('Saved.');
    await expect(dashboard.kpi('remaining')).toHaveAttribute(
      'title',
      `${amount(micros('150.00') - spent)} USD`
    );

    // The server refuses an end date before the start: its sentence, inline.
    await form.getByLabel('End date').fill('2020-01-01');
    await form.getByRole('button', { name: 'Save' }).click();
    const endDate = form.getByLabel('End date');
    await expect(endDate).toHaveAttribute('aria-invalid', 'true');
    await expect(form.locator('.jp-ComputePanel-fieldError')).toHaveText(
      'The end date must not be before the start date'
    );
    await expect(dashboard.kpi('budget')).toHaveText('150.00 USD');

    // Leave the grant as the other tests expect it.
    await form.getByLabel('End date').fill('2030-12-31');
    await form.getByLabel('Budget (USD)').fill('100.00');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(dashboard.kpi('budget')).toHaveText('100.00 USD');
  });
});
