/**
 * Benchmarks in the real browser (run by `make bench`): not part of `make test`.
 */
const config = require('./playwright.config');

module.exports = {
  ...config,
  testMatch: 'tests/**/*.bench.ts',
  testIgnore: [],
  retries: 0,
  timeout: 10 * 60 * 1000
};
