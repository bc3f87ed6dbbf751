/**
 * A grant's dashboard: summary cards, charts with their tables, the runs
 * table, exports, and the grant's editing for its PI or an admin.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';
import { UseSignal } from '@jupyterlab/ui-components';

import { ComputePanelAPI } from '../api';
import { BreakdownChart, BurnDownChart, MonthChart } from './Charts';
import { GrantEditForm, MembersEditor } from './grants';
import { DashboardModel } from './model';
import { RunsPanel } from './RunsPanel';
import { BreakdownTable, BurnDownTable, MonthTable } from './Tables';

export namespace DashboardView {
  export interface IProps {
    model: DashboardModel;
    trans: TranslationBundle;
    onExport: (
      table: ComputePanelAPI.ExportTable,
      format: ComputePanelAPI.ExportFormat
    ) => Promise<void>;
    /**
     * Confirm the removal of a member (a dialog); true to go on.
     */
    confirmRemove: (user: string) => Promise<boolean>;
  }
}

export function DashboardView(props: DashboardView.IProps): JSX.Element {
  const { model } = props;
  return (
    <UseSignal signal={model.changed}>
      {() => <DashboardBody {...props} />}
    </UseSignal>
  );
}

function Card(props: {
  label: string;
  value: string;
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
        <span className="jp-ComputePanel-kpiValue">{props.value}</span>
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
  const money = (amount: string) => `${amount} ${s.currency}`;
  const overspent = s.remaining.startsWith('-');
  let forecast: string;
  let note: string;
  if (s.forecast_exhaustion === null) {
    forecast = trans.__('Not in sight');
    note = trans.__('no spend in the last 30 days');
  } else {
    forecast = s.forecast_exhaustion;
    note = s.exhausts_before_end
      ? trans.__('before the end date, %1', s.end_date)
      : trans.__('after the end date, %1', s.end_date);
  }
  return (
    <dl
      className="jp-ComputePanel-kpis"
      aria-label={trans.__('Budget summary')}
    >
      <Card name="budget" label={trans.__('Budget')} value={money(s.budget)} />
      <Card name="spent" label={trans.__('Spent')} value={money(s.spent)} />
      <Card
        name="committed"
        label={trans.__('Committed')}
        value={money(s.committed)}
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
        tone={overspent ? 'error' : undefined}
      />
      <Card
        name="burn7"
        label={trans.__('Burn, last 7 days')}
        value={trans.__('%1 / day', money(s.burn_7d_per_day))}
        note={trans.__('%1 in 7 days', money(s.spent_7d))}
      />
      <Card
        name="burn30"
        label={trans.__('Burn, last 30 days')}
        value={trans.__('%1 / day', money(s.burn_30d_per_day))}
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

function ExportButtons(props: {
  table: ComputePanelAPI.ExportTable;
  what: string;
  trans: TranslationBundle;
  onExport: DashboardView.IProps['onExport'];
}): JSX.Element {
  const { trans } = props;
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const go = async (format: ComputePanelAPI.ExportFormat) => {
    setBusy(true);
    setError(null);
    try {
      await props.onExport(props.table, format);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="jp-ComputePanel-export">
      {(['csv', 'json'] as const).map(format => (
        <button
          key={format}
          type="button"
          className="jp-Button jp-mod-styled jp-ComputePanel-small"
          disabled={busy}
          data-export={`${props.table}.${format}`}
          aria-label={trans.__(
            'Export %1 as %2',
            props.what,
            format.toUpperCase()
          )}
          onClick={() => void go(format)}
        >
          {format.toUpperCase()}
        </button>
      ))}
      {error ? (
        <span className="jp-ComputePanel-fieldError" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

/**
 * A dashboard section: a heading, a chart/table switch, exports.
 */
function Section(props: {
  id: string;
  /**
   * A stable name (data-section), for tests and styles.
   */
  name: string;
  title: string;
  trans: TranslationBundle;
  chart?: () => React.ReactNode;
  table: () => React.ReactNode;
  exportTable?: ComputePanelAPI.ExportTable;
  onExport: DashboardView.IProps['onExport'];
  wide?: boolean;
}): JSX.Element {
  const { trans } = props;
  const [view, setView] = React.useState<'chart' | 'table'>(
    props.chart ? 'chart' : 'table'
  );
  const headingId = `${props.id}-heading`;
  return (
    <section
      className={`jp-ComputePanel-section${props.wide ? ' jp-mod-wide' : ''}`}
      aria-labelledby={headingId}
      data-section={props.name}
    >
      <header className="jp-ComputePanel-sectionHeader">
        <h2 id={headingId}>{props.title}</h2>
        {props.chart ? (
          <span
            className="jp-ComputePanel-switch"
            role="group"
            aria-label={trans.__('Show %1 as', props.title)}
          >
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-ComputePanel-small"
              aria-pressed={view === 'chart'}
              onClick={() => setView('chart')}
            >
              {trans.__('Chart')}
            </button>
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-ComputePanel-small"
              aria-pressed={view === 'table'}
              onClick={() => setView('table')}
            >
              {trans.__('Table')}
            </button>
          </span>
        ) : null}
        {props.exportTable ? (
          <ExportButtons
            table={props.exportTable}
            what={props.title}
            trans={trans}
            onExport={props.onExport}
          />
        ) : null}
      </header>
      {view === 'chart' && props.chart ? props.chart() : props.table()}
    </section>
  );
}

function DashboardBody(props: DashboardView.IProps): JSX.Element {
  const { model, trans } = props;
  const data = model.data;
  const [editing, setEditing] = React.useState(false);

  // Measure the paint of freshly arrived data (see DashboardModel.painted).
  React.useLayoutEffect(() => {
    if (!data || model.dataArrivedAt === null) {
      return;
    }
    let cancelled = false;
    const frame = requestAnimationFrame(() => {
      // The frame's callbacks run before its paint: the next task runs after.
      setTimeout(() => {
        if (!cancelled) {
          model.painted();
        }
      }, 0);
    });
    return () => {
      cancelled = true;
      cancelAnimationFrame(frame);
    };
  }, [data]);

  if (!data) {
    return (
      <div className="jp-ComputePanel-dashboard">
        {model.status === 'error' ? (
          <div
            className="jp-ComputePanel-banner jp-ComputePanel-banner-error"
            role="alert"
          >
            {trans.__('The dashboard cannot be shown: %1', model.error ?? '')}
          </div>
        ) : (
          <p className="jp-ComputePanel-empty">
            {trans.__('Loading the dashboard…')}
          </p>
        )}
      </div>
    );
  }

  const { grant, summary } = data;
  const currency = summary.currency;
  const tiers = data.tiers;
  const users = Array.from(
    new Set([
      ...data.by_user.map(r => r.key ?? ''),
      ...(grant.members ?? []).map(m => m.user)
    ])
  )
    .filter(Boolean)
    .sort();
  const roleText =
    grant.role === 'pi'
      ? trans.__('you are its PI')
      : grant.role === 'viewer'
        ? trans.__('you may view it')
        : grant.role === 'member'
          ? trans.__('you are a member')
          : trans.__('you see it as an admin');

  return (
    <div className="jp-ComputePanel-dashboard" data-grant={grant.id}>
      <header className="jp-ComputePanel-dashboardHeader">
        <div>
          <h1>
            {grant.award_number}
            {grant.title ? ` — ${grant.title}` : ''}
          </h1>
          <p className="jp-ComputePanel-grantMeta">
            {trans.__(
              '%1 · PI %2 · %3 to %4 · %5',
              grant.funder,
              grant.pi,
              grant.start_date,
              grant.end_date,
              roleText
            )}
          </p>
        </div>
        <div className="jp-ComputePanel-headerButtons">
          {data.may_edit ? (
            <button
              type="button"
              className="jp-Button jp-mod-styled"
              aria-expanded={editing}
              onClick={() => setEditing(!editing)}
            >
              {editing ? trans.__('Close editing') : trans.__('Edit grant')}
            </button>
          ) : null}
          <button
            type="button"
            className="jp-Button jp-mod-styled"
            onClick={() => void model.refresh()}
          >
            {trans.__('Refresh')}
          </button>
        </div>
      </header>
      {model.error ? (
        <div
          className="jp-ComputePanel-banner jp-ComputePanel-banner-error"
          role="alert"
        >
          {model.error}
        </div>
      ) : null}
      <SummaryCards summary={summary} trans={trans} />
      {editing && data.may_edit ? (
        <section
          className="jp-ComputePanel-section jp-mod-wide jp-ComputePanel-editing"
          aria-label={trans.__('Edit grant')}
        >
          <h2>{trans.__('Edit grant')}</h2>
          <GrantEditForm
            key={grant.id}
            grant={grant}
            tiers={model.catalogTiers}
            trans={trans}
            onSave={patch => model.saveGrant(patch)}
            onClose={() => setEditing(false)}
          />
        </section>
      ) : null}
      <div className="jp-ComputePanel-sections">
        <Section
          id={`jp-ComputePanel-month-${grant.id}`}
          name="month"
          title={trans.__('Spend by month')}
          trans={trans}
          wide
          exportTable="month"
          onExport={props.onExport}
          chart={() => (
            <MonthChart
              months={data.by_month}
              tiers={tiers}
              currency={currency}
              trans={trans}
            />
          )}
          table={() => (
            <MonthTable
              months={data.by_month}
              tiers={tiers}
              currency={currency}
              trans={trans}
            />
          )}
        />
        <Section
          id={`jp-ComputePanel-burn-${grant.id}`}
          name="burn"
          title={trans.__('Burn-down')}
          trans={trans}
          wide
          onExport={props.onExport}
          chart={() => (
            <BurnDownChart
              points={data.burn_down}
              summary={summary}
              trans={trans}
            />
          )}
          table={() => (
            <BurnDownTable
              points={data.burn_down}
              currency={currency}
              trans={trans}
            />
          )}
        />
        {(
          [
            ['tier', data.by_tier, trans.__('Spend by tier'), trans.__('Tier')],
            ['user', data.by_user, trans.__('Spend by user'), trans.__('User')],
            [
              'notebook',
              data.by_notebook,
              trans.__('Spend by notebook'),
              trans.__('Notebook')
            ]
          ] as const
        ).map(([key, rows, title, keyLabel]) => (
          <Section
            key={key}
            id={`jp-ComputePanel-${key}-${grant.id}`}
            name={key}
            title={title}
            trans={trans}
            exportTable={key}
            onExport={props.onExport}
            chart={() => (
              <BreakdownChart
                rows={rows}
                currency={currency}
                label={trans.__('%1, horizontal bars, in %2', title, currency)}
                trans={trans}
              />
            )}
            table={() => (
              <BreakdownTable
                rows={rows}
                caption={trans.__('%1 (%2)', title, currency)}
                keyLabel={keyLabel}
                currency={currency}
                trans={trans}
              />
            )}
          />
        ))}
        <Section
          id={`jp-ComputePanel-members-${grant.id}`}
          name="members"
          title={trans.__('Members')}
          trans={trans}
          onExport={props.onExport}
          table={() => (
            <MembersEditor
              grant={grant}
              editable={data.may_edit}
              trans={trans}
              onSet={(user, role) => model.setMember(user, role)}
              onRemove={async user => {
                if (!(await props.confirmRemove(user))) {
                  return false;
                }
                await model.removeMember(user);
                return true;
              }}
            />
          )}
        />
      </div>
      <section
        className="jp-ComputePanel-section jp-mod-wide"
        aria-labelledby={`jp-ComputePanel-runs-${grant.id}-heading`}
        data-section="runs"
      >
        <header className="jp-ComputePanel-sectionHeader">
          <h2 id={`jp-ComputePanel-runs-${grant.id}-heading`}>
            {trans.__('Runs')}
          </h2>
          <ExportButtons
            table="runs"
            what={trans.__('the runs')}
            trans={trans}
            onExport={props.onExport}
          />
        </header>
        <RunsPanel model={model} trans={trans} users={users} tiers={tiers} />
      </section>
    </div>
  );
}
