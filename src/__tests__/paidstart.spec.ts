import { nullTranslator } from '@jupyterlab/translation';

import {
  askSentence,
  paidKernelOf,
  paidStartMessage,
  startedLocalMessage
} from '../paidstart/rules';
import { NOTIFICATION_LIMIT } from '../notifications/whole';

const trans = nullTranslator.load('jupyterlab_compute_panel');

/**
 * A tier kernelspec as the server lists it (metadata.compute_panel).
 */
function spec(tierId: string, perHour: unknown, label = 'H200 training') {
  return {
    name: `compute-panel-${tierId}-python3`,
    display_name: label,
    metadata: {
      compute_panel: {
        tier_id: tierId,
        label,
        price: { per_hour: perHour, currency: 'USD' }
      }
    }
  };
}

const H200 = {
  tierId: 'h200',
  label: 'H200 training',
  perHour: '3.50',
  currency: 'USD'
};

describe('paidKernelOf', () => {
  it('reads the tier and price a paid kernelspec carries', () => {
    expect(paidKernelOf(spec('h200', '3.50'))).toEqual(H200);
  });

  it('finds nothing to ask about a free tier, a plain kernel or a bad price', () => {
    expect(paidKernelOf(spec('local-cpu', '0', 'Local CPU'))).toBeNull();
    expect(paidKernelOf(spec('h200', 3.5))).toBeNull();
    expect(paidKernelOf(spec('h200', 'much'))).toBeNull();
    expect(paidKernelOf({ name: 'python3', metadata: {} })).toBeNull();
    expect(paidKernelOf(undefined)).toBeNull();
    expect(paidKernelOf(null)).toBeNull();
  });
});

describe('what is said of a paid start', () => {
  const grant = { id: 'nsf-1', award_number: 'NSF CNS-2401234' };

  it('asks with the price per hour and the grant it charges', () => {
    expect(askSentence('paid.ipynb', H200, grant, trans)).toBe(
      'paid.ipynb was saved on H200 training, which costs 3.50 USD/h, charged to grant NSF CNS-2401234.'
    );
    expect(askSentence('paid.ipynb', H200, null, trans)).toBe(
      'paid.ipynb was saved on H200 training, which costs 3.50 USD/h; no grant is chosen for it yet, so you choose one before it starts.'
    );
  });

  it('says a start by another path at once, whole', () => {
    const messages = [
      paidStartMessage('stock.ipynb', H200, grant, trans),
      paidStartMessage('stock.ipynb', H200, { id: 'nsf-1' }, trans),
      paidStartMessage('stock.ipynb', H200, null, trans),
      startedLocalMessage('local.ipynb', H200, 'Local CPU', trans)
    ];
    expect(messages).toEqual([
      'stock.ipynb now runs on H200 training: 3.50 USD/h, charged to grant NSF CNS-2401234.',
      'stock.ipynb now runs on H200 training: 3.50 USD/h, charged to grant nsf-1.',
      'stock.ipynb now runs on H200 training: 3.50 USD/h.',
      'local.ipynb started on Local CPU, not on H200 training (3.50 USD/h).'
    ]);
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(NOTIFICATION_LIMIT);
    }
  });
});
