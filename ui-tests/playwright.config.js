/**
 * Playwright configuration: galata's defaults, Debian's Chromium, a fresh ledger.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');
const serverCommand = require('./webserver');

const data = `${__dirname}/.ui-tests-data`;
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Another port lets two checkouts run their browser tests side by side.
const port = process.env.UI_TESTS_PORT || '8888';

module.exports = {
  ...baseConfig,
  testMatch: 'tests/**/*.spec.ts',
  testIgnore: 'tests/**/*.bench.ts',
  retries: process.env.CI ? 1 : 0,
  workers: 1,
  use: {
    ...baseConfig.use,
    baseURL: `http://localhost:${port}`,
    video: 'off',
    trace: process.env.CI ? 'off' : 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: serverCommand(data),
    url: `http://localhost:${port}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: false,
    env: { ...process.env, COMPUTE_PANEL_UI_DATA: data, UI_TESTS_PORT: port }
  }
};
