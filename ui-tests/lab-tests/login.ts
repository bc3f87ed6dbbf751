/**
 * Before the lab tests: log alice and bob into the hub through its login form, in
 * Chromium, which spawns their servers; keep each one's cookies for the tests.
 */
import { chromium, type FullConfig } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const LAB_DATA = path.join(__dirname, '..', '.lab-data');

export interface ILabInfo {
  hub: string;
  password: string;
  tokens: Record<string, string>;
  grant: string;
  /**
   * The compute gateway's URL, and a Hub token of the grant's PI for it.
   */
  gateway: string;
  pi_token: string;
}

export function labInfo(): ILabInfo {
  return JSON.parse(fs.readFileSync(path.join(LAB_DATA, 'lab.json'), 'utf-8'));
}

export function storageStateOf(user: string): string {
  return path.join(LAB_DATA, `${user}.storage.json`);
}

export default async function login(config: FullConfig): Promise<void> {
  const info = labInfo();
  const launchOptions = config.projects[0].use.launchOptions;
  const browser = await chromium.launch(launchOptions);
  try {
    for (const user of Object.keys(info.tokens)) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${info.hub}/hub/login`);
      await page.locator('#username_input').fill(user);
      await page.locator('#password_input').fill(info.password);
      await page.locator('#login_submit').click();
      // The hub spawns the user's server (as that Unix user), then sends the browser to it.
      await page.waitForURL(new RegExp(`/user/${user}/lab`), {
        timeout: 120_000
      });
      await context.storageState({ path: storageStateOf(user) });
      await context.close();
    }
  } finally {
    await browser.close();
  }
}
