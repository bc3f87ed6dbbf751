/**
 * A grant's members: the role of each user, remove, add. One action at a
 * time; a refusal stays on the row (or the add form) it is about.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../../api';
import { ISubmit, useSubmit } from '../useSubmit';
import { FieldError } from './fields';

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
 * The key of the add form's action and message (never a user name).
 */
const NEW = '\u0000new';

interface IRole {
  value: ComputePanelAPI.Role;
  label: string;
}

function roleChoices(trans: TranslationBundle): IRole[] {
  return [
    { value: 'pi', label: trans.__('PI / co-PI') },
    { value: 'member', label: trans.__('Member (may charge)') },
    { value: 'viewer', label: trans.__('Viewer (sees the dashboard)') }
  ];
}

function RoleOptions(props: { roles: IRole[] }): JSX.Element {
  return (
    <>
      {props.roles.map(r => (
        <option key={r.value} value={r.value}>
          {r.label}
        </option>
      ))}
    </>
  );
}

/**
 * The members list: role per user, remove, add.
 */
export function MembersEditor(props: MembersEditor.IProps): JSX.Element {
  const { grant, trans, editable } = props;
  const submit = useSubmit();
  const members = grant.members ?? [];
  const roles = roleChoices(trans);
  const node = React.useRef<HTMLDivElement>(null);
  // The member being removed and their row's place: once the row is gone,
  // focus goes to the row now there (or the last one, or the add form)
  // rather than to the page.
  const removing = React.useRef<{ user: string; index: number } | null>(null);
  React.useEffect(() => {
    const pending = removing.current;
    // The row's controls are disabled until the removal's action is over.
    if (
      !pending ||
      submit.busy !== null ||
      members.some(m => m.user === pending.user)
    ) {
      return;
    }
    removing.current = null;
    const rows = node.current?.querySelectorAll('tbody tr') ?? [];
    const row = rows[Math.min(pending.index, rows.length - 1)];
    const target =
      row?.querySelector<HTMLElement>('button, select') ??
      node.current?.querySelector<HTMLElement>('form input');
    target?.focus();
  }, [members, submit.busy]);
  const onRemove = async (user: string): Promise<boolean> => {
    removing.current = {
      user,
      index: members.findIndex(m => m.user === user)
    };
    try {
      const removed = await props.onRemove(user);
      if (!removed) {
        removing.current = null;
      }
      return removed;
    } catch (error) {
      removing.current = null;
      throw error;
    }
  };

  return (
    <div className="jp-ComputePanel-members" ref={node}>
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
          {members.map(member => (
            <MemberRow
              key={member.user}
              member={member}
              isPi={member.user === grant.pi}
              roles={roles}
              editable={editable}
              trans={trans}
              onSet={props.onSet}
              onRemove={onRemove}
              submit={submit}
            />
          ))}
        </tbody>
      </table>
      {editable ? (
        <AddMemberForm
          roles={roles}
          trans={trans}
          onSet={props.onSet}
          submit={submit}
        />
      ) : null}
    </div>
  );
}

function MemberRow(
  props: Pick<
    MembersEditor.IProps,
    'editable' | 'trans' | 'onSet' | 'onRemove'
  > & {
    member: ComputePanelAPI.IMember;
    isPi: boolean;
    roles: IRole[];
    submit: ISubmit;
  }
): JSX.Element {
  const { member, isPi, roles, submit, trans, editable } = props;
  const { user } = member;
  return (
    <tr data-user={user}>
      <th scope="row">
        {user}
        {isPi ? ` (${trans.__('principal investigator')})` : ''}
      </th>
      <td>
        {editable && !isPi ? (
          <select
            className="jp-mod-styled"
            aria-label={trans.__('Role of %1', user)}
            value={member.role}
            disabled={submit.busy !== null}
            onChange={e =>
              void submit.run(user, () =>
                props.onSet(user, e.target.value as ComputePanelAPI.Role)
              )
            }
          >
            <RoleOptions roles={roles} />
          </select>
        ) : (
          (roles.find(r => r.value === member.role)?.label ?? member.role)
        )}
        <FieldError message={submit.errors[user]} />
      </td>
      {editable ? (
        <td>
          {isPi ? null : (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-reject"
              disabled={submit.busy !== null}
              aria-label={trans.__('Remove %1', user)}
              onClick={() => void submit.run(user, () => props.onRemove(user))}
            >
              {trans.__('Remove')}
            </button>
          )}
        </td>
      ) : null}
    </tr>
  );
}

function AddMemberForm(props: {
  roles: IRole[];
  trans: TranslationBundle;
  onSet: MembersEditor.IProps['onSet'];
  submit: ISubmit;
}): JSX.Element {
  const { roles, trans, submit } = props;
  const [user, setUser] = React.useState('');
  const [role, setRole] = React.useState<ComputePanelAPI.Role>('member');
  const error = submit.errors[NEW];
  return (
    <form
      className="jp-ComputePanel-addMember"
      aria-label={trans.__('Add a member')}
      onSubmit={e => {
        e.preventDefault();
        const name = user.trim();
        if (!name) {
          submit.showError(NEW, trans.__('Type a user name.'));
          return;
        }
        void submit
          .run(NEW, () => props.onSet(name, role))
          .then(ok => {
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
          aria-invalid={error ? true : undefined}
        />
      </label>
      <label>
        {trans.__('Role')}
        <select
          className="jp-mod-styled"
          value={role}
          onChange={e => setRole(e.target.value as ComputePanelAPI.Role)}
        >
          <RoleOptions roles={roles} />
        </select>
      </label>
      <button
        type="submit"
        className="jp-Button jp-mod-styled jp-mod-accept"
        disabled={submit.busy !== null}
      >
        {trans.__('Add member')}
      </button>
      <FieldError message={error} />
    </form>
  );
}
