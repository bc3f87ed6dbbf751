/**
 * The columns of the run history's table: a selection box, then the shared
 * run columns with the grant.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { formatInstant } from '../components/format';
import { runColumnSet } from '../table/runColumns';
import { IColumn } from '../table/VirtualTable';
import { RunHistoryModel } from './model';

/**
 * The table's columns; the first is the selection checkbox.
 */
export function historyColumns(
  model: RunHistoryModel,
  trans: TranslationBundle,
  grantLabel: (grantId: string | null) => string
): IColumn<ComputePanelAPI.IRun>[] {
  const c = runColumnSet(trans);
  return [
    {
      id: 'select',
      label: trans.__('Select'),
      width: 'max-content',
      fit: true,
      render: run => (
        <input
          type="checkbox"
          className="jp-ComputePanel-historySelect"
          checked={model.isSelected(run.id)}
          aria-label={trans.__(
            'Select the run of %1',
            formatInstant(run.started)
          )}
          // The row's click shows the details; the box only selects.
          onClick={event => event.stopPropagation()}
          onChange={() => model.toggle(run)}
        />
      )
    },
    c.started,
    c.notebook,
    c.tier,
    {
      id: 'grant',
      label: trans.__('Grant'),
      width: 'max-content',
      fit: true,
      render: run => grantLabel(run.grant_id),
      text: run => run.grant_id ?? ''
    },
    c.user('minmax(5em, 0.8fr)'),
    c.duration,
    c.endReason,
    c.cost
  ];
}
