import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import { expect, type Locator } from '@playwright/test';

/**
 * A page object for the compute panel: few, stable selectors.
 */
export class ComputePanelHelper {
  constructor(readonly page: IJupyterLabPageFixture) {}

  get panel(): Locator {
    return this.page.locator('#jp-compute-panel');
  }

  get status(): Locator {
    return this.page.locator('.jp-ComputePanel-status');
  }

  card(tierId: string): Locator {
    return this.panel.locator(`.jp-ComputePanel-card[data-tier="${tierId}"]`);
  }

  async open(tiers = 3): Promise<void> {
    if (!(await this.panel.isVisible())) {
      await this.page
        .getByRole('tab', { name: 'Compute', exact: true })
        .click();
    }
    await expect(this.panel.locator('.jp-ComputePanel-card')).toHaveCount(
      tiers
    );
  }

  /**
   * Move the active notebook to a tier through the panel and its dialog.
   */
  async moveTo(
    tierId: string,
    options: { grant?: string; rerun?: boolean } = {}
  ): Promise<Locator> {
    await this.card(tierId).getByRole('button', { name: 'Move here' }).click();
    const dialog = this.page.locator('.jp-Dialog');
    await expect(dialog.locator('.jp-ComputePanel-moveDialog')).toBeVisible();
    if (options.grant) {
      await dialog.locator('select').selectOption(options.grant);
    }
    if (options.rerun) {
      await dialog.getByLabel('Re-run all cells on the new tier').check();
    }
    return dialog;
  }

  async confirm(dialog: Locator): Promise<void> {
    await dialog.getByRole('button', { name: 'Move' }).click();
    await expect(dialog).toHaveCount(0);
  }

  /**
   * The cost shown in the status bar, in micro-units (exact, no floats).
   */
  async statusCostMicros(): Promise<number> {
    const text = (await this.status.textContent()) ?? '';
    const match = /·\s*(\d+)\.(\d+)\s+[A-Z]{3}/.exec(text);
    if (!match) {
      throw new Error(`no cost in the status bar: ${text}`);
    }
    const fraction = (match[2] + '000000').slice(0, 6);
    return Number(match[1]) * 1_000_000 + Number(fraction);
  }

  /**
   * Wait until the active notebook's kernel is `name` and idle; after
   * `timeout` ms, fail with where the notebook's kernel is instead.
   */
  async waitForKernel(name: string, timeout = 60000): Promise<void> {
    try {
      await this.page.waitForFunction(
        kernel => {
          const app = (window as any).jupyterapp;
          const widget = app.shell.currentWidget;
          const ctx = widget?.sessionContext;
          return (
            ctx?.session?.kernel?.name === kernel &&
            ctx?.session?.kernel?.status === 'idle'
          );
        },
        name,
        { timeout }
      );
    } catch (error) {
      const state = await this.page.evaluate(() => {
        const app = (window as any).jupyterapp;
        const kernel = app.shell.currentWidget?.sessionContext?.session?.kernel;
        return kernel
          ? `${kernel.name} (${kernel.id}), status ${kernel.status}, connection ${kernel.connectionStatus}`
          : 'no kernel';
      });
      throw new Error(
        `The notebook's kernel is not ${name} and idle after ${timeout} ms: it is ${state}.`
      );
    }
  }
}

/**
 * A page object for a grant's dashboard.
 */
export class DashboardHelper {
  constructor(
    readonly page: IJupyterLabPageFixture,
    readonly grantId: string
  ) {}

  get widget(): Locator {
    return this.page.locator(`#jp-compute-panel-dashboard-${this.grantId}`);
  }

  get view(): Locator {
    return this.widget.locator(
      `.jp-ComputePanel-dashboard[data-grant="${this.grantId}"]`
    );
  }

  section(name: string): Locator {
    return this.view.locator(`[data-section="${name}"]`);
  }

  kpi(name: string): Locator {
    return this.view.locator(`[data-kpi="${name}"] .jp-ComputePanel-kpiValue`);
  }

  async waitForData(): Promise<void> {
    await expect(this.view).toBeVisible({ timeout: 20000 });
    await expect(this.view.locator('.jp-ComputePanel-runsCount')).toHaveText(
      /\d+ runs?/
    );
  }

  async showTable(section: string): Promise<Locator> {
    await this.section(section).getByRole('button', { name: 'Table' }).click();
    return this.section(section).locator('table');
  }

  /**
   * How many dashboards of this grant are open (tabs in the main area).
   */
  async openCount(): Promise<number> {
    return this.page.evaluate(id => {
      const app = (window as any).jupyterapp;
      return Array.from(app.shell.widgets('main')).filter(
        (w: any) => w.id === id
      ).length;
    }, `jp-compute-panel-dashboard-${this.grantId}`);
  }
}

/**
 * Micro-units of a decimal string, exactly (no floats).
 */
export function micros(amount: string): bigint {
  const [whole, fraction = ''] = amount.split('.');
  const sign = whole.startsWith('-') ? -BigInt(1) : BigInt(1);
  return (
    sign *
    (BigInt(whole.replace('-', '')) * BigInt(1000000) +
      BigInt((fraction + '000000').slice(0, 6)))
  );
}

/**
 * Micro-units as the server writes them: every digit, at least two decimals.
 */
export function amount(value: bigint): string {
  const negative = value < BigInt(0);
  const abs = negative ? -value : value;
  let fraction = (abs % BigInt(1000000)).toString().padStart(6, '0');
  fraction = fraction.replace(/0+$/, '').padEnd(2, '0');
  return `${negative ? '-' : ''}${abs / BigInt(1000000)}.${fraction}`;
}

/**
 * A decimal string as the views show it: two decimals, rounding half away
 * from zero; below a cent, two significant digits ("0.00014").
 */
export function shown(exact: string): string {
  const value = micros(exact);
  const negative = value < BigInt(0);
  const abs = negative ? -value : value;
  let decimals = 2;
  if (abs > BigInt(0) && abs < BigInt(10000)) {
    decimals = Math.min(6, Math.max(3, 8 - abs.toString().length));
  }
  let step = BigInt(10 ** (6 - decimals));
  let rounded = (abs + step / BigInt(2)) / step;
  if (decimals > 2 && rounded * step >= BigInt(10000)) {
    decimals = 2;
    step = BigInt(10000);
    rounded = (abs + step / BigInt(2)) / step;
  }
  const scale = BigInt(10 ** decimals);
  const fraction = (rounded % scale).toString().padStart(decimals, '0');
  const sign = negative && rounded > BigInt(0) ? '-' : '';
  return `${sign}${rounded / scale}.${fraction}`;
}
