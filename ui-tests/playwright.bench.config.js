/**
 * Benchmarks in the real browser (run by `make bench`): not part of `make test`.
 */
const config = require('./playwright.config');
const serverCommand = require('./webserver');

// The paint benchmark's grant: 100,000 runs (about 15 s to seed).
const BENCH_RUNS = process.env.COMPUTE_PANEL_BENCH_RUNS || '100000';
// The run history benchmark's grant: 10,000 runs of the galata owner.
const HISTORY_RUNS = process.env.COMPUTE_PANEL_HISTORY_RUNS || '10000';

module.exports = {
  ...config,
  testMatch: 'tests/**/*.bench.ts',
  testIgnore: [],
  retries: 0,
  timeout: 10 * 60 * 1000,
  webServer: {
    ...config.webServer,
    command: serverCommand(
      `${__dirname}/.ui-tests-data`,
      `--bulk-runs ${BENCH_RUNS} --history-runs ${HISTORY_RUNS}`
    ),
    timeout: 240 * 1000
  }
};
