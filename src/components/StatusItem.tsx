import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { IComputePanelModel, ILiveCost } from '../tokens';
import { formatPrice } from './format';
import { exactMoney, formatMoney } from '../money';

/**
 * The status-bar text and tooltip for the model's state.
 */
export function statusText(
  model: IComputePanelModel,
  cost: ILiveCost | null,
  trans: TranslationBundle
): { text: string; title: string } {
  const open = trans.__('Click to open the compute panel.');
  const status = model.handshake.status;
  if (status === 'missing' || status === 'error') {
    return {
      text: trans.__('Compute panel unavailable'),
      title: `${model.handshake.message ?? ''} ${open}`.trim()
    };
  }
  if (!model.kernelName) {
    return { text: trans.__('No kernel'), title: open };
  }
  const tier = model.currentTier;
  if (!tier) {
    return {
      text: trans.__('Not metered'),
      title: trans.__(
        'Kernel %1 is not a compute tier and is not metered. %2',
        model.kernelName,
        open
      )
    };
  }
  // A simulated tier says so wherever it is shown.
  const label = tier.simulated
    ? trans.__('%1 (simulated)', tier.label)
    : tier.label;
  if (tier.free) {
    return {
      text: trans.__('%1 · free', label),
      title: trans.__('%1 is free. %2', tier.label, open)
    };
  }
  const grant = model.run?.grant_id ?? null;
  const rate = trans.__('Rate: %1', formatPrice(tier, trans));
  const grantText = grant
    ? trans.__('Grant: %1', grant)
    : trans.__('Grant: none yet');
  const text = cost
    ? `${label} · ${formatMoney(cost.amount, cost.currency)}`
    : `${label} · ${formatPrice(tier, trans)}`;
  const exact = cost
    ? ` · ${trans.__('Cost: %1', exactMoney(cost.amount, cost.currency))}`
    : '';
  return { text, title: `${rate}${exact} · ${grantText}. ${open}` };
}

export namespace ComputeStatus {
  export interface IProps {
    model: IComputePanelModel;
    cost: ILiveCost | null;
    trans: TranslationBundle;
    onClick: () => void;
  }
}

/**
 * The status-bar item: tier and live cost; a button opening the panel.
 */
export function ComputeStatus(props: ComputeStatus.IProps): JSX.Element {
  const { text, title } = statusText(props.model, props.cost, props.trans);
  return (
    <button
      type="button"
      className="jp-ComputePanel-status"
      title={title}
      onClick={props.onClick}
    >
      {text}
    </button>
  );
}
