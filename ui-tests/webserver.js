/**
 * The galata server's start command: a fresh ledger in `data`, the sample
 * grants and seeded runs, then JupyterLab. Shared by the test and benchmark
 * configurations; `seedArgs` adds to seed_dashboard.py (e.g. --bulk-runs).
 */
module.exports = function serverCommand(data, seedArgs = '') {
  const db = `--db-url sqlite:///${data}/ledger.sqlite`;
  return (
    `rm -rf ${data} && mkdir -p ${data} && ` +
    `jupyter compute-panel ${db} grants import ../demo/grants.json && ` +
    `jupyter compute-panel ${db} grants add-member nsf-cns-2401234 student && ` +
    `jupyter compute-panel ${db} grants add --id tiny-grant --award-number "SEED 0001" ` +
    '--title "An almost spent seed grant" --funder "Internal" --pi student --budget 0.10 --currency USD ' +
    '--start-date 2026-01-01 --end-date 2030-12-31 && ' +
    `python seed_dashboard.py ${db} ${seedArgs} && ` +
    'jupyter lab --config jupyter_server_test_config.py'
  );
};
