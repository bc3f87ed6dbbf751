/**
 * The run history's details pane: one run's facts, its actions, and the
 * environment captured when it started.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import {
  explainEndReason,
  formatDuration,
  formatInstant
} from '../components/format';
import { environmentLines } from './environment';
import { RunHistoryModel } from './model';
import { exactMoney, formatMoney, formatRate } from '../money';

/**
 * The details pane: times, rate and cost, the end in words, the grant, the
 * kernelspec, and the environment.
 */
export function RunDetails(props: {
  run: ComputePanelAPI.IRun | null;
  model: RunHistoryModel;
  trans: TranslationBundle;
  grantLabel: (grantId: string | null) => string;
  renderRunActions?: (run: ComputePanelAPI.IRun) => React.ReactNode;
}): JSX.Element {
  const { run, model, trans } = props;
  if (!run) {
    return (
      <aside
        className="jp-ComputePanel-historyDetails"
        aria-label={trans.__('Run details')}
      >
        <p className="jp-ComputePanel-empty">
          {trans.__('Choose a run to see its details and environment.')}
        </p>
      </aside>
    );
  }
  const rows: [string, string, string][] = [
    ['started', trans.__('Started'), formatInstant(run.started) + ' UTC'],
    [
      'ended',
      trans.__('Ended'),
      run.ended ? formatInstant(run.ended) + ' UTC' : trans.__('still running')
    ],
    [
      'duration',
      trans.__('Duration'),
      formatDuration(run.duration_s) +
        (run.status === 'open' ? trans.__(' so far') : '')
    ],
    ['rate', trans.__('Rate'), formatRate(run.rate.amount, run.rate.currency)],
    [
      'cost',
      trans.__('Cost'),
      run.status === 'open'
        ? trans.__(
            '%1 so far (exactly %2)',
            formatMoney(run.cost.amount, run.cost.currency),
            exactMoney(run.cost.amount, run.cost.currency)
          )
        : trans.__(
            '%1 (exactly %2)',
            formatMoney(run.cost.amount, run.cost.currency),
            exactMoney(run.cost.amount, run.cost.currency)
          )
    ],
    ['end', trans.__('End'), explainEndReason(run, trans)],
    ['grant', trans.__('Grant'), props.grantLabel(run.grant_id)],
    ['user', trans.__('User'), run.user],
    ['kernelspec', trans.__('Kernelspec'), run.kernelspec],
    ['run', trans.__('Run id'), run.id]
  ];
  return (
    <aside
      className="jp-ComputePanel-historyDetails"
      aria-label={trans.__('Run details')}
      data-run={run.id}
    >
      <h2 className="jp-ComputePanel-historyTitle">
        {run.notebook ?? trans.__('(no notebook)')}
      </h2>
      <p className="jp-ComputePanel-grantMeta">
        {run.tier_label ?? run.tier_id}
        {run.status === 'open' ? ` · ${trans.__('running')}` : ''}
      </p>
      {props.renderRunActions ? (
        <div className="jp-ComputePanel-historyActions">
          {props.renderRunActions(run)}
        </div>
      ) : null}
      <dl className="jp-ComputePanel-historyFacts">
        {rows.map(([key, label, value]) => (
          <div key={key} data-fact={key}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h3>{trans.__('Environment')}</h3>
      <EnvironmentDetails model={model} trans={trans} />
    </aside>
  );
}

function EnvironmentDetails(props: {
  model: RunHistoryModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const state = model.environment;
  if (!state || state.status === 'loading') {
    return (
      <p className="jp-ComputePanel-empty">
        {trans.__('Loading the environment…')}
      </p>
    );
  }
  if (state.status === 'missing') {
    return (
      <p className="jp-ComputePanel-historyEnvMissing" data-env-state="missing">
        {trans.__('Not captured: %1', state.message)}
      </p>
    );
  }
  if (state.status === 'error') {
    return (
      <p
        className="jp-ComputePanel-banner jp-ComputePanel-banner-error"
        role="alert"
      >
        {trans.__('The environment cannot be shown: %1', state.message)}
      </p>
    );
  }
  const environment = state.environment;
  const lines = environmentLines(environment, trans);
  const status =
    environment.status === 'complete'
      ? trans.__(
          'Complete, captured %1 UTC',
          formatInstant(environment.captured_at)
        )
      : environment.status === 'partial'
        ? trans.__(
            'Partial (some parts could not be gathered), captured %1 UTC',
            formatInstant(environment.captured_at)
          )
        : trans.__('Capture failed: %1', environment.error ?? '');
  return (
    <div data-env-state={environment.status}>
      <p className="jp-ComputePanel-grantMeta">{status}</p>
      <dl className="jp-ComputePanel-historyFacts">
        {lines.map(line => (
          <div key={line.key} data-env={line.key}>
            <dt>{line.label}</dt>
            <dd>{line.value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
