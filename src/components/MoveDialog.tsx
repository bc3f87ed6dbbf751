import * as React from 'react';

import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';

import { ComputePanelAPI } from '../api';
import { formatGrant, formatPrice } from './format';
import { SimulatedBadge } from './TierCard';

/**
 * What the user chose in the move dialog.
 */
export interface IMoveChoice {
  /**
   * The grant to charge; null on a free tier or when none is chosen.
   */
  grantId: string | null;
  rerun: boolean;
}

/**
 * "Charge to grant": the user's grants to choose from, or why there is none.
 * The move and the re-run dialogs both ask it for a paid tier.
 */
export function GrantPicker(props: {
  id: string;
  trans: TranslationBundle;
  grants: ReadonlyArray<ComputePanelAPI.IGrant>;
  grantId: string | null;
  onChange: (grantId: string | null) => void;
  invalid?: boolean;
}): JSX.Element {
  const { trans, grants } = props;
  return (
    <div className="jp-ComputePanel-grantPicker">
      <label htmlFor={props.id}>{trans.__('Charge to grant')}</label>
      {grants.length > 0 ? (
        <select
          id={props.id}
          className="jp-mod-styled"
          value={props.grantId ?? ''}
          aria-invalid={props.invalid || undefined}
          onChange={event => props.onChange(event.target.value || null)}
        >
          <option value="">{trans.__('Choose a grant…')}</option>
          {grants.map(grant => (
            <option key={grant.id} value={grant.id}>
              {formatGrant(grant)}
            </option>
          ))}
        </select>
      ) : (
        <p className="jp-ComputePanel-noGrant" role="alert">
          {trans.__(
            'You have no active grant to charge; a paid tier needs one.'
          )}
        </p>
      )}
    </div>
  );
}

/**
 * The id of the move dialog's grant picker for a tier.
 */
export function grantSelectId(tierId: string): string {
  return `jp-ComputePanel-grant-${tierId}`;
}

export namespace MoveDialogView {
  export interface IProps {
    tier: ComputePanelAPI.ITier;
    /**
     * Grants the user may charge (inactive ones are left out).
     */
    grants: ReadonlyArray<ComputePanelAPI.IGrant>;
    initial: IMoveChoice;
    trans: TranslationBundle;
    onChange: (choice: IMoveChoice) => void;
  }
}

/**
 * The body of the "Move to tier" dialog.
 */
export function MoveDialogView(props: MoveDialogView.IProps): JSX.Element {
  const { tier, trans } = props;
  const grants = props.grants.filter(ComputePanelAPI.canCharge);
  const [choice, setChoice] = React.useState<IMoveChoice>(props.initial);
  const update = (change: Partial<IMoveChoice>) => {
    const next = { ...choice, ...change };
    setChoice(next);
    props.onChange(next);
  };
  const selectId = grantSelectId(tier.id);
  const rerunId = `jp-ComputePanel-rerun-${tier.id}`;
  return (
    <div className="jp-ComputePanel-moveDialog">
      <p className="jp-ComputePanel-moveTier">
        <span className="jp-ComputePanel-moveLabel">{tier.label}</span>
        {tier.simulated && <SimulatedBadge trans={trans} />}
      </p>
      <p className="jp-ComputePanel-movePrice">
        {tier.free
          ? trans.__('Price: Free')
          : trans.__('Price: %1', formatPrice(tier, trans))}
      </p>
      {!tier.free && (
        <GrantPicker
          id={selectId}
          trans={trans}
          grants={grants}
          grantId={choice.grantId}
          onChange={grantId => update({ grantId })}
        />
      )}
      <p className="jp-ComputePanel-warning" role="note">
        {trans.__(
          'Kernel memory does not move: variables and imports are lost. Re-run cells to rebuild them.'
        )}
      </p>
      <div className="jp-ComputePanel-rerun">
        <input
          id={rerunId}
          type="checkbox"
          checked={choice.rerun}
          onChange={event => update({ rerun: event.target.checked })}
        />
        <label htmlFor={rerunId}>
          {trans.__('Re-run all cells on the new tier')}
        </label>
      </div>
    </div>
  );
}

/**
 * The dialog body widget; `getValue` gives the user's choice.
 */
export class MoveDialogBody
  extends ReactWidget
  implements Dialog.IBodyWidget<IMoveChoice>
{
  constructor(options: Omit<MoveDialogView.IProps, 'onChange'>) {
    super();
    this._options = options;
    this._value = { ...options.initial };
    this.addClass('jp-ComputePanel-moveDialogBody');
  }

  getValue(): IMoveChoice {
    return { ...this._value };
  }

  protected render(): JSX.Element {
    return (
      <MoveDialogView
        {...this._options}
        onChange={choice => {
          this._value = choice;
        }}
      />
    );
  }

  private _options: Omit<MoveDialogView.IProps, 'onChange'>;
  private _value: IMoveChoice;
}
