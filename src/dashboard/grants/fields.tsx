/**
 * The pieces the grant forms share: a labelled text field with its error, the
 * allowed tiers, the two policy switches, the messages and the submit button.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { IMessages } from '../useSubmit';

/**
 * The keys of a form's values that are typed as text.
 */
export type TextKey<T> = {
  [K in keyof T]: T[K] extends string ? K : never;
}[keyof T];

/**
 * A message beside what it is about; nothing when there is none.
 */
export function FieldError(props: {
  message?: string | null;
  id?: string;
}): JSX.Element | null {
  return props.message ? (
    <span id={props.id} className="jp-ComputePanel-fieldError" role="alert">
      {props.message}
    </span>
  ) : null;
}

/**
 * A message about the whole form, above its buttons.
 */
export function FormError(props: { message?: string }): JSX.Element | null {
  return props.message ? (
    <p className="jp-ComputePanel-fieldError" role="alert">
      {props.message}
    </p>
  ) : null;
}

/**
 * A form's submit button: its label, another while the form is sent.
 */
export function SubmitButton(props: {
  busy: boolean;
  label: string;
  busyLabel: string;
}): JSX.Element {
  return (
    <button
      type="submit"
      className="jp-Button jp-mod-styled jp-mod-accept"
      disabled={props.busy}
    >
      {props.busy ? props.busyLabel : props.label}
    </button>
  );
}

/**
 * A labelled text input with its hint and its error beside it.
 */
export function TextField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | null;
  hint?: string;
  /**
   * More attributes of the input: type, name, required, bounds.
   */
  input?: React.InputHTMLAttributes<HTMLInputElement>;
}): JSX.Element {
  const errorId = `${props.id}-error`;
  return (
    <div className="jp-ComputePanel-field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? errorId : undefined}
        {...props.input}
        className="jp-mod-styled"
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
      />
      {props.hint ? (
        <span className="jp-ComputePanel-hint">{props.hint}</span>
      ) : null}
      <FieldError id={errorId} message={props.error} />
    </div>
  );
}

/**
 * The tiers a grant pays for: every tier (null), or the ones checked.
 */
export function AllowedTiersField(props: {
  tiers: readonly { id: string; label: string }[];
  value: string[] | null;
  error?: string;
  onChange: (value: string[] | null) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { tiers, value, trans } = props;
  const all = value === null;
  return (
    <fieldset className="jp-ComputePanel-fieldset">
      <legend>{trans.__('Allowed tiers')}</legend>
      <label>
        <input
          type="checkbox"
          checked={all}
          onChange={e =>
            props.onChange(e.target.checked ? null : tiers.map(t => t.id))
          }
        />
        {trans.__('Every tier')}
      </label>
      {tiers.map(tier => (
        <label key={tier.id}>
          <input
            type="checkbox"
            disabled={all}
            checked={all || value.includes(tier.id)}
            onChange={e => {
              const current = value ?? [];
              props.onChange(
                e.target.checked
                  ? [...current, tier.id]
                  : current.filter(id => id !== tier.id)
              );
            }}
          />
          {tier.label}
        </label>
      ))}
      <FieldError message={props.error} />
    </fieldset>
  );
}

/**
 * The grant's two switches, hard stop and sensitive data, with their errors.
 */
export function PolicyChecks(props: {
  hardStop: boolean;
  sensitive: boolean;
  errors: IMessages;
  onChange: (field: 'hard_stop' | 'sensitive', value: boolean) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { errors, trans } = props;
  const check = (
    field: 'hard_stop' | 'sensitive',
    checked: boolean,
    label: string
  ) => (
    <>
      <label>
        <input
          type="checkbox"
          checked={checked}
          onChange={e => props.onChange(field, e.target.checked)}
        />
        {label}
      </label>
      <FieldError message={errors[field]} />
    </>
  );
  return (
    <div className="jp-ComputePanel-checks">
      {check(
        'hard_stop',
        props.hardStop,
        trans.__('Hard stop: shut paid kernels down when the budget is spent')
      )}
      {check(
        'sensitive',
        props.sensitive,
        trans.__('Sensitive data: never on community tiers')
      )}
    </div>
  );
}
