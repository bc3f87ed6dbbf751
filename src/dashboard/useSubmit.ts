/**
 * The one submit logic of the dashboard's forms and action buttons: which
 * action is under way, the messages by where they show, the last success.
 */
import * as React from 'react';

import { fieldError } from './model';

/**
 * The key of a whole form's (or a group of buttons') own action and of the
 * message shown for it rather than beside a field.
 */
export const FORM = '\u0000form';

/**
 * Messages by the key of where they show: a field, a row, or FORM. An empty
 * message shows nothing.
 */
export interface IMessages {
  readonly [key: string]: string;
}

/**
 * What a form finds wrong itself, and what it sends when nothing is.
 */
export interface IFormCheck {
  /**
   * By field, or FORM; empty to send.
   */
  errors: IMessages;
  send: () => Promise<unknown>;
}

export interface ISubmit {
  /**
   * The key of the action under way, or null; the buttons wait for it.
   */
  readonly busy: string | null;
  readonly errors: IMessages;
  /**
   * The key of the last action that succeeded, until `edited()`.
   */
  readonly succeeded: string | null;
  /**
   * Show these messages instead of all the others.
   */
  showErrors(errors: IMessages): void;
  /**
   * Show one message, keeping the others.
   */
  showError(key: string, message: string): void;
  /**
   * The user changed something: the last success no longer shows.
   */
  edited(): void;
  /**
   * Run one action under `key`: busy while it runs, its message cleared;
   * a refusal shows beside the field it names when that is one of
   * `fields`, at `key` otherwise. Resolves to whether it succeeded.
   */
  run(
    key: string,
    action: () => Promise<unknown>,
    fields?: ReadonlyArray<string>
  ): Promise<boolean>;
  /**
   * A form's submit handler: the form's own check replaces the messages
   * shown; when it finds nothing, the form's action runs under FORM.
   */
  form(
    check: () => IFormCheck,
    fields: ReadonlyArray<string>
  ): (event: React.FormEvent) => void;
}

export function useSubmit(): ISubmit {
  const [busy, setBusy] = React.useState<string | null>(null);
  const [errors, setErrors] = React.useState<IMessages>({});
  const [succeeded, setSucceeded] = React.useState<string | null>(null);

  const showError = (key: string, message: string) =>
    setErrors(current => ({ ...current, [key]: message }));

  const run = async (
    key: string,
    action: () => Promise<unknown>,
    fields: ReadonlyArray<string> = []
  ): Promise<boolean> => {
    setBusy(key);
    showError(key, '');
    try {
      await action();
      setSucceeded(key);
      return true;
    } catch (reason) {
      const { message, field } = fieldError(reason);
      showError(field && fields.includes(field) ? field : key, message);
      return false;
    } finally {
      setBusy(null);
    }
  };

  return {
    busy,
    errors,
    succeeded,
    showErrors: setErrors,
    showError,
    edited: () => setSucceeded(null),
    run,
    form: (check, fields) => event => {
      event.preventDefault();
      const { errors: found, send } = check();
      setErrors(found);
      if (!Object.keys(found).length) {
        void run(FORM, send, fields);
      }
    }
  };
}
