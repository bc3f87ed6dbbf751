import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';
import { UseSignal } from '@jupyterlab/ui-components';

import { NotebookRunsModel } from '../panel/notebookRuns';
import {
  explainEndReason,
  formatDuration,
  formatInstant,
  shortEndReason
} from './format';
import { exactMoney, formatMoney } from '../money';

/**
 * The panel's "Runs of this notebook": its latest runs, newest first (tier,
 * start, duration, cost, end), and a link to the run history filtered to it.
 */
export function NotebookRuns(props: {
  runs: NotebookRunsModel;
  trans: TranslationBundle;
  onOpenHistory?: (filters: { notebook: string; user?: string }) => void;
}): JSX.Element {
  return (
    <UseSignal signal={props.runs.changed}>
      {() => <NotebookRunsBody {...props} />}
    </UseSignal>
  );
}

function NotebookRunsBody(props: {
  runs: NotebookRunsModel;
  trans: TranslationBundle;
  onOpenHistory?: (filters: { notebook: string; user?: string }) => void;
}): JSX.Element | null {
  const { runs: model, trans } = props;
  const path = model.path;
  if (!path) {
    return null;
  }
  const runs = model.runs;
  let note: string | null = null;
  if (model.status === 'error') {
    note = trans.__('The runs cannot be listed: %1', model.error ?? '');
  } else if (model.count === null) {
    note = model.status === 'loading' ? trans.__('Loading runs…') : null;
  } else if (model.count === 0) {
    note = trans.__(
      'No runs yet: a run starts when the notebook gets a kernel on a tier.'
    );
  }
  return (
    <section
      className="jp-ComputePanel-notebookRuns"
      aria-labelledby="jp-ComputePanel-notebookRuns-heading"
      data-notebook={path}
    >
      <h3 id="jp-ComputePanel-notebookRuns-heading">
        {trans.__('Runs of this notebook')}
      </h3>
      {note ? (
        <p
          className={
            model.status === 'error'
              ? 'jp-ComputePanel-banner jp-ComputePanel-banner-error'
              : 'jp-ComputePanel-empty'
          }
        >
          {note}
        </p>
      ) : null}
      {runs.length ? (
        <ul>
          {runs.map(run => (
            <li
              key={run.id}
              className="jp-ComputePanel-notebookRun"
              data-run={run.id}
              data-status={run.status}
            >
              <span className="jp-ComputePanel-notebookRunTier">
                {run.tier_label ?? run.tier_id}
              </span>
              <span
                className="jp-ComputePanel-notebookRunCost"
                title={exactMoney(run.cost.amount, run.cost.currency)}
              >
                {run.status === 'open'
                  ? trans.__(
                      '%1 so far',
                      formatMoney(run.cost.amount, run.cost.currency)
                    )
                  : formatMoney(run.cost.amount, run.cost.currency)}
              </span>
              <span className="jp-ComputePanel-notebookRunMeta">
                {trans.__(
                  '%1 · %2',
                  formatInstant(run.started),
                  formatDuration(run.duration_s)
                )}
              </span>
              <span
                className="jp-ComputePanel-notebookRunEnd"
                title={explainEndReason(run, trans)}
              >
                {shortEndReason(run, trans)}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      {model.count !== null && model.count > runs.length ? (
        <p className="jp-ComputePanel-empty">
          {trans._n(
            'Latest %2 of %1 run.',
            'Latest %2 of %1 runs.',
            model.count,
            runs.length
          )}
        </p>
      ) : null}
      {props.onOpenHistory ? (
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-ComputePanel-small jp-ComputePanel-openHistory"
          onClick={() =>
            props.onOpenHistory!({
              notebook: path,
              ...(model.user ? { user: model.user } : {})
            })
          }
        >
          {trans.__('Run history')}
        </button>
      ) : null}
    </section>
  );
}
