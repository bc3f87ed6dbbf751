/**
 * Grant editing for its PI or an admin: the "Edit grant" form, the members
 * list, and the "New grant" form of an admin. The server validates; its
 * message is shown next to the field it names.
 */
import * as React from 'react';

import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { parseMicros } from '../money';
import { TRANSLATION_DOMAIN } from '../tokens';
import { fieldError } from './model';

/**
 * The form's text values of a grant's editable fields.
 */
export interface IGrantFormValues {
  title: string;
  budget: string;
  end_date: string;
  /**
   * null: every tier.
   */
  allowed_tiers: string[] | null;
  alert_thresholds: string;
  hard_stop: boolean;
  min_runtime_minutes: string;
  sensitive: boolean;
}

export function formValues(grant: ComputePanelAPI.IGrant): IGrantFormValues {
  return {
    title: grant.title,
    budget: grant.budget,
    end_date: grant.end_date,
    allowed_tiers: grant.allowed_tiers ?? null,
    alert_thresholds: (grant.alert_thresholds ?? [50, 80, 100]).join(', '),
    hard_stop: grant.hard_stop ?? true,
    min_runtime_minutes: String(grant.min_runtime_minutes ?? 15),
    sensitive: grant.sensitive ?? false
  };
}

/**
 * Thresholds typed as "50, 80; 100" to [50, 80, 100]; null if not numbers
 * (the server says what is wrong with the numbers themselves).
 */
export function parseThresholds(text: string): number[] | null {
  const parts = text
    .split(/[\s,;]+/)
    .map(p => p.trim())
    .filter(Boolean);
  if (!parts.every(p => /^\d+$/.test(p))) {
    return null;
  }
  return parts.map(Number);
}

/**
 * What changed between the grant and the form, as one PATCH body (the
 * budget with the rest, so the server checks and saves them together).
 * Problems the form can see itself come back by field.
 */
export function grantEdit(
  before: IGrantFormValues,
  after: IGrantFormValues,
  trans: TranslationBundle = nullTranslator.load(TRANSLATION_DOMAIN)
): {
  patch: ComputePanelAPI.IGrantPatch;
  errors: { [field: string]: string };
} {
  const patch: ComputePanelAPI.IGrantPatch = {};
  const errors: { [field: string]: string } = {};
  const budget = after.budget.trim();
  if (parseMicros(budget) === null) {
    errors.budget = trans.__('must be a decimal amount such as 2500.00');
  } else if (parseMicros(budget) !== parseMicros(before.budget)) {
    patch.budget = budget;
  }
  if (after.title.trim() !== before.title) {
    patch.title = after.title.trim();
  }
  if (after.end_date !== before.end_date) {
    patch.end_date = after.end_date;
  }
  const tiersKey = (t: string[] | null) =>
    t === null ? '*' : [...t].sort().join(',');
  if (tiersKey(after.allowed_tiers) !== tiersKey(before.allowed_tiers)) {
    patch.allowed_tiers = after.allowed_tiers;
  }
  if (after.alert_thresholds !== before.alert_thresholds) {
    const thresholds = parseThresholds(after.alert_thresholds);
    if (thresholds === null) {
      errors.alert_thresholds = trans.__(
        'must be whole percentages such as 50, 80, 100'
      );
    } else {
      patch.alert_thresholds = thresholds;
    }
  }
  if (after.hard_stop !== before.hard_stop) {
    patch.hard_stop = after.hard_stop;
  }
  if (after.sensitive !== before.sensitive) {
    patch.sensitive = after.sensitive;
  }
  const minutes = after.min_runtime_minutes.trim();
  if (minutes !== before.min_runtime_minutes) {
    if (!/^\d+(\.\d+)?$/.test(minutes)) {
      errors.min_runtime_minutes = trans.__('must be a number of minutes');
    } else {
      patch.min_runtime_minutes = minutes;
    }
  }
  return { patch, errors };
}

/**
 * The tiers a grant pays for: every tier (null), or the ones checked.
 */
function AllowedTiersField(props: {
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
      {props.error ? (
        <span className="jp-ComputePanel-fieldError" role="alert">
          {props.error}
        </span>
      ) : null}
    </fieldset>
  );
}

/**
 * The grant's two switches, hard stop and sensitive data, with their errors.
 */
function PolicyChecks(props: {
  hardStop: boolean;
  sensitive: boolean;
  errors: { [field: string]: string };
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
      {errors[field] ? (
        <span className="jp-ComputePanel-fieldError" role="alert">
          {errors[field]}
        </span>
      ) : null}
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

/**
 * A labelled field with its error beside it.
 */
function Field(props: {
  id: string;
  label: string;
  error?: string | null;
  hint?: string;
  children: (aria: {
    id: string;
    'aria-invalid'?: boolean;
    'aria-describedby'?: string;
  }) => React.ReactNode;
}): JSX.Element {
  const errorId = `${props.id}-error`;
  return (
    <div className="jp-ComputePanel-field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.children({
        id: props.id,
        'aria-invalid': props.error ? true : undefined,
        'aria-describedby': props.error ? errorId : undefined
      })}
      {props.hint ? (
        <span className="jp-ComputePanel-hint">{props.hint}</span>
      ) : null}
      {props.error ? (
        <span id={errorId} className="jp-ComputePanel-fieldError" role="alert">
          {props.error}
        </span>
      ) : null}
    </div>
  );
}

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
  const [errors, setErrors] = React.useState<{ [field: string]: string }>({});
  const [formError, setFormError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const [saved, setSaved] = React.useState(false);
  const prefix = `jp-ComputePanel-edit-${grant.id}`;

  const set = <K extends keyof IGrantFormValues>(
    key: K,
    value: IGrantFormValues[K]
  ) => {
    setValues(v => ({ ...v, [key]: value }));
    setSaved(false);
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const edit = grantEdit(before, values, trans);
    setErrors(edit.errors);
    setFormError(null);
    if (Object.keys(edit.errors).length) {
      return;
    }
    if (!Object.keys(edit.patch).length) {
      setFormError(trans.__('Nothing to save: no field changed.'));
      return;
    }
    setBusy(true);
    try {
      await props.onSave(edit.patch);
      setSaved(true);
    } catch (reason) {
      const { message, field } = fieldError(reason);
      if (field && field in values) {
        setErrors({ [field]: message });
      } else {
        setFormError(message);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="jp-ComputePanel-form"
      onSubmit={submit}
      aria-label={trans.__('Edit grant %1', grant.award_number)}
    >
      <Field
        id={`${prefix}-title`}
        label={trans.__('Title')}
        error={errors.title}
      >
        {aria => (
          <input
            {...aria}
            className="jp-mod-styled"
            value={values.title}
            onChange={e => set('title', e.target.value)}
          />
        )}
      </Field>
      <Field
        id={`${prefix}-budget`}
        label={trans.__('Budget (%1)', grant.currency)}
        error={errors.budget}
      >
        {aria => (
          <input
            {...aria}
            className="jp-mod-styled"
            inputMode="decimal"
            value={values.budget}
            onChange={e => set('budget', e.target.value)}
          />
        )}
      </Field>
      <Field
        id={`${prefix}-end`}
        label={trans.__('End date')}
        error={errors.end_date}
      >
        {aria => (
          <input
            {...aria}
            type="date"
            className="jp-mod-styled"
            value={values.end_date}
            onChange={e => set('end_date', e.target.value)}
          />
        )}
      </Field>
      <AllowedTiersField
        tiers={props.tiers}
        value={values.allowed_tiers}
        error={errors.allowed_tiers}
        onChange={value => set('allowed_tiers', value)}
        trans={trans}
      />
      <Field
        id={`${prefix}-thresholds`}
        label={trans.__('Alert thresholds (% of the budget)')}
        error={errors.alert_thresholds}
      >
        {aria => (
          <input
            {...aria}
            className="jp-mod-styled"
            value={values.alert_thresholds}
            onChange={e => set('alert_thresholds', e.target.value)}
          />
        )}
      </Field>
      <Field
        id={`${prefix}-minrun`}
        label={trans.__('Minimum runtime a start must afford (minutes)')}
        error={errors.min_runtime_minutes}
      >
        {aria => (
          <input
            {...aria}
            type="number"
            min={0}
            max={1440}
            className="jp-mod-styled"
            value={values.min_runtime_minutes}
            onChange={e => set('min_runtime_minutes', e.target.value)}
          />
        )}
      </Field>
      <PolicyChecks
        hardStop={values.hard_stop}
        sensitive={values.sensitive}
        errors={errors}
        onChange={(field, value) => set(field, value)}
        trans={trans}
      />
      {formError ? (
        <p className="jp-ComputePanel-fieldError" role="alert">
          {formError}
        </p>
      ) : null}
      <div className="jp-ComputePanel-formButtons">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject"
          onClick={props.onClose}
        >
          {trans.__('Close')}
        </button>
        <button
          type="submit"
          className="jp-Button jp-mod-styled jp-mod-accept"
          disabled={busy}
        >
          {busy ? trans.__('Saving…') : trans.__('Save')}
        </button>
        {saved ? (
          <span className="jp-ComputePanel-saved" role="status">
            {trans.__('Saved.')}
          </span>
        ) : null}
      </div>
    </form>
  );
}

export namespace MembersEditor {
  export interface IProps {
    grant: ComputePanelAPI.IGrant;
    editable: boolean;
    trans: TranslationBundle;
    onSet: (user: string, role: ComputePanelAPI.Role) => Promise<void>;
    onRemove: (user: string) => Promise<boolean>;
  }
}

/**
 * The members list: role per user, remove, add.
 */
export function MembersEditor(props: MembersEditor.IProps): JSX.Element {
  const { grant, trans, editable } = props;
  const [user, setUser] = React.useState('');
  const [role, setRole] = React.useState<ComputePanelAPI.Role>('member');
  const [errors, setErrors] = React.useState<{ [user: string]: string }>({});
  const [busy, setBusy] = React.useState<string | null>(null);
  const members = grant.members ?? [];
  const roles: { value: ComputePanelAPI.Role; label: string }[] = [
    { value: 'pi', label: trans.__('PI / co-PI') },
    { value: 'member', label: trans.__('Member (may charge)') },
    { value: 'viewer', label: trans.__('Viewer (sees the dashboard)') }
  ];
  const NEW = '\u0000new';

  const run = async (key: string, action: () => Promise<unknown>) => {
    setBusy(key);
    setErrors(e => ({ ...e, [key]: '' }));
    try {
      await action();
      return true;
    } catch (reason) {
      setErrors(e => ({ ...e, [key]: fieldError(reason).message }));
      return false;
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="jp-ComputePanel-members">
      <table className="jp-ComputePanel-table">
        <caption>{trans.__('Members of %1', grant.award_number)}</caption>
        <thead>
          <tr>
            <th scope="col">{trans.__('User')}</th>
            <th scope="col">{trans.__('Role')}</th>
            {editable ? (
              <th scope="col">
                <span className="jp-ComputePanel-srOnly">
                  {trans.__('Actions')}
                </span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {members.map(member => {
            const isPi = member.user === grant.pi;
            return (
              <tr key={member.user} data-user={member.user}>
                <th scope="row">
                  {member.user}
                  {isPi ? ` (${trans.__('principal investigator')})` : ''}
                </th>
                <td>
                  {editable && !isPi ? (
                    <select
                      className="jp-mod-styled"
                      aria-label={trans.__('Role of %1', member.user)}
                      value={member.role}
                      disabled={busy !== null}
                      onChange={e =>
                        void run(member.user, () =>
                          props.onSet(
                            member.user,
                            e.target.value as ComputePanelAPI.Role
                          )
                        )
                      }
                    >
                      {roles.map(r => (
                        <option key={r.value} value={r.value}>
                          {r.label}
                        </option>
                      ))}
                    </select>
                  ) : (
                    (roles.find(r => r.value === member.role)?.label ??
                    member.role)
                  )}
                  {errors[member.user] ? (
                    <span className="jp-ComputePanel-fieldError" role="alert">
                      {errors[member.user]}
                    </span>
                  ) : null}
                </td>
                {editable ? (
                  <td>
                    {isPi ? null : (
                      <button
                        type="button"
                        className="jp-Button jp-mod-styled jp-mod-reject"
                        disabled={busy !== null}
                        aria-label={trans.__('Remove %1', member.user)}
                        onClick={() =>
                          void run(member.user, () =>
                            props.onRemove(member.user)
                          )
                        }
                      >
                        {trans.__('Remove')}
                      </button>
                    )}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      {editable ? (
        <form
          className="jp-ComputePanel-addMember"
          aria-label={trans.__('Add a member')}
          onSubmit={e => {
            e.preventDefault();
            const name = user.trim();
            if (!name) {
              setErrors(x => ({ ...x, [NEW]: trans.__('Type a user name.') }));
              return;
            }
            void run(NEW, () => props.onSet(name, role)).then(ok => {
              if (ok) {
                setUser('');
              }
            });
          }}
        >
          <label>
            {trans.__('User')}
            <input
              className="jp-mod-styled"
              value={user}
              onChange={e => setUser(e.target.value)}
              aria-invalid={errors[NEW] ? true : undefined}
            />
          </label>
          <label>
            {trans.__('Role')}
            <select
              className="jp-mod-styled"
              value={role}
              onChange={e => setRole(e.target.value as ComputePanelAPI.Role)}
            >
              {roles.map(r => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
          <button
            type="submit"
            className="jp-Button jp-mod-styled jp-mod-accept"
            disabled={busy !== null}
          >
            {trans.__('Add member')}
          </button>
          {errors[NEW] ? (
            <span className="jp-ComputePanel-fieldError" role="alert">
              {errors[NEW]}
            </span>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}

/**
 * The fields of a new grant, as typed.
 */
export interface INewGrantValues {
  id: string;
  award_number: string;
  title: string;
  funder: string;
  pi: string;
  budget: string;
  currency: string;
  start_date: string;
  end_date: string;
  co_pis: string;
  members: string;
  allowed_tiers: string[] | null;
  alert_thresholds: string;
  hard_stop: boolean;
  min_runtime_minutes: string;
  sensitive: boolean;
}

export function emptyNewGrant(today: string): INewGrantValues {
  return {
    id: '',
    award_number: '',
    title: '',
    funder: '',
    pi: '',
    budget: '',
    currency: 'USD',
    start_date: today,
    end_date: '',
    co_pis: '',
    members: '',
    allowed_tiers: null,
    alert_thresholds: '50, 80, 100',
    hard_stop: true,
    min_runtime_minutes: '15',
    sensitive: false
  };
}

const users = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map(u => u.trim())
    .filter(Boolean);

/**
 * The POST /grants body of the form; the server validates every field.
 */
export function newGrantBody(
  values: INewGrantValues
): ComputePanelAPI.INewGrant {
  const body: ComputePanelAPI.INewGrant = {
    id: values.id.trim(),
    award_number: values.award_number.trim(),
    title: values.title.trim(),
    funder: values.funder.trim(),
    pi: values.pi.trim(),
    budget: values.budget.trim(),
    currency: values.currency.trim().toUpperCase(),
    start_date: values.start_date,
    end_date: values.end_date,
    allowed_tiers: values.allowed_tiers,
    hard_stop: values.hard_stop,
    sensitive: values.sensitive
  };
  const coPis = users(values.co_pis);
  if (coPis.length) {
    body.co_pis = coPis;
  }
  const members = users(values.members);
  if (members.length) {
    body.members = members.map(user => ({ user, role: 'member' }));
  }
  const thresholds = parseThresholds(values.alert_thresholds);
  if (thresholds && thresholds.length) {
    body.alert_thresholds = thresholds;
  }
  if (values.min_runtime_minutes.trim() !== '') {
    body.min_runtime_minutes = values.min_runtime_minutes.trim();
  }
  return body;
}

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
  const [errors, setErrors] = React.useState<{ [field: string]: string }>({});
  const [formError, setFormError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const set = <K extends keyof INewGrantValues>(
    key: K,
    value: INewGrantValues[K]
  ) => setValues(v => ({ ...v, [key]: value }));
  const prefix = 'jp-ComputePanel-new';

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setErrors({});
    setFormError(null);
    if (parseThresholds(values.alert_thresholds) === null) {
      setErrors({
        alert_thresholds: trans.__(
          'must be whole percentages such as 50, 80, 100'
        )
      });
      return;
    }
    setBusy(true);
    try {
      await props.onCreate(newGrantBody(values));
    } catch (reason) {
      const { message, field } = fieldError(reason);
      if (field && field in values) {
        setErrors({ [field]: message });
      } else {
        setFormError(message);
      }
    } finally {
      setBusy(false);
    }
  };

  const text = (
    key: keyof INewGrantValues,
    label: string,
    extra: React.InputHTMLAttributes<HTMLInputElement> = {},
    hint?: string
  ) => (
    <Field
      id={`${prefix}-${key}`}
      label={label}
      error={errors[key]}
      hint={hint}
    >
      {aria => (
        <input
          {...aria}
          {...extra}
          name={key}
          className="jp-mod-styled"
          value={values[key] as string}
          onChange={e => set(key, e.target.value as any)}
        />
      )}
    </Field>
  );

  return (
    <form
      className="jp-ComputePanel-form jp-ComputePanel-newGrant"
      onSubmit={submit}
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
      {formError ? (
        <p className="jp-ComputePanel-fieldError" role="alert">
          {formError}
        </p>
      ) : null}
      <div className="jp-ComputePanel-formButtons">
        <button
          type="submit"
          className="jp-Button jp-mod-styled jp-mod-accept"
          disabled={busy}
        >
          {busy ? trans.__('Creating…') : trans.__('Create grant')}
        </button>
      </div>
    </form>
  );
}
