/**
 * Re-run fixtures: the grants to charge, a re-run as the server sends it,
 * a choice in the re-run dialog.
 */
import { ComputePanelAPI } from '../api';
import { IRerunChoice } from '../rerun/format';
import { makeGrant } from './fixtures';

export const GRANTS = [makeGrant('nsf-1'), makeGrant('old', { active: false })];

export function makeRerun(
  overrides: Partial<ComputePanelAPI.IRerun> = {}
): ComputePanelAPI.IRerun {
  return {
    id: 'rr-1',
    user: 'student',
    source: 'examples/robust.ipynb',
    output: null,
    tier_id: 'h200',
    grant_id: 'nsf-1',
    kernelspec: 'compute-panel-h200-python3',
    run_id: 'run-h200',
    source_run_id: null,
    status: 'running',
    cells_total: 6,
    cells_done: 0,
    current_cell: null,
    kernel_id: 'k-rr',
    error: null,
    time_limit_s: 3600,
    created: '2026-11-23T14:05:00.000Z',
    ended: null,
    ...overrides
  };
}

export const choice = (
  overrides: Partial<IRerunChoice> = {}
): IRerunChoice => ({
  tierId: 'h200',
  grantId: 'nsf-1',
  timeLimit: '',
  save: true,
  ...overrides
});
