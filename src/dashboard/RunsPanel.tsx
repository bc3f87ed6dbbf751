/**
 * The grant's runs: filters, a search box (debounced) and the virtualized,
 * server-paged, sortable table.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { formatDuration, formatInstant } from '../components/format';
import {
  ChoiceFilter,
  fieldBinder,
  runsCountText,
  SearchFilter,
  StatusAndDatesFilters
} from '../table/RunFilters';
import { runColumnSet } from '../table/runColumns';
import { IColumn, ISort, VirtualTable } from '../table/VirtualTable';
import { DashboardModel, IRunsQuery } from './model';
import { formatMoney } from '../money';

// Shared with the compute panel and the run history; re-exported for callers
// of the dashboard's module.
export { formatDuration, formatInstant };

export function runColumns(
  trans: TranslationBundle
): IColumn<ComputePanelAPI.IRun>[] {
  const c = runColumnSet(trans);
  return [
    c.started,
    c.user('minmax(6em, 1fr)'),
    c.tier,
    c.notebook,
    c.duration,
    c.endReason,
    c.cost
  ];
}

export namespace RunsPanel {
  export interface IProps {
    model: DashboardModel;
    trans: TranslationBundle;
    /**
     * Users to offer in the user filter (the grant's spenders and members).
     */
    users: ReadonlyArray<string>;
    tiers: ReadonlyArray<{ id: string; label: string }>;
    onRendered?: () => void;
    /**
     * Milliseconds of quiet typing before a search is sent.
     */
    debounce?: number;
  }
}

export function RunsPanel(props: RunsPanel.IProps): JSX.Element {
  const { model, trans } = props;
  const pager = model.runs;
  const [query, setQuery] = React.useState<IRunsQuery>(pager.query);
  const [search, setSearch] = React.useState(pager.query.q);
  const [, setVersion] = React.useState(0);
  const columns = React.useMemo(() => runColumns(trans), [trans]);
  const debounce = props.debounce ?? 300;

  React.useEffect(() => {
    const onChanged = () => setVersion(v => v + 1);
    pager.changed.connect(onChanged);
    return () => {
      pager.changed.disconnect(onChanged);
    };
  }, [pager]);

  const apply = (next: IRunsQuery) => {
    setQuery(next);
    void model.setRunsQuery(next);
  };

  // The search box waits for a pause in typing.
  React.useEffect(() => {
    if (search === query.q) {
      return;
    }
    const timer = setTimeout(() => apply({ ...query, q: search }), debounce);
    return () => clearTimeout(timer);
  }, [search]);

  const onSort = (sort: ISort) => apply({ ...query, sort });
  const field = fieldBinder(query, apply);

  const last = pager.lastPage as { totals?: ComputePanelAPI.IMoney[] } | null;
  const totals = (last?.totals ?? [])
    .map(t => formatMoney(t.amount, t.currency))
    .join(', ');
  const id = `jp-ComputePanel-runs-${model.grantId}`;
  const users = React.useMemo(
    () => props.users.map(user => ({ id: user, label: user })),
    [props.users]
  );
  return (
    <div className="jp-ComputePanel-runs">
      <div
        className="jp-ComputePanel-filters"
        role="search"
        aria-label={trans.__('Filter the runs')}
      >
        <SearchFilter
          trans={trans}
          value={search}
          placeholder={trans.__('notebook, user, tier…')}
          onChange={setSearch}
          onSubmit={() => apply({ ...query, q: search })}
        />
        <ChoiceFilter
          label={trans.__('User')}
          anyLabel={trans.__('All users')}
          choices={users}
          field={field('user')}
        />
        <ChoiceFilter
          label={trans.__('Tier')}
          anyLabel={trans.__('All tiers')}
          choices={props.tiers}
          field={field('tier')}
        />
        <StatusAndDatesFilters trans={trans} field={field} />
      </div>
      <p className="jp-ComputePanel-runsCount" aria-live="polite" id={id}>
        {runsCountText(
          trans,
          pager.count,
          totals ? trans.__(' · total %1', totals) : ''
        )}
      </p>
      <VirtualTable
        pager={pager}
        columns={columns}
        sort={query.sort}
        onSort={onSort}
        label={trans.__('Runs of the grant')}
        trans={trans}
        rowKey={run => run.id}
        onRendered={props.onRendered}
        emptyText={trans.__('No runs match.')}
        idPrefix={`${id}-grid`}
      />
    </div>
  );
}
