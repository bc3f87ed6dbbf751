/**
 * Notifications that read whole: JupyterLab cuts a notification's message
 * after 140 characters ('…'), so each says one short thing, and what more
 * there is to say (the server's whole sentence, what the reader can do in
 * their role) opens from its *Details* action.
 */
import * as React from 'react';

import { Notification, showDialog, Dialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';

/**
 * The longest message JupyterLab shows whole.
 */
export const NOTIFICATION_LIMIT = 140;

/**
 * The reader's part in a grant: their role on it (undefined: an admin who
 * has none; null: the grant is not known here) and its PI.
 */
export interface IReader {
  role: ComputePanelAPI.Role | undefined | null;
  pi: string | null;
}

/**
 * The reader of a grant's notification, from the grants the model holds.
 */
export function readerOf(
  grants: ReadonlyArray<ComputePanelAPI.IGrant>,
  grantId: string | null | undefined
): IReader {
  const grant = grants.find(g => g.id === grantId);
  return grant
    ? { role: grant.role, pi: grant.pi ?? null }
    : { role: null, pi: null };
}

/**
 * What the reader can do about a spent budget, said to them in their role
 * (a PI is not told to ask its PI).
 */
export function spentAdvice(reader: IReader, trans: TranslationBundle): string {
  switch (reader.role) {
    case 'pi':
      return trans.__(
        'You are its PI: raise its budget on its dashboard, and use a free tier meanwhile.'
      );
    case undefined:
      return trans.__(
        'As an admin, you can raise its budget on its dashboard; use a free tier meanwhile.'
      );
    case 'member':
      return reader.pi
        ? trans.__(
            'Ask its PI, %1, to raise the budget, and use a free tier meanwhile.',
            reader.pi
          )
        : trans.__(
            'Ask its PI to raise the budget, and use a free tier meanwhile.'
          );
    case 'viewer':
      return reader.pi
        ? trans.__('Its PI, %1, can raise the budget.', reader.pi)
        : trans.__('Its PI can raise the budget.');
    default:
      return trans.__(
        "The grant's PI can raise its budget; use a free tier meanwhile."
      );
  }
}

/**
 * A *Details* action that shows the whole story in a dialog.
 */
export function detailsAction(
  title: string,
  paragraphs: ReadonlyArray<string>,
  trans: TranslationBundle
): Notification.IAction {
  return {
    label: trans.__('Details'),
    caption: trans.__('Read the whole message and what you can do'),
    callback: event => {
      // The notification stays: the details are read beside it.
      event.preventDefault();
      void showDialog({
        title,
        body: (
          <div className="jp-ComputePanel-notificationDetails">
            {paragraphs
              .filter(text => !!text)
              .map((text, index) => (
                <p key={index}>{text}</p>
              ))}
          </div>
        ),
        buttons: [Dialog.okButton({ label: trans.__('Close') })]
      });
    }
  };
}
