/**
 * The dashboard's summary: budget, spent, committed, remaining, the burn
 * rates and when the budget runs out, each as the server sent it.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { exactMoney, formatMoney } from '../money';

function Card(props: {
  label: string;
  value: string;
  /** The exact amount, shown on hover. */
  exact?: string;
  note?: string;
  tone?: 'warning' | 'error';
  name: string;
}): JSX.Element {
  return (
    <div
      className={`jp-ComputePanel-kpi${props.tone ? ` jp-mod-${props.tone}` : ''}`}
      data-kpi={props.name}
    >
      <dt>{props.label}</dt>
      <dd>
        <span className="jp-ComputePanel-kpiValue" title={props.exact}>
          {props.value}
        </span>
        {props.note ? (
          <span className="jp-ComputePanel-kpiNote">{props.note}</span>
        ) : null}
      </dd>
    </div>
  );
}

export function SummaryCards(props: {
  summary: ComputePanelAPI.IDashboardSummary;
  trans: TranslationBundle;
}): JSX.Element {
  const { summary: s, trans } = props;
  const money = (amount: string) => formatMoney(amount, s.currency);
  const exact = (amount: string) => exactMoney(amount, s.currency);
  const overspent = s.remaining.startsWith('-');
  let forecast: string;
  let note: string;
  if (s.forecast_exhaustion === null) {
    forecast = trans.__('Not in sight');
    note = trans.__('no spend in the last 30 days');
  } else if (s.exhausts_before_end) {
    forecast = s.forecast_exhaustion;
    note = trans.__('before the end date, %1', s.end_date);
  } else {
    // A date past the grant's end says nothing a PI can act on.
    forecast = trans.__('Not before the end date');
    note = trans.__('the grant ends on %1', s.end_date);
  }
  return (
    <dl
      className="jp-ComputePanel-kpis"
      aria-label={trans.__('Budget summary')}
    >
      <Card
        name="budget"
        label={trans.__('Budget')}
        value={money(s.budget)}
        exact={exact(s.budget)}
      />
      <Card
        name="spent"
        label={trans.__('Spent')}
        value={money(s.spent)}
        exact={exact(s.spent)}
      />
      <Card
        name="committed"
        label={trans.__('Committed')}
        value={money(s.committed)}
        exact={exact(s.committed)}
        note={trans._n(
          'by %1 running kernel',
          'by %1 running kernels',
          s.open_runs
        )}
      />
      <Card
        name="remaining"
        label={trans.__('Remaining')}
        value={money(s.remaining)}
        exact={exact(s.remaining)}
        tone={overspent ? 'error' : undefined}
      />
      <Card
        name="burn7"
        label={trans.__('Burn, last 7 days')}
        value={trans.__('%1 / day', money(s.burn_7d_per_day))}
        exact={trans.__('%1 / day', exact(s.burn_7d_per_day))}
        note={trans.__('%1 in 7 days', money(s.spent_7d))}
      />
      <Card
        name="burn30"
        label={trans.__('Burn, last 30 days')}
        value={trans.__('%1 / day', money(s.burn_30d_per_day))}
        exact={trans.__('%1 / day', exact(s.burn_30d_per_day))}
        note={trans.__('%1 in 30 days', money(s.spent_30d))}
      />
      <Card
        name="forecast"
        label={trans.__('Runs out (30-day rate)')}
        value={forecast}
        note={note}
        tone={s.exhausts_before_end ? 'warning' : undefined}
      />
    </dl>
  );
}
