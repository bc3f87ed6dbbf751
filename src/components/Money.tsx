/**
 * A money amount as every view shows it, with the exact amount on hover.
 */
import * as React from 'react';

import { exactMoney, formatMoney } from '../money';

export function Money(props: {
  amount: string;
  currency: string;
  className?: string;
}): JSX.Element {
  return (
    <span
      className={props.className}
      title={exactMoney(props.amount, props.currency)}
    >
      {formatMoney(props.amount, props.currency)}
    </span>
  );
}
