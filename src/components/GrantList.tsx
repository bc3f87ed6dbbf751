import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { exactMoney, formatMoney } from '../money';

/**
 * The panel's grant area: the user's active grants with their spend, and a
 * Dashboard button on those whose dashboard they may open.
 */
export function GrantList(props: {
  grants: ReadonlyArray<ComputePanelAPI.IGrant>;
  trans: TranslationBundle;
  onOpenDashboard: (grantId: string) => void;
}): JSX.Element | null {
  const { grants, trans } = props;
  if (!grants.length) {
    return null;
  }
  return (
    <section
      className="jp-ComputePanel-grants"
      aria-labelledby="jp-ComputePanel-grants-heading"
    >
      <h3 id="jp-ComputePanel-grants-heading">{trans.__('Grants')}</h3>
      <ul>
        {grants.map(grant => (
          <li
            key={grant.id}
            className="jp-ComputePanel-grant"
            data-grant={grant.id}
          >
            <span className="jp-ComputePanel-grantName" title={grant.title}>
              {grant.award_number}
            </span>
            <span
              className="jp-ComputePanel-grantSpend"
              title={trans.__(
                '%1 of %2',
                exactMoney(grant.spent, grant.currency),
                exactMoney(grant.budget, grant.currency)
              )}
            >
              {trans.__(
                '%1 of %2',
                formatMoney(grant.spent, grant.currency),
                formatMoney(grant.budget, grant.currency)
              )}
            </span>
            {ComputePanelAPI.canViewDashboard(grant) ? (
              <button
                type="button"
                className="jp-Button jp-mod-styled jp-ComputePanel-small"
                aria-label={trans.__('Dashboard of %1', grant.award_number)}
                onClick={() => props.onOpenDashboard(grant.id)}
              >
                {trans.__('Dashboard')}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
