/**
 * Before an edit of a grant stops running kernels (a budget lowered to or
 * below the spend, with a hard stop): which kernels, and the choice.
 */
import * as React from 'react';

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../../api';
import { formatMoney, formatRate } from '../../money';

/**
 * The sentence above the list of kernels.
 */
export function stopsSentence(
  stops: ComputePanelAPI.IEditStops,
  trans: TranslationBundle
): string {
  return trans._n(
    'A budget of %2 is not above the %3 this grant has spent, and it has a hard stop: saving stops its running kernel at once.',
    'A budget of %2 is not above the %3 this grant has spent, and it has a hard stop: saving stops its %1 running kernels at once.',
    stops.kernels.length,
    formatMoney(stops.budget, stops.currency),
    formatMoney(stops.spent, stops.currency)
  );
}

/**
 * One kernel of the list: whose, which notebook, where, at what rate.
 */
export function stopLine(
  kernel: ComputePanelAPI.IEditStops['kernels'][number],
  trans: TranslationBundle
): string {
  return trans.__(
    '%1: %2 on %3 (%4)',
    kernel.user,
    kernel.notebook || trans.__('a kernel with no notebook'),
    kernel.tier_label,
    formatRate(kernel.rate_per_hour, kernel.currency)
  );
}

/**
 * Ask before saving; rejects (with the form's message) when the user keeps
 * the kernels running.
 */
export async function confirmStops(
  stops: ComputePanelAPI.IEditStops,
  trans: TranslationBundle
): Promise<void> {
  const count = stops.kernels.length;
  const result = await showDialog({
    title: trans._n(
      'Stop a running kernel?',
      'Stop %1 running kernels?',
      count
    ),
    body: (
      <div className="jp-ComputePanel-editStops">
        <p>{stopsSentence(stops, trans)}</p>
        <ul aria-label={trans.__('Kernels that stop')}>
          {stops.kernels.map(kernel => (
            <li key={kernel.run_id}>{stopLine(kernel, trans)}</li>
          ))}
        </ul>
      </div>
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Keep them running') }),
      Dialog.warnButton({
        label: trans._n('Save and stop it', 'Save and stop them', count)
      })
    ],
    defaultButton: 0
  });
  if (!result.button.accept) {
    throw new Error(
      trans.__('Not saved: the grant and its kernels are as they were.')
    );
  }
}
