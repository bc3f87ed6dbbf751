/**
 * Playwright configuration: galata's defaults, Debian's Chromium, a fresh ledger.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

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
    command:
      `rm -rf ${data} && mkdir -p ${data} && ` +
      `jupyter compute-panel --db-url sqlite:///${data}/ledger.sqlite grants import ../demo/grants.json && ` +
      `jupyter compute-panel --db-url sqlite:///${data}/ledger.sqlite grants add-member nsf-cns-2401234 student && ` +
      `jupyter compute-panel --db-url sqlite:///${data}/ledger.sqlite grants add --id tiny-grant --award-number "SEED 0001" ` +
      '--title "An almost spent seed grant" --funder "Internal" --pi student --budget 0.10 --currency USD ' +
      '--start-date 2026-01-01 --end-date 2030-12-31 && ' +
      'jupyter lab --config jupyter_server_test_config.py',
    url: `http://localhost:${port}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: false,
    env: { ...process.env, COMPUTE_PANEL_UI_DATA: data, UI_TESTS_PORT: port }
  }
};
