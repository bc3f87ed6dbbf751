import { expect, test } from '@jupyterlab/galata';
import type { Locator, Page } from '@playwright/test';
import { ComputePanelHelper, DashboardHelper } from './helpers';

/**
 * What users see of the layout: nothing they need to read is cut, cards
 * and filters line up, the panel looks like JupyterLab's other sidebars.
 * The ledger is seed_dashboard.py's (real runs, nothing mocked).
 */
const GRANT = 'dash-grant';
const SHOTS = process.env.LAYOUT_SHOTS;

test.use({ autoGoto: true });

/**
 * The cells (of `selector`, within `scope`) whose text is cut: their
 * content is wider than their box.
 */
async function cutCells(scope: Locator, selector: string): Promise<string[]> {
  return scope
    .locator(selector)
    .evaluateAll(cells =>
      cells
        .filter(cell => cell.scrollWidth > cell.clientWidth + 1)
        .map(
          cell =>
            `${cell.getAttribute('data-column')}: "${cell.textContent}" (${cell.scrollWidth} > ${cell.clientWidth})`
        )
    );
}

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) {
    await page.screenshot({ path: `${SHOTS}/${name}.png` });
  }
}

async function openHistory(page: Page): Promise<Locator> {
  await page.evaluate(() =>
    (window as any).jupyterapp.commands.execute(
      'compute-panel:open-run-history',
      {}
    )
  );
  const history = page.locator('#jp-compute-panel-run-history');
  await expect(history.locator('.jp-ComputePanel-runsCount')).toHaveText(
    /\d+ runs?/
  );
  await expect(history.locator('[role="gridcell"]').first()).toBeVisible();
  return history;
}

test.describe('Layout', () => {
  test("Run History's date and cost columns not truncated at 1280 px", async ({
    page
  }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    const history = await openHistory(page);
    // A run's details shown beside the table take no column's width.
    await history.locator('[role="row"][aria-rowindex="2"]').click();
    await expect(
      history.locator('.jp-ComputePanel-historyTitle')
    ).toBeVisible();
    await shot(page, 'history-1280');
    const grid = history.locator('[role="grid"]');
    for (const column of [
      'started',
      'tier',
      'duration',
      'end_reason',
      'cost'
    ]) {
      expect(
        await grid.locator(`[role="gridcell"][data-column="${column}"]`).count()
      ).toBeGreaterThan(0);
      expect(
        await cutCells(
          grid,
          `[data-column="${column}"]:is([role="gridcell"], [role="columnheader"])`
        )
      ).toEqual([]);
    }
    // The columns line up: a row's cells start where their headers do.
    const lefts = async (selector: string) =>
      grid
        .locator(selector)
        .evaluateAll(cells =>
          cells.map(cell => Math.round(cell.getBoundingClientRect().left))
        );
    expect(await lefts('[aria-rowindex="2"] [role="gridcell"]')).toEqual(
      await lefts('[role="columnheader"]')
    );

    // With the file browser closed, the details sit beside the table, and
    // still no column is cut.
    await page.evaluate(() =>
      (window as any).jupyterapp.commands.execute(
        'application:toggle-left-area'
      )
    );
    await expect(page.locator('#jp-left-stack')).toBeHidden();
    await expect
      .poll(async () => {
        const table = await history
          .locator('.jp-ComputePanel-historyTable')
          .boundingBox();
        const details = await history
          .locator('.jp-ComputePanel-historyDetails')
          .boundingBox();
        return !!table && !!details && details.x >= table.x + table.width;
      })
      .toBe(true);
    await shot(page, 'history-1280-wide');
    expect(
      await cutCells(grid, '[data-column]:not([data-column="notebook"])')
    ).toEqual([]);

    // The filter bar wraps in columns: every field is as wide as the others
    // in its row (or twice, the text boxes), none overflowing.
    const filters = history.locator('.jp-ComputePanel-filters');
    const boxes = await filters.locator(':scope > label').evaluateAll(labels =>
      labels.map(label => {
        const rect = label.getBoundingClientRect();
        const field = label.querySelector('input, select')!;
        return {
          width: rect.width,
          right: rect.right,
          fieldRight: field.getBoundingClientRect().right
        };
      })
    );
    const bar = (await filters.boundingBox())!;
    const narrow = Math.min(...boxes.map(b => b.width));
    for (const box of boxes) {
      expect(box.right).toBeLessThanOrEqual(bar.x + bar.width + 1);
      expect(box.fieldRight).toBeLessThanOrEqual(box.right + 1);
      const ratio = box.width / narrow;
      expect(Math.abs(ratio - Math.round(ratio))).toBeLessThan(0.1);
    }
  });

  test('the dashboard shows its seven figures in full rows, none cut', async ({
    page
  }) => {
    for (const width of [1440, 1024]) {
      await page.setViewportSize({ width, height: 900 });
      await page.evaluate(
        grantId =>
          (window as any).jupyterapp.commands.execute(
            'compute-panel:open-dashboard',
            { grantId }
          ),
        GRANT
      );
      const dashboard = new DashboardHelper(page, GRANT);
      await dashboard.waitForData();
      await shot(page, `dashboard-${width}`);
      const rows = await dashboard.view
        .locator('.jp-ComputePanel-kpi')
        .evaluateAll(cards => {
          const byRow = new Map<number, number>();
          for (const card of cards) {
            const rect = card.getBoundingClientRect();
            const top = Math.round(rect.top);
            byRow.set(top, (byRow.get(top) ?? 0) + rect.width);
          }
          return [...byRow.values()].map(Math.round);
        });
      // Every row as wide as the first: no card alone with an empty rest.
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(Math.abs(row - rows[0])).toBeLessThanOrEqual(8);
      }
      expect(
        await cutCells(
          dashboard.view,
          '.jp-ComputePanel-kpi :is(dt, dd > span)'
        )
      ).toEqual([]);
      // The runs table shows every column whole, scrolling sideways if it
      // must rather than cutting the last ones.
      const runs = dashboard.section('runs');
      const cost = runs
        .locator('[role="gridcell"][data-column="cost"]')
        .first();
      await cost.scrollIntoViewIfNeeded();
      await expect(cost).toBeInViewport({ ratio: 1 });
      expect(
        await cutCells(runs, '[data-column]:not([data-column="notebook"])')
      ).toEqual([]);

      // 'Runs out' is a date within the grant, or says it is not before its end.
      await expect(
        dashboard.view.locator(
          '[data-kpi="forecast"] .jp-ComputePanel-kpiValue'
        )
      ).toHaveText(
        /^(\d{4}-\d{2}-\d{2}|Not before the end date|Not in sight)$/
      );

      // The members' role choices are shown whole.
      const members = dashboard.section('members');
      await members.scrollIntoViewIfNeeded();
      await shot(page, `members-${width}`);
      const selects = members.locator('select');
      expect(await selects.count()).toBeGreaterThan(0);
      expect(
        await selects.evaluateAll(list =>
          list
            .filter(select => {
              const s = select as HTMLSelectElement;
              const style = getComputedStyle(s);
              const canvas = document.createElement('canvas');
              const context = canvas.getContext('2d')!;
              context.font = `${style.fontSize} ${style.fontFamily}`;
              const text = context.measureText(
                s.options[s.selectedIndex].text
              ).width;
              const room =
                s.clientWidth -
                parseFloat(style.paddingLeft) -
                parseFloat(style.paddingRight);
              return text > room + 1 || s.scrollHeight > s.clientHeight + 1;
            })
            .map(s => (s as HTMLSelectElement).value)
        )
      ).toEqual([]);
    }
  });

  test('the panel has a title bar, marks the current tier and cuts no tier name', async ({
    page,
    tmpPath
  }) => {
    const compute = new ComputePanelHelper(page);
    const path = `${tmpPath}/layout.ipynb`;
    await page.contents.uploadContent(
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {
          kernelspec: {
            name: 'compute-panel-local-cpu-python3',
            display_name: 'Local CPU',
            language: 'python'
          }
        },
        cells: []
      }),
      'text',
      path
    );
    await page.notebook.openByPath(path);
    await compute.waitForKernel('compute-panel-local-cpu-python3');
    await compute.open();
    await expect(compute.panel.locator('.jp-SidePanel-header h2')).toHaveText(
      'Compute'
    );
    // The current tier says so, with no pale disabled button.
    const current = compute.card('local-cpu');
    await expect(current).toHaveAttribute('aria-current', 'true');
    await expect(current.locator('.jp-ComputePanel-currentMark')).toContainText(
      'Current'
    );
    await expect(current.getByRole('button')).toHaveCount(0);
    await expect(
      compute.card('h200').getByRole('button', { name: 'Move here' })
    ).toBeEnabled();
    // Its run shows in "Runs of this notebook", the tier name whole.
    const run = compute.panel.locator('.jp-ComputePanel-notebookRun').first();
    await expect(run).toBeVisible({ timeout: 20000 });
    await shot(page, 'panel');
    expect(
      await cutCells(
        compute.panel,
        '.jp-ComputePanel-notebookRun > span, .jp-ComputePanel-cardLabel'
      )
    ).toEqual([]);
  });

  test("the settings offer the default grant as a choice of the user's grants", async ({
    page
  }) => {
    await page.evaluate(() =>
      (window as any).jupyterapp.commands.execute('settingeditor:open', {
        query: 'Compute panel'
      })
    );
    const field = page.locator('select.jp-ComputePanel-defaultGrant');
    await expect(field).toBeVisible({ timeout: 20000 });
    // student is a member of the NSF grant (webserver.js); none is the default.
    await expect(
      field.locator('option', { hasText: 'NSF CNS-2401234' })
    ).toHaveCount(1);
    await expect(field).toHaveValue('');
    await field.selectOption('nsf-cns-2401234');
    // Saved as the grant's id (through the page: galata keeps the settings).
    await expect
      .poll(() =>
        page.evaluate(
          async () =>
            (
              await (window as any).jupyterapp.serviceManager.settings.fetch(
                'jupyterlab-compute-panel:panel'
              )
            ).settings?.defaultGrant ?? null
        )
      )
      .toBe('nsf-cns-2401234');
    await shot(page, 'settings');
  });
});
