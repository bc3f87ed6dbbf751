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
  ChoiceFilter,
  fieldBinder,
  runsCountText,
  SearchFilter,
  StatusAndDatesFilters
} from '../table/RunFilters';
import { ISort, VirtualTable } from '../table/VirtualTable';
import { historyColumns } from './columns';
import { IHistoryQuery, RunHistoryModel } from './model';
import { RunDetails } from './RunDetails';
import { SelectionBar } from './SelectionBar';

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
        <label className="jp-mod-wide">
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
        <SelectionBar
          model={model}
          trans={trans}
          renderSelectionActions={props.renderSelectionActions}
        />
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
