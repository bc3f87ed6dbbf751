/**
 * The "Edit grant" form of a grant's PI or an admin: every change saved in
 * one PATCH; a refusal shows beside the field the server names.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../../api';
import { FORM, useSubmit } from '../useSubmit';
import { formValues, grantEdit, IGrantFormValues } from './editValues';
import {
  AllowedTiersField,
  FormError,
  PolicyChecks,
  SubmitButton,
  TextField,
  TextKey
} from './fields';

export namespace GrantEditForm {
  export interface IProps {
    grant: ComputePanelAPI.IGrant;
    tiers: ReadonlyArray<{ id: string; label: string }>;
    trans: TranslationBundle;
    onSave: (patch: ComputePanelAPI.IGrantPatch) => Promise<void>;
    onClose: () => void;
  }
}

export function GrantEditForm(props: GrantEditForm.IProps): JSX.Element {
  const { grant, trans } = props;
  const before = React.useMemo(() => formValues(grant), [grant]);
  const [values, setValues] = React.useState(before);
  const submit = useSubmit();
  const { errors } = submit;
  const prefix = `jp-ComputePanel-edit-${grant.id}`;

  const set = <K extends keyof IGrantFormValues>(
    key: K,
    value: IGrantFormValues[K]
  ) => {
    setValues(v => ({ ...v, [key]: value }));
    submit.edited();
  };

  const onSubmit = submit.form(() => {
    const edit = grantEdit(before, values, trans);
    const unchanged =
      !Object.keys(edit.errors).length && !Object.keys(edit.patch).length;
    return {
      errors: unchanged
        ? { [FORM]: trans.__('Nothing to save: no field changed.') }
        : edit.errors,
      send: () => props.onSave(edit.patch)
    };
  }, Object.keys(values));

  const text = (
    key: TextKey<IGrantFormValues>,
    suffix: string,
    label: string,
    input?: React.InputHTMLAttributes<HTMLInputElement>
  ) => (
    <TextField
      id={`${prefix}-${suffix}`}
      label={label}
      error={errors[key]}
      input={input}
      value={values[key]}
      onChange={value => set(key, value)}
    />
  );

  return (
    <form
      className="jp-ComputePanel-form"
      onSubmit={onSubmit}
      aria-label={trans.__('Edit grant %1', grant.award_number)}
    >
      {text('title', 'title', trans.__('Title'))}
      {text('budget', 'budget', trans.__('Budget (%1)', grant.currency), {
        inputMode: 'decimal'
      })}
      {text('end_date', 'end', trans.__('End date'), { type: 'date' })}
      <AllowedTiersField
        tiers={props.tiers}
        value={values.allowed_tiers}
        error={errors.allowed_tiers}
        onChange={value => set('allowed_tiers', value)}
        trans={trans}
      />
      {text(
        'alert_thresholds',
        'thresholds',
        trans.__('Alert thresholds (% of the budget)')
      )}
      {text(
        'min_runtime_minutes',
        'minrun',
        trans.__('Minimum runtime a start must afford (minutes)'),
        { type: 'number', min: 0, max: 1440 }
      )}
      <PolicyChecks
        hardStop={values.hard_stop}
        sensitive={values.sensitive}
        errors={errors}
        onChange={(field, value) => set(field, value)}
        trans={trans}
      />
      <FormError message={errors[FORM]} />
      <div className="jp-ComputePanel-formButtons">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject"
          onClick={props.onClose}
        >
          {trans.__('Close')}
        </button>
        <SubmitButton
          busy={submit.busy !== null}
          label={trans.__('Save')}
          busyLabel={trans.__('Saving…')}
        />
        {submit.succeeded === FORM ? (
          <span className="jp-ComputePanel-saved" role="status">
            {trans.__('Saved.')}
          </span>
        ) : null}
      </div>
    </form>
  );
}
