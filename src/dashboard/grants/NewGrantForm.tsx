/**
 * A new grant, typed by an admin. The server validates every field; its
 * refusal shows beside the field it names.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../../api';
import { FORM, IMessages, useSubmit } from '../useSubmit';
import { parseThresholds, thresholdsError } from './editValues';
import {
  AllowedTiersField,
  FormError,
  PolicyChecks,
  SubmitButton,
  TextField,
  TextKey
} from './fields';
import { emptyNewGrant, INewGrantValues, newGrantBody } from './newGrantValues';

export namespace NewGrantForm {
  export interface IProps {
    tiers: ReadonlyArray<{ id: string; label: string }>;
    trans: TranslationBundle;
    today: string;
    onCreate: (body: ComputePanelAPI.INewGrant) => Promise<void>;
  }
}

/**
 * The admin's "New grant" form (in a dialog; submitted by its own button).
 */
export function NewGrantForm(props: NewGrantForm.IProps): JSX.Element {
  const { trans } = props;
  const [values, setValues] = React.useState(() => emptyNewGrant(props.today));
  const submit = useSubmit();
  const { errors } = submit;
  const set = <K extends keyof INewGrantValues>(
    key: K,
    value: INewGrantValues[K]
  ) => setValues(v => ({ ...v, [key]: value }));
  const prefix = 'jp-ComputePanel-new';

  const onSubmit = submit.form(() => {
    const errors: IMessages =
      parseThresholds(values.alert_thresholds) === null
        ? { alert_thresholds: thresholdsError(trans) }
        : {};
    return { errors, send: () => props.onCreate(newGrantBody(values)) };
  }, Object.keys(values));

  const text = (
    key: TextKey<INewGrantValues>,
    label: string,
    input: React.InputHTMLAttributes<HTMLInputElement> = {},
    hint?: string
  ) => (
    <TextField
      id={`${prefix}-${key}`}
      label={label}
      error={errors[key]}
      hint={hint}
      input={{ ...input, name: key }}
      value={values[key]}
      onChange={value => set(key, value)}
    />
  );

  return (
    <form
      className="jp-ComputePanel-form jp-ComputePanel-newGrant"
      onSubmit={onSubmit}
      aria-label={trans.__('New grant')}
    >
      {text(
        'id',
        trans.__('Id'),
        { required: true },
        trans.__('letters, digits, . _ -')
      )}
      {text('award_number', trans.__('Award number'), { required: true })}
      {text('title', trans.__('Title'), { required: true })}
      {text('funder', trans.__('Funder'), { required: true })}
      {text('pi', trans.__('Principal investigator (user)'), {
        required: true
      })}
      {text('budget', trans.__('Budget'), {
        required: true,
        inputMode: 'decimal'
      })}
      {text('currency', trans.__('Currency'), {
        required: true,
        maxLength: 3
      })}
      {text('start_date', trans.__('Start date'), {
        required: true,
        type: 'date'
      })}
      {text('end_date', trans.__('End date'), { required: true, type: 'date' })}
      {text(
        'co_pis',
        trans.__('Co-PIs (users)'),
        {},
        trans.__('separated by commas')
      )}
      {text(
        'members',
        trans.__('Members (users)'),
        {},
        trans.__('separated by commas')
      )}
      <AllowedTiersField
        tiers={props.tiers}
        value={values.allowed_tiers}
        error={errors.allowed_tiers}
        onChange={value => set('allowed_tiers', value)}
        trans={trans}
      />
      {text('alert_thresholds', trans.__('Alert thresholds (% of the budget)'))}
      {text('min_runtime_minutes', trans.__('Minimum runtime (minutes)'), {
        type: 'number',
        min: 0,
        max: 1440
      })}
      <PolicyChecks
        hardStop={values.hard_stop}
        sensitive={values.sensitive}
        errors={errors}
        onChange={(field, value) => set(field, value)}
        trans={trans}
      />
      <FormError message={errors[FORM]} />
      <div className="jp-ComputePanel-formButtons">
        <SubmitButton
          busy={submit.busy !== null}
          label={trans.__('Create grant')}
          busyLabel={trans.__('Creating…')}
        />
      </div>
    </form>
  );
}
