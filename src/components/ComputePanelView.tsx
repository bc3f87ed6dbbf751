import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';
import { UseSignal } from '@jupyterlab/ui-components';

import { IComputePanelModel, ILiveCost } from '../tokens';
import { NotebookRunsModel } from '../panel/notebookRuns';
import { GrantList } from './GrantList';
import { NotebookRuns } from './NotebookRuns';
import { TierCard } from './TierCard';
import { exactMoney, formatMoney } from '../money';

/**
 * The cost of the current run, re-rendered on every tick.
 */
export function RunCost(props: {
  model: IComputePanelModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  return (
    <UseSignal signal={model.costChanged} initialArgs={model.liveCost}>
      {(_, cost?: ILiveCost | null) => {
        const live = model.liveCost ?? cost ?? null;
        if (!live) {
          return null;
        }
        return (
          <div className="jp-ComputePanel-runCost" aria-live="off">
            <span title={exactMoney(live.amount, live.currency)}>
              {live.exact
                ? trans.__(
                    'Cost of the run: %1',
                    formatMoney(live.amount, live.currency)
                  )
                : trans.__(
                    'Cost of this run so far: %1',
                    formatMoney(live.amount, live.currency)
                  )}
            </span>
          </div>
        );
      }}
    </UseSignal>
  );
}

export namespace ComputePanelView {
  export interface IProps {
    model: IComputePanelModel;
    trans: TranslationBundle;
    /**
     * The tier a move is under way to, if any.
     */
    moving?: string | null;
    onMove: (tierId: string) => void;
    /**
     * Open a grant's dashboard; without it the panel lists no grants.
     */
    onOpenDashboard?: (grantId: string) => void;
    /**
     * The followed notebook's latest runs; without it the panel lists none.
     */
    notebookRuns?: NotebookRunsModel;
    /**
     * Open the run history with these filters.
     */
    onOpenHistory?: (filters: { notebook: string; user?: string }) => void;
    /**
     * Re-run the followed notebook on a tier; without it no button shows.
     */
    onRerun?: (path: string) => void;
  }
}

/**
 * The panel body: banners, the followed notebook, one card per tier.
 */
export function ComputePanelView(props: ComputePanelView.IProps): JSX.Element {
  const { model, trans, moving } = props;
  const notebook = model.notebook;
  const current = model.currentTier;
  const banners: { kind: string; text: string }[] = [];
  if (model.handshake.message) {
    banners.push({
      kind: model.handshake.status === 'mismatch' ? 'warning' : 'error',
      text: model.handshake.message
    });
  }
  if (model.catalogError) {
    banners.push({
      kind: 'error',
      text: trans.__(
        'The tier catalog is invalid and metering is disabled: %1',
        model.catalogError
      )
    });
  }
  if (model.error) {
    banners.push({ kind: 'error', text: model.error });
  }
  if (model.unavailable) {
    banners.push({ kind: 'error', text: model.unavailable });
  }
  if (model.metadataWarning) {
    banners.push({ kind: 'warning', text: model.metadataWarning });
  }

  let summary: string;
  if (!notebook) {
    summary = trans.__('Open a notebook to see and change where it runs.');
  } else if (!model.kernelName) {
    summary = trans.__('%1 has no kernel.', notebook.title.label);
  } else if (current) {
    summary = trans.__('%1 runs on %2.', notebook.title.label, current.label);
  } else {
    summary = trans.__(
      '%1 runs on kernel %2, which is not metered.',
      notebook.title.label,
      model.kernelName
    );
  }

  return (
    <div className="jp-ComputePanel-body">
      {banners.map((banner, index) => (
        <div
          key={index}
          className={`jp-ComputePanel-banner jp-ComputePanel-banner-${banner.kind}`}
          role={banner.kind === 'error' ? 'alert' : 'status'}
        >
          {banner.text}
        </div>
      ))}
      <div className="jp-ComputePanel-current">
        <p className="jp-ComputePanel-summary">{summary}</p>
        <RunCost model={model} trans={trans} />
        {notebook && props.onRerun ? (
          <button
            type="button"
            className="jp-ComputePanel-rerunButton jp-mod-styled"
            title={trans.__(
              'Execute the saved %1 headlessly on a tier of your choice, metered and charged to a grant, and keep an executed copy to compare',
              notebook.title.label
            )}
            onClick={() => props.onRerun?.(notebook.context.path)}
          >
            {trans.__('Re-run on…')}
          </button>
        ) : null}
      </div>
      {model.tiers.length === 0 && model.handshake.status === 'pending' ? (
        <p className="jp-ComputePanel-empty">{trans.__('Loading tiers…')}</p>
      ) : (
        <ul
          className="jp-ComputePanel-cards"
          aria-label={trans.__('Compute tiers')}
        >
          {model.tiers.map(tier => (
            <TierCard
              key={tier.id}
              tier={tier}
              current={!!current && current.id === tier.id}
              canMove={!!notebook}
              busy={!!moving}
              trans={trans}
              onMove={props.onMove}
            />
          ))}
        </ul>
      )}
      {props.notebookRuns ? (
        <NotebookRuns
          runs={props.notebookRuns}
          trans={trans}
          onOpenHistory={props.onOpenHistory}
        />
      ) : null}
      {props.onOpenDashboard ? (
        <GrantList
          grants={model.grants}
          trans={trans}
          onOpenDashboard={props.onOpenDashboard}
        />
      ) : null}
    </div>
  );
}
