/**
 * The run history: filters, a search box, the virtualized table of every
 * run the user may see (server-sorted and paged), a selection of several
 * runs, and the details of one run with its environment.
 *
 * Extension points for other plugins (re-run, compare): `renderRunActions`
 * in the details pane and `renderSelectionActions` above the table; the
 * widget fills them with commands registered through `IRunHistory`.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';
import { UseSignal } from '@jupyterlab/ui-components';

import { ComputePanelAPI } from '../api';
import {
  explainEndReason,
  formatDuration,
  formatInstant
} from '../components/format';
import {
  ChoiceFilter,
  fieldBinder,
  runsCountText,
  SearchFilter,
  StatusAndDatesFilters
} from '../table/RunFilters';
import { runColumnSet } from '../table/runColumns';
import { IColumn, ISort, VirtualTable } from '../table/VirtualTable';
import { environmentLines } from './environment';
import { IHistoryQuery, RunHistoryModel } from './model';

export interface IOption {
  id: string;
  label: string;
}

export namespace HistoryView {
  export interface IProps {
    model: RunHistoryModel;
    trans: TranslationBundle;
    tiers: ReadonlyArray<IOption>;
    grants: ReadonlyArray<IOption>;
    /**
     * Milliseconds of quiet typing before a search is sent.
     */
    debounce?: number;
    /**
     * EXTENSION POINT: actions on one run, shown in its details pane (e.g.
     * "Re-run on…"). Rendered again whenever the shown run changes.
     */
    renderRunActions?: (run: ComputePanelAPI.IRun) => React.ReactNode;
    /**
     * EXTENSION POINT: actions on the selected runs, shown above the table
     * (e.g. "Compare selected"); the runs in the order they were selected.
     */
    renderSelectionActions?: (
      runs: ReadonlyArray<ComputePanelAPI.IRun>
    ) => React.ReactNode;
  }
}

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
      width: '2.2em',
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
      width: 'minmax(6em, 1fr)',
      render: run => grantLabel(run.grant_id),
      text: run => run.grant_id ?? ''
    },
    c.user('minmax(5em, 0.8fr)'),
    c.duration,
    c.endReason,
    c.cost
  ];
}

export function HistoryView(props: HistoryView.IProps): JSX.Element {
  return (
    <UseSignal signal={props.model.changed}>
      {() => <HistoryBody {...props} />}
    </UseSignal>
  );
}

const HEADER_HEIGHT = 30;

function HistoryBody(props: HistoryView.IProps): JSX.Element {
  const { model, trans } = props;
  const pager = model.runs;
  const query = model.query;
  const [search, setSearch] = React.useState(query.q);
  const [notebook, setNotebook] = React.useState(query.notebook);
  const [, setVersion] = React.useState(0);
  const [height, setHeight] = React.useState(400);
  const tableRef = React.useRef<HTMLDivElement>(null);
  const debounce = props.debounce ?? 300;

  const grantLabels = React.useMemo(
    () => new Map(props.grants.map(g => [g.id, g.label])),
    [props.grants]
  );
  const grantLabel = (grantId: string | null) =>
    grantId === null ? trans.__('none') : (grantLabels.get(grantId) ?? grantId);
  const columns = historyColumns(model, trans, grantLabel);

  // The view shows the count; the table follows the pages itself. A page
  // arriving while scrolling re-renders the table only.
  React.useEffect(() => {
    let seen = `${pager.count}|${pager.status}`;
    const onChanged = () => {
      const now = `${pager.count}|${pager.status}`;
      if (now !== seen) {
        seen = now;
        setVersion(v => v + 1);
      }
    };
    pager.changed.connect(onChanged);
    return () => {
      pager.changed.disconnect(onChanged);
    };
  }, [pager]);

  // A preset applied from outside (the panel's "Run history") shows in the boxes.
  React.useEffect(() => setSearch(query.q), [query.q]);
  React.useEffect(() => setNotebook(query.notebook), [query.notebook]);

  // The table fills the height it is given.
  React.useEffect(() => {
    const node = tableRef.current;
    if (!node || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      if (node.clientHeight > HEADER_HEIGHT + 60) {
        setHeight(node.clientHeight - HEADER_HEIGHT);
      }
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  // Measure the paint of freshly arrived rows (see RunHistoryModel.painted):
  // once they are committed, the next frame's callbacks run before its
  // paint, the task after them runs after it. Renders in between delay that
  // frame and so count; they do not start the measure again.
  const measuring = React.useRef<number | null>(null);
  React.useLayoutEffect(() => {
    const arrived = model.dataArrivedAt;
    if (
      arrived === null ||
      pager.count === null ||
      measuring.current === arrived
    ) {
      return;
    }
    measuring.current = arrived;
    requestAnimationFrame(() => {
      setTimeout(() => {
        if (model.dataArrivedAt === arrived && !model.isDisposed) {
          model.painted();
        }
      }, 0);
    });
  });

  const apply = (next: IHistoryQuery) => {
    void model.setQuery(next);
  };

  // The text boxes wait for a pause in typing.
  React.useEffect(() => {
    if (search === query.q && notebook === query.notebook) {
      return;
    }
    const timer = setTimeout(
      // The query of now: another filter may have changed meanwhile.
      () => apply({ ...model.query, q: search, notebook: notebook.trim() }),
      debounce
    );
    return () => clearTimeout(timer);
  }, [search, notebook]);

  const onSort = (sort: ISort) => apply({ ...query, sort });
  const field = fieldBinder(query, apply);
  const filtered =
    !!(
      query.notebook ||
      query.tier ||
      query.grant ||
      query.user ||
      query.status ||
      query.since ||
      query.until
    ) || !!query.q.trim();

  // A filter preset that names something not in the lists still shows.
  const tiers = withCurrent(props.tiers, query.tier);
  const grants = withCurrent(props.grants, query.grant);
  const selectedRuns = model.selectedRuns;
  const active = model.active;

  return (
    <div
      className="jp-ComputePanel-history"
      data-notebook={query.notebook || undefined}
    >
      <div
        className="jp-ComputePanel-filters"
        role="search"
        aria-label={trans.__('Filter the runs')}
      >
        <SearchFilter
          trans={trans}
          value={search}
          placeholder={trans.__('notebook, tier, user, run id…')}
          onChange={setSearch}
          onSubmit={() => apply({ ...query, q: search })}
        />
        <label>
          {trans.__('Notebook')}
          <input
            type="text"
            className="jp-mod-styled jp-ComputePanel-historyNotebook"
            placeholder={trans.__('path, e.g. work/train.ipynb')}
            value={notebook}
            onChange={event => setNotebook(event.target.value)}
          />
        </label>
        <ChoiceFilter
          label={trans.__('Tier')}
          anyLabel={trans.__('All tiers')}
          choices={tiers}
          field={field('tier')}
        />
        <ChoiceFilter
          label={trans.__('Grant')}
          anyLabel={trans.__('All grants')}
          choices={grants}
          field={field('grant')}
        />
        <StatusAndDatesFilters trans={trans} field={field} />
        {filtered ? (
          <button
            type="button"
            className="jp-mod-styled jp-mod-reject jp-ComputePanel-historyClear"
            onClick={() => void model.applyPreset({})}
          >
            {trans.__('Clear filters')}
          </button>
        ) : null}
      </div>
      <div className="jp-ComputePanel-historyBar">
        <p className="jp-ComputePanel-runsCount" aria-live="polite">
          {runsCountText(
            trans,
            pager.count,
            query.user ? trans.__(' of %1', query.user) : ''
          )}
        </p>
        <div
          className="jp-ComputePanel-historySelection"
          aria-live="polite"
          data-selected={selectedRuns.length}
        >
          {selectedRuns.length ? (
            <>
              <span>
                {trans._n(
                  '%1 run selected',
                  '%1 runs selected',
                  selectedRuns.length
                )}
              </span>
              <button
                type="button"
                className="jp-mod-styled jp-ComputePanel-linkButton"
                onClick={() => model.clearSelection()}
              >
                {trans.__('Clear selection')}
              </button>
            </>
          ) : (
            <span className="jp-ComputePanel-hint">
              {trans.__('Tick runs (or Ctrl-click, Space) to select several.')}
            </span>
          )}
          {props.renderSelectionActions ? (
            <span className="jp-ComputePanel-historyActions">
              {props.renderSelectionActions(selectedRuns)}
            </span>
          ) : null}
        </div>
      </div>
      <div className="jp-ComputePanel-historyMain">
        <div className="jp-ComputePanel-historyTable" ref={tableRef}>
          <VirtualTable
            pager={pager}
            columns={columns}
            sort={query.sort}
            onSort={onSort}
            label={trans.__('Run history')}
            trans={trans}
            height={height}
            // Four rows beyond each edge are enough for a wheel; a fling
            // renders every frame's rows anyway.
            overscan={4}
            rowKey={run => run.id}
            emptyText={
              filtered
                ? trans.__('No runs match these filters.')
                : trans.__(
                    'No runs yet: runs appear here when a kernel starts on a compute tier.'
                  )
            }
            idPrefix="jp-ComputePanel-history-grid"
            onActiveChange={(_, run) => {
              if (run) {
                model.show(run);
              }
            }}
            isSelected={run => model.isSelected(run.id)}
            onToggleSelected={run => model.toggle(run)}
          />
        </div>
        <RunDetails
          run={active}
          model={model}
          trans={trans}
          grantLabel={grantLabel}
          renderRunActions={props.renderRunActions}
        />
      </div>
    </div>
  );
}

function withCurrent(
  options: ReadonlyArray<IOption>,
  current: string
): ReadonlyArray<IOption> {
  return current && !options.some(o => o.id === current)
    ? [...options, { id: current, label: current }]
    : options;
}

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
    [
      'rate',
      trans.__('Rate'),
      trans.__('%1 %2/h', run.rate.amount, run.rate.currency)
    ],
    [
      'cost',
      trans.__('Cost'),
      `${run.cost.amount} ${run.cost.currency}` +
        (run.status === 'open' ? trans.__(' so far') : '')
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
