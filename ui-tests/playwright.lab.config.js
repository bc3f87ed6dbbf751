/**
 * Playwright configuration of the lab tests: galata in Debian's Chromium, logged into a
 * real JupyterHub as alice and bob, their servers in lab mode beside the compute gateway
 * (lab_server.py; needs root and PostgreSQL, as tests/lab/).
 */
const base = require('./playwright.config');

const port = process.env.UI_LAB_PORT || '8899';
const info = `${__dirname}/.lab-data/lab.json`;

module.exports = {
  ...base,
  testMatch: 'lab-tests/**/*.spec.ts',
  testIgnore: [],
  globalSetup: require.resolve('./lab-tests/login'),
  use: { ...base.use, baseURL: `http://127.0.0.1:${port}` },
  webServer: {
    command: 'python lab_server.py',
    url: `http://127.0.0.1:${port}/hub/login`,
    timeout: 180 * 1000,
    reuseExistingServer: false,
    // SIGTERM lets lab_server.py stop the users' servers, the hub, its proxy and the gateway.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 60 * 1000 },
    env: { ...process.env, UI_LAB_PORT: port, COMPUTE_PANEL_LAB_INFO: info }
  }
};
