import AxeBuilder from '@axe-core/playwright';
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { ComputePanelHelper, DashboardHelper } from './helpers';

/**
 * Accessibility: the keyboard alone moves a notebook (a grant to pick in the
 * dialog), and axe finds no serious or critical violation in our views, in
 * the light and the dark theme. axe runs over our widgets' nodes only;
 * JupyterLab's own chrome is not audited here.
 *
 * axe's color-contrast rule comes out inapplicable everywhere in JupyterLab
 * (axe's isModalOpen heuristic answers true for the full-page shell, and then
 * takes no text for visible on screen; it passed white on light orange,
 * 1.27:1). So the audit measures contrast itself (`lowContrast`): every
 * visible text of our nodes against the background it is painted on.
 */
const GRANT = 'nsf-cns-2401234';

test.use({ autoGoto: true });

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

/**
 * What has focus, in words a failure can show.
 */
async function focused(page: IJupyterLabPageFixture): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) {
      return 'the page';
    }
    const label =
      el.getAttribute('aria-label') ??
      (el.id
        ? document.querySelector(`label[for="${el.id}"]`)?.textContent
        : null) ??
      el.textContent?.trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${label ?? ''}"`;
  });
}

/**
 * Whether `locator` (one element) has focus.
 */
async function hasFocus(locator: Locator): Promise<boolean> {
  return locator.evaluate(el => el === document.activeElement);
}

/**
 * Wait until focus is in the open dialog (it moves there once the dialog has
 * rendered), so that keys go to it.
 */
async function focusInDialog(page: IJupyterLabPageFixture): Promise<void> {
  await expect
    .poll(() =>
      page
        .locator('.jp-Dialog')
        .evaluate(node => node.contains(document.activeElement))
    )
    .toBe(true);
}

/**
 * Press Tab until `target` has focus; fail after `max` presses.
 */
async function tabTo(
  page: IJupyterLabPageFixture,
  target: Locator,
  max = 30
): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    if (await hasFocus(target)) {
      return i;
    }
  }
  throw new Error(
    `${max} presses of Tab never reached the target; focus is on ${await focused(page)}`
  );
}

/**
 * axe over `selectors` (our nodes): the serious and critical violations, in
 * a form a failure message can show.
 */
async function audit(
  page: IJupyterLabPageFixture,
  view: string,
  selectors: string[]
): Promise<string[]> {
  for (const selector of selectors) {
    await expect(page.locator(selector).first()).toBeVisible();
  }
  // JupyterLab's ToolbarButton (the toolbars of our main-area widgets) puts
  // aria-pressed="false" on its jp-button, an element with no role, which
  // axe calls critical (aria-allowed-attr): JupyterLab's markup, in every
  // toolbar of JupyterLab; the toolbars are left out of the audit.
  let builder = new AxeBuilder({ page }).exclude('.jp-Toolbar');
  for (const selector of selectors) {
    builder = builder.include(selector);
  }
  const results = await builder.analyze();
  const contrast = await lowContrast(page, view, selectors);
  return results.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .flatMap(v =>
      v.nodes.map(
        node =>
          `${view}: ${v.id} (${v.impact}) at ${node.target.join(' ')}: ${node.failureSummary?.replace(/\s+/g, ' ')}`
      )
    )
    .concat(contrast);
}

/**
 * Every visible text in `selectors` whose contrast with the background it is
 * painted on is below WCAG's AA: 4.5:1, 3:1 for large text (24 px, or 18.66 px
 * bold). Disabled controls are exempt, as WCAG has it. The background is the
 * nearest ancestors' colours composed; opacity fades the text towards it.
 */
async function lowContrast(
  page: IJupyterLabPageFixture,
  view: string,
  selectors: string[]
): Promise<string[]> {
  const found = await page.evaluate(roots => {
    type RGBA = [number, number, number, number];
    const parse = (css: string): RGBA => {
      const m = css.match(/rgba?\(([^)]+)\)/);
      if (!m) {
        return [0, 0, 0, 0];
      }
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top: RGBA, below: RGBA): RGBA => {
      const a = top[3] + below[3] * (1 - top[3]);
      if (a === 0) {
        return [0, 0, 0, 0];
      }
      const mix = (i: number) =>
        (top[i] * top[3] + below[i] * below[3] * (1 - top[3])) / a;
      return [mix(0), mix(1), mix(2), a];
    };
    const luminance = (c: RGBA) => {
      const [r, g, b] = [c[0], c[1], c[2]].map(v => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = (el: Element | null): RGBA => {
      const layers: RGBA[] = [];
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) {
          layers.push(c);
          if (c[3] >= 1) {
            break;
          }
        }
      }
      let result: RGBA = [255, 255, 255, 1];
      for (const layer of layers.reverse()) {
        result = over(layer, result);
      }
      return result;
    };
    const opacity = (el: Element | null): number => {
      let o = 1;
      for (let e = el; e; e = e.parentElement) {
        o *= Number(getComputedStyle(e).opacity);
      }
      return o;
    };
    const out: string[] = [];
    const seen = new Set<Element>();
    let measured = 0;
    for (const selector of roots) {
      for (const root of Array.from(document.querySelectorAll(selector))) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const el = n.parentElement;
          if (!el || seen.has(el) || !n.textContent?.trim()) {
            continue;
          }
          seen.add(el);
          if (
            el.closest('svg, .jp-Toolbar, [disabled], [aria-disabled="true"]')
          ) {
            continue; // charts have their own labels; JupyterLab's toolbars; inactive controls
          }
          const style = getComputedStyle(el);
          const rect = el.getBoundingClientRect();
          if (
            style.visibility === 'hidden' ||
            rect.width === 0 ||
            rect.height === 0
          ) {
            continue;
          }
          const bg = background(el);
          let fg = parse(style.color);
          fg = [fg[0], fg[1], fg[2], fg[3] * opacity(el)];
          const text = over(fg, bg);
          const [l1, l2] = [luminance(text), luminance(bg)].sort(
            (a, b) => b - a
          );
          const ratio = (l1 + 0.05) / (l2 + 0.05);
          measured++;
          const size = parseFloat(style.fontSize);
          const bold = Number(style.fontWeight) >= 700;
          const large = size >= 24 || (bold && size >= 18.66);
          if (ratio < (large ? 3 : 4.5)) {
            out.push(
              `"${n.textContent.trim().slice(0, 40)}" (${el.className || el.tagName}) ${ratio.toFixed(2)}:1`
            );
          }
        }
      }
    }
    return { out, measured };
  }, selectors);
  // A check that measured nothing (axe's fate here) must not pass.
  if (found.measured < 5) {
    return [`${view}: contrast measured on ${found.measured} texts only`];
  }
  return found.out.map(f => `${view}: contrast ${f}`);
}

test('the keyboard alone moves a notebook to a paid tier, picking its grant', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(120000);
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/keyboard.ipynb`;
  await page.contents.uploadContent(
    JSON.stringify(
      notebook("import os; print(os.environ['COMPUTE_PANEL_TIER'])")
    ),
    'text',
    path
  );
  await page.notebook.openByPath(path);
  await compute.waitForKernel('compute-panel-local-cpu-python3');

  // Open Compute Panel from the command palette: focus goes into the panel.
  await page.keyboard.press('Control+Shift+C');
  await page.keyboard.type('Open Compute Panel');
  await page.keyboard.press('Enter');
  await expect(compute.panel.locator('.jp-ComputePanel-card')).toHaveCount(3);
  await expect
    .poll(() => compute.panel.evaluate(p => p.contains(document.activeElement)))
    .toBe(true);

  // Tab to RTX 4090's "Move here"; Enter opens the dialog.
  const moveHere = compute
    .card('rtx4090')
    .getByRole('button', { name: 'Move here' });
  await tabTo(page, moveHere);
  await page.keyboard.press('Enter');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-ComputePanel-moveDialog')).toBeVisible();

  // No grant is preselected: focus starts on the grant picker.
  const grant = dialog.getByLabel('Charge to grant');
  await expect.poll(() => hasFocus(grant)).toBe(true);
  for (let i = 0; i < 10 && (await grant.inputValue()) !== GRANT; i++) {
    await page.keyboard.press('ArrowDown');
  }
  await expect(grant).toHaveValue(GRANT);

  // Tab order: the re-run checkbox, Cancel, Move, and round to the grant.
  const rerun = dialog.getByLabel('Re-run all cells on the new tier');
  // (The header's close button is named Cancel too.)
  const cancel = dialog
    .locator('.jp-Dialog-footer')
    .getByRole('button', { name: 'Cancel' });
  const move = dialog.getByRole('button', { name: 'Move', exact: true });
  await page.keyboard.press('Tab');
  expect(await hasFocus(rerun), await focused(page)).toBe(true);
  await page.keyboard.press('Space');
  await expect(rerun).toBeChecked();
  await page.keyboard.press('Tab');
  expect(await hasFocus(cancel), await focused(page)).toBe(true);
  await page.keyboard.press('Tab');
  expect(await hasFocus(move), await focused(page)).toBe(true);
  await page.keyboard.press('Tab');
  expect(await hasFocus(grant), await focused(page)).toBe(true);
  // Backwards from the first field: round to the last button.
  await page.keyboard.press('Shift+Tab');
  expect(await hasFocus(move), await focused(page)).toBe(true);

  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await compute.waitForKernel('compute-panel-rtx4090-python3');
  await expect(compute.card('rtx4090')).toHaveAttribute('aria-current', 'true');
  // The cells re-ran on the new tier, as ticked.
  await expect
    .poll(() => page.notebook.getCellTextOutput(0), { timeout: 30000 })
    .toEqual(['rtx4090\n']);
  // The opener is now disabled (the notebook runs there): its card has focus,
  // not the page.
  await expect
    .poll(() => hasFocus(compute.card('rtx4090')), {
      message: 'focus on the card'
    })
    .toBe(true);

  // Cancel gives focus back to what opened the dialog.
  const toH200 = compute
    .card('h200')
    .getByRole('button', { name: 'Move here' });
  await toH200.focus();
  await page.keyboard.press('Enter');
  await expect(dialog.locator('.jp-ComputePanel-moveDialog')).toBeVisible();
  await focusInDialog(page);
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect
    .poll(() => hasFocus(toH200), { message: await focused(page) })
    .toBe(true);

  // The re-run dialog: every field in Tab order, then back to its opener.
  const rerunButton = compute.panel.getByRole('button', { name: 'Re-run on…' });
  await rerunButton.focus();
  await page.keyboard.press('Enter');
  await expect(dialog.locator('.jp-ComputePanel-rerunDialog')).toBeVisible();
  const radios = dialog.locator('input[type="radio"]');
  await expect.poll(() => hasFocus(radios.first())).toBe(true);
  await page.keyboard.press('ArrowDown');
  await expect(radios.nth(1)).toBeChecked();
  await expect(dialog.getByLabel('Charge to grant')).toBeVisible();
  await page.keyboard.press('Tab');
  expect(
    await hasFocus(dialog.getByLabel('Charge to grant')),
    await focused(page)
  ).toBe(true);
  await page.keyboard.press('Tab');
  expect(
    await hasFocus(dialog.getByLabel('Time limit (minutes)')),
    await focused(page)
  ).toBe(true);
  // The cells ran: the notebook has unsaved outputs, and the dialog asks.
  const saveFirst = dialog.getByLabel(
    'Save the notebook first (it has unsaved changes)'
  );
  if (await saveFirst.count()) {
    await page.keyboard.press('Tab');
    expect(await hasFocus(saveFirst), await focused(page)).toBe(true);
  }
  await page.keyboard.press('Tab');
  expect(await hasFocus(cancel), await focused(page)).toBe(true);
  await page.keyboard.press('Tab');
  const start = dialog.getByRole('button', { name: 'Re-run', exact: true });
  expect(await hasFocus(start), await focused(page)).toBe(true);
  // Round to the first field: the tiers' radio group, at its checked radio
  // (a radio group is one Tab stop); and back.
  await page.keyboard.press('Tab');
  expect(await hasFocus(radios.nth(1)), await focused(page)).toBe(true);
  await page.keyboard.press('Shift+Tab');
  expect(await hasFocus(start), await focused(page)).toBe(true);
  await focusInDialog(page);
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect
    .poll(() => hasFocus(rerunButton), { message: await focused(page) })
    .toBe(true);
});

test('axe finds no serious or critical violation in our views, light and dark', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(240000);
  const compute = new ComputePanelHelper(page);

  // Two real runs of one notebook, to compare (identical outputs).
  const path = `${tmpPath}/audit.ipynb`;
  await page.contents.uploadContent(
    JSON.stringify(notebook('print(6 * 7)')),
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
        { timeout: 90000, intervals: [1000] }
      )
      .toBe('completed');
    runIds.push(rerun.run_id);
  }

  await page.notebook.openByPath(path);
  await compute.waitForKernel('compute-panel-local-cpu-python3');
  const notebookId = await page.evaluate(
    () => (window as any).jupyterapp.shell.currentWidget.id as string
  );
  await compute.open();
  await page.evaluate(
    filters =>
      (window as any).jupyterapp.commands
        .execute('compute-panel:open-run-history', filters)
        .then(() => null),
    { notebook: path }
  );
  const history = page.locator('#jp-compute-panel-run-history');
  const rows = history.locator('.jp-ComputePanel-vtBody [role="row"]');
  // The two re-runs, and the open notebook's own run.
  await expect(rows.nth(1)).toBeVisible();
  await rows.first().click();
  await expect(
    history.locator('.jp-ComputePanel-historyDetails')
  ).toBeVisible();

  await compute.panel
    .getByRole('button', { name: 'Dashboard of DASH 0001' })
    .click();
  const dashboard = new DashboardHelper(page, 'dash-grant');
  await dashboard.waitForData();

  await page.evaluate(
    ids =>
      (window as any).jupyterapp.commands
        .execute('compute-panel:compare-runs', { runIds: ids })
        .then(() => null),
    runIds
  );
  const compare = page.locator('.jp-ComputePanel-compare[data-verdict]');
  await expect(compare).toBeVisible({ timeout: 30000 });
  await expect(compare.locator('.jp-ComputePanel-verdict')).toHaveText(
    'identical'
  );
  const compareId = await page.evaluate(
    () =>
      (
        Array.from((window as any).jupyterapp.shell.widgets('main')).find(
          (w: any) => w.id.startsWith('jp-compute-panel-compare-')
        ) as any
      ).id as string
  );

  const activate = (id: string) =>
    page.evaluate(i => (window as any).jupyterapp.shell.activateById(i), id);

  const violations: string[] = [];
  for (const theme of ['light', 'dark'] as const) {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    } else {
      await page.theme.setLightTheme();
    }
    // The panel follows the notebook in the main area.
    await activate(notebookId);
    await compute.open();

    // The panel, with the notebook's runs and the grants.
    violations.push(
      ...(await audit(page, `${theme} panel`, ['#jp-compute-panel']))
    );

    // The move dialog (a paid, simulated tier: the badge, the grant, the warning).
    const dialog = page.locator('.jp-Dialog');
    await compute
      .card('h200')
      .getByRole('button', { name: 'Move here' })
      .click();
    await expect(dialog.locator('.jp-ComputePanel-moveDialog')).toBeVisible();
    violations.push(
      ...(await audit(page, `${theme} move dialog`, ['.jp-Dialog-content']))
    );
    await focusInDialog(page);
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);

    // The re-run dialog, on a paid tier (the grant picker shows).
    await compute.panel.getByRole('button', { name: 'Re-run on…' }).click();
    await expect(dialog.locator('.jp-ComputePanel-rerunDialog')).toBeVisible();
    await dialog.locator('[data-tier="h200"] input').check();
    violations.push(
      ...(await audit(page, `${theme} re-run dialog`, ['.jp-Dialog-content']))
    );
    await focusInDialog(page);
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);

    await activate('jp-compute-panel-dashboard-dash-grant');
    violations.push(
      ...(await audit(page, `${theme} dashboard`, [
        '#jp-compute-panel-dashboard-dash-grant'
      ]))
    );

    await activate('jp-compute-panel-run-history');
    violations.push(
      ...(await audit(page, `${theme} history`, [
        '#jp-compute-panel-run-history'
      ]))
    );

    await activate(compareId);
    violations.push(
      ...(await audit(page, `${theme} compare`, [`#${compareId}`]))
    );
  }
  expect(violations, violations.join('\n')).toEqual([]);
});
