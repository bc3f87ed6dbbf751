import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';
import { checkIcon } from '@jupyterlab/ui-components';

import { ComputePanelAPI } from '../api';
import { formatHardware, formatPrice, formatReliability } from './format';

/**
 * The "simulated" badge.
 */
export function SimulatedBadge(props: {
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  return (
    <span
      className="jp-ComputePanel-badge jp-ComputePanel-badge-simulated"
      title={trans.__(
        'Simulated: kernels of this tier run on this machine, not on the named hardware. Metering and budgets are real.'
      )}
    >
      {trans.__('simulated')}
    </span>
  );
}

export namespace TierCard {
  export interface IProps {
    tier: ComputePanelAPI.ITier;
    /**
     * The followed notebook runs on this tier.
     */
    current: boolean;
    /**
     * A notebook is followed (moving is possible).
     */
    canMove: boolean;
    /**
     * A move is in progress.
     */
    busy?: boolean;
    trans: TranslationBundle;
    onMove: (tierId: string) => void;
  }
}

/**
 * One tier: label, hardware, price, reliability, badge, use, and "Move here"
 * ("Current" on the tier the notebook runs on).
 */
export function TierCard(props: TierCard.IProps): JSX.Element {
  const { tier, current, canMove, busy, trans } = props;
  const headingId = `jp-ComputePanel-tier-${tier.id}`;
  const availability = tier.availability ?? null;
  const unavailable = availability !== null && availability.free === 0;
  const disabled = current || !canMove || unavailable;
  // A button that becomes disabled while focused (the notebook now runs on
  // this tier) drops focus onto the page: the card takes it instead. While a
  // move is under way the button only says it is unavailable (aria-disabled)
  // and keeps focus, so the move dialog gives it back when it closes.
  const cardRef = React.useRef<HTMLLIElement>(null);
  const buttonRef = React.useRef<HTMLButtonElement>(null);
  const hadFocus =
    buttonRef.current !== null && buttonRef.current === document.activeElement;
  React.useLayoutEffect(() => {
    if (disabled && hadFocus) {
      cardRef.current?.focus();
    }
  });
  return (
    <li
      ref={cardRef}
      tabIndex={-1}
      className={`jp-ComputePanel-card${current ? ' jp-mod-current' : ''}`}
      aria-current={current ? 'true' : undefined}
      aria-labelledby={headingId}
      data-tier={tier.id}
    >
      <div className="jp-ComputePanel-cardHeader">
        <h3 id={headingId} className="jp-ComputePanel-cardLabel">
          {tier.label}
        </h3>
        {tier.simulated && <SimulatedBadge trans={trans} />}
      </div>
      <div className="jp-ComputePanel-hardware">
        {formatHardware(tier.hardware, trans)}
      </div>
      <dl className="jp-ComputePanel-facts">
        <dt>{trans.__('Price')}</dt>
        <dd className="jp-ComputePanel-price">{formatPrice(tier, trans)}</dd>
        <dt>{trans.__('Reliability')}</dt>
        <dd className="jp-ComputePanel-reliability">
          {formatReliability(tier.reliability, trans)}
        </dd>
        {availability !== null && (
          <>
            <dt>{trans.__('Nodes')}</dt>
            <dd className="jp-ComputePanel-availability">
              {trans.__(
                '%1 of %2 reachable, %3 free',
                availability.reachable,
                availability.nodes,
                availability.free
              )}
            </dd>
          </>
        )}
        <dt>{trans.__('Running')}</dt>
        <dd className="jp-ComputePanel-running">
          {trans._n('%1 kernel', '%1 kernels', tier.running)}
        </dd>
      </dl>
      {unavailable && (
        <p className="jp-ComputePanel-unavailable" role="status">
          {availability?.reason}
        </p>
      )}
      {current ? (
        // Not a disabled button (pale, and skipped by the keyboard): a mark.
        <p className="jp-ComputePanel-currentMark">
          <checkIcon.react
            tag="span"
            className="jp-ComputePanel-currentIcon"
            aria-hidden="true"
          />
          <span>{trans.__('Current')}</span>
          <span className="jp-ComputePanel-currentNote">
            {trans.__('the notebook runs here')}
          </span>
        </p>
      ) : (
        <button
          type="button"
          className="jp-ComputePanel-move jp-mod-styled jp-mod-accept"
          ref={buttonRef}
          disabled={disabled}
          aria-disabled={busy || undefined}
          title={
            unavailable
              ? (availability?.reason ?? '')
              : canMove
                ? trans.__('Move the notebook kernel to %1', tier.label)
                : trans.__('Open a notebook to move its kernel')
          }
          onClick={() => {
            if (!busy) {
              props.onMove(tier.id);
            }
          }}
        >
          {trans.__('Move here')}
        </button>
      )}
    </li>
  );
}
