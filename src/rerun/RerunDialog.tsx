/**
 * The body of the "Re-run on…" dialog: the tier (with its price per hour, as
 * in the move dialog), the grant for a paid tier, the time limit, and what
 * runs (the saved notebook; save first when it has unsaved changes).
 */
import * as React from 'react';

import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';

import { ComputePanelAPI } from '../api';
import { formatPrice } from '../components/format';
import { GrantPicker } from '../components/MoveDialog';
import { SimulatedBadge } from '../components/TierCard';
import { IRerunChoice, validateRerunChoice } from './format';

export namespace RerunDialogView {
  export interface IProps {
    /**
     * The notebook's file name.
     */
    name: string;
    tiers: ReadonlyArray<ComputePanelAPI.ITier>;
    /**
     * Grants the user may charge (inactive ones are left out).
     */
    grants: ReadonlyArray<ComputePanelAPI.IGrant>;
    initial: IRerunChoice;
    /**
     * The open notebook has unsaved changes.
     */
    dirty: boolean;
    /**
     * The server's refusal (or a check's) of the previous attempt.
     */
    error?: string | null;
    /**
     * A run this re-run repeats, in words ("H200 training, 2026-11-23 14:05").
     */
    source?: string | null;
    trans: TranslationBundle;
    onChange: (choice: IRerunChoice) => void;
  }
}

export function RerunDialogView(props: RerunDialogView.IProps): JSX.Element {
  const { tiers, trans, name } = props;
  const grants = props.grants.filter(ComputePanelAPI.canCharge);
  const [choice, setChoice] = React.useState<IRerunChoice>(props.initial);
  const [touched, setTouched] = React.useState(false);
  const update = (change: Partial<IRerunChoice>) => {
    const next = { ...choice, ...change };
    setChoice(next);
    setTouched(true);
    props.onChange(next);
  };
  const tier = tiers.find(t => t.id === choice.tierId) ?? null;
  // Say what is wrong as it is typed, but not before the user has touched
  // anything (the server's sentence from the last attempt shows instead).
  const problem = touched
    ? validateRerunChoice(choice, tiers, grants, trans)
    : null;
  const error = problem?.message ?? (touched ? null : props.error);
  const ids = {
    grant: 'jp-ComputePanel-rerunGrant',
    limit: 'jp-ComputePanel-rerunLimit',
    limitHelp: 'jp-ComputePanel-rerunLimitHelp',
    save: 'jp-ComputePanel-rerunSave'
  };
  return (
    <div className="jp-ComputePanel-rerunDialog">
      {error ? (
        <p className="jp-ComputePanel-rerunError" role="alert">
          {error}
        </p>
      ) : null}
      {props.source ? (
        <p className="jp-ComputePanel-rerunSource">
          {trans.__('Repeats the run: %1', props.source)}
        </p>
      ) : null}
      <fieldset className="jp-ComputePanel-rerunTiers">
        <legend>{trans.__('Tier')}</legend>
        {tiers.map(t => (
          <label
            key={t.id}
            className="jp-ComputePanel-rerunTier"
            data-tier={t.id}
          >
            <input
              type="radio"
              name="jp-ComputePanel-rerunTier"
              value={t.id}
              checked={choice.tierId === t.id}
              onChange={() => update({ tierId: t.id })}
            />
            <span className="jp-ComputePanel-rerunTierLabel">{t.label}</span>
            {t.simulated && <SimulatedBadge trans={trans} />}
            <span className="jp-ComputePanel-price">
              {formatPrice(t, trans)}
            </span>
          </label>
        ))}
      </fieldset>
      {tier && !tier.free ? (
        <GrantPicker
          id={ids.grant}
          trans={trans}
          grants={grants}
          grantId={choice.grantId}
          onChange={grantId => update({ grantId })}
          invalid={problem?.field === 'grant'}
        />
      ) : null}
      <div className="jp-ComputePanel-rerunLimit">
        <label htmlFor={ids.limit}>{trans.__('Time limit (minutes)')}</label>
        <input
          id={ids.limit}
          className="jp-mod-styled"
          type="text"
          inputMode="decimal"
          placeholder={trans.__('server default')}
          value={choice.timeLimit}
          aria-describedby={ids.limitHelp}
          aria-invalid={problem?.field === 'timeLimit'}
          onChange={event => update({ timeLimit: event.target.value })}
        />
        <span id={ids.limitHelp} className="jp-ComputePanel-rerunHelp">
          {trans.__(
            'Leave blank for the server default. At the limit the run stops and what ran is kept.'
          )}
        </span>
      </div>
      <p className="jp-ComputePanel-rerunNote" role="note">
        {tier && !tier.free
          ? trans.__(
              'The saved %1 runs headlessly in a new %2 kernel, metered at %3 and charged to the grant; the kernel stops as soon as the last cell ends. An executed copy is saved beside the notebook; the notebook itself is not changed.',
              name,
              tier.label,
              formatPrice(tier, trans)
            )
          : trans.__(
              'The saved %1 runs headlessly in a new kernel, which stops as soon as the last cell ends. An executed copy is saved beside the notebook; the notebook itself is not changed.',
              name
            )}
      </p>
      {props.dirty ? (
        <div className="jp-ComputePanel-rerunSaveFirst">
          <input
            id={ids.save}
            type="checkbox"
            checked={choice.save}
            onChange={event => update({ save: event.target.checked })}
          />
          <label htmlFor={ids.save}>
            {trans.__('Save the notebook first (it has unsaved changes)')}
          </label>
          {!choice.save ? (
            <p className="jp-ComputePanel-warning" role="note">
              {trans.__(
                'Unsaved changes are not in the re-run: it runs the notebook as last saved.'
              )}
            </p>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/**
 * The dialog body widget; `getValue` gives the user's choice.
 */
export class RerunDialogBody
  extends ReactWidget
  implements Dialog.IBodyWidget<IRerunChoice>
{
  constructor(options: Omit<RerunDialogView.IProps, 'onChange'>) {
    super();
    this._options = options;
    this._value = { ...options.initial };
    this.addClass('jp-ComputePanel-rerunDialogBody');
  }

  /**
   * The sentence shown on top (the previous attempt's refusal), if any.
   */
  get error(): string | null {
    return this._options.error ?? null;
  }

  getValue(): IRerunChoice {
    return { ...this._value };
  }

  protected render(): JSX.Element {
    return (
      <RerunDialogView
        {...this._options}
        onChange={choice => {
          this._value = choice;
        }}
      />
    );
  }

  private _options: Omit<RerunDialogView.IProps, 'onChange'>;
  private _value: IRerunChoice;
}
