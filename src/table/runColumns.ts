/**
 * The run columns that the grant dashboard's runs table and the run history
 * both show, so that a run reads the same in both: compose a table from them.
 * Dates, tiers, durations, end reasons and costs are sized to their content
 * (never cut); the notebook and the user share the rest of the width.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import {
  explainEndReason,
  formatDuration,
  formatInstant,
  shortEndReason
} from '../components/format';
import { IColumn } from './VirtualTable';
import { exactMoney, formatMoney } from '../money';

type RunColumn = IColumn<ComputePanelAPI.IRun>;

export function runColumnSet(trans: TranslationBundle): {
  started: RunColumn;
  user: (width: string) => RunColumn;
  tier: RunColumn;
  notebook: RunColumn;
  duration: RunColumn;
  endReason: RunColumn;
  cost: RunColumn;
} {
  return {
    started: {
      id: 'started',
      label: trans.__('Started (UTC)'),
      width: 'max-content',
      fit: true,
      sortKey: 'started',
      render: run => formatInstant(run.started)
    },
    user: width => ({
      id: 'user',
      label: trans.__('User'),
      width,
      sortKey: 'user',
      render: run => run.user,
      text: run => run.user
    }),
    tier: {
      id: 'tier',
      label: trans.__('Tier'),
      width: 'max-content',
      fit: true,
      sortKey: 'tier',
      render: run => run.tier_label ?? run.tier_id,
      text: run => run.tier_label ?? run.tier_id
    },
    notebook: {
      id: 'notebook',
      label: trans.__('Notebook'),
      width: 'minmax(8em, 2fr)',
      sortKey: 'notebook',
      render: run => run.notebook ?? trans.__('(no notebook)'),
      text: run => run.notebook ?? ''
    },
    duration: {
      id: 'duration',
      label: trans.__('Duration'),
      width: 'max-content',
      fit: true,
      sortKey: 'duration',
      numeric: true,
      render: run => formatDuration(run.duration_s)
    },
    endReason: {
      id: 'end_reason',
      label: trans.__('End'),
      width: 'max-content',
      fit: true,
      sortKey: 'end_reason',
      render: run => shortEndReason(run, trans),
      text: run => explainEndReason(run, trans)
    },
    cost: {
      id: 'cost',
      label: trans.__('Cost'),
      width: 'max-content',
      fit: true,
      sortKey: 'cost',
      numeric: true,
      render: run => formatMoney(run.cost.amount, run.cost.currency),
      text: run => exactMoney(run.cost.amount, run.cost.currency)
    }
  };
}
