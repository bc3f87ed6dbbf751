/**
 * A grant's dashboard: summary cards, charts with their tables, the runs
 * table, exports, and the grant's editing for its PI or an admin.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';
import { UseSignal } from '@jupyterlab/ui-components';

import { BreakdownChart, BurnDownChart, MonthChart } from './Charts';
import { ComputePanelAPI } from '../api';
import {
  confirmStops,
  GrantEditForm,
  MembersEditor,
  selfChange
} from './grants';
import { DashboardModel } from './model';
import { RunsPanel } from './RunsPanel';
import { ExportButtons, ExportHandler, Section } from './Section';
import { SummaryCards } from './SummaryCards';
import { BreakdownTable, BurnDownTable, MonthTable } from './Tables';

export namespace DashboardView {
  export interface IProps {
    model: DashboardModel;
    trans: TranslationBundle;
    onExport: ExportHandler;
    /**
     * Confirm the removal of a member (a dialog); true to go on.
     */
    confirmRemove: (user: string, self: boolean) => Promise<boolean>;
    /**
     * Confirm that the user gives up their own PI role on the grant (a
     * dialog); true to go on. Without it, that change is not asked about.
     */
    confirmDemoteSelf?: (role: ComputePanelAPI.Role) => Promise<boolean>;
    /**
     * The user, as the server bills them (its owner), when known.
     */
    me?: string | null;
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
            onSave={patch =>
              model.saveGrant(patch, stops => confirmStops(stops, trans))
            }
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
              onSet={async (user, role) => {
                const member = grant.members?.find(m => m.user === user);
                if (
                  member &&
                  props.confirmDemoteSelf &&
                  selfChange(member, props.me, role) === 'demote' &&
                  !(await props.confirmDemoteSelf(role))
                ) {
                  return; // the choice goes back to the role kept
                }
                await model.setMember(user, role);
              }}
              onRemove={async user => {
                const self = !!props.me && user === props.me;
                if (!(await props.confirmRemove(user, self))) {
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
