import { Dialog } from '@jupyterlab/apputils';
import { waitForDialog } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { showFieldsDialog } from '../components/dialogFocus';
import { IMoveChoice, MoveDialogBody } from '../components/MoveDialog';
import { makeGrant, TIERS } from './fixtures';

const trans = nullTranslator.load('jupyterlab_compute_panel');

/**
 * Tab in the dialog, from what has focus (JupyterLab's Dialog wraps Tab on
 * its last button to its first focusable element; between, the browser's
 * own order applies, which jsdom does not follow).
 */
function tab(): void {
  document.activeElement!.dispatchEvent(
    new KeyboardEvent('keydown', {
      key: 'Tab',
      bubbles: true,
      cancelable: true
    })
  );
}

describe('showFieldsDialog', () => {
  let opener: HTMLButtonElement;

  beforeEach(() => {
    opener = document.createElement('button');
    opener.textContent = 'Move here';
    document.body.appendChild(opener);
    opener.focus();
  });

  afterEach(() => {
    opener.remove();
  });

  const show = (grantId: string | null) =>
    showFieldsDialog<IMoveChoice>({
      title: 'Move to H200 training?',
      body: new MoveDialogBody({
        tier: TIERS[2],
        grants: [makeGrant('nsf-1'), makeGrant('erc-2')],
        initial: { grantId, rerun: false },
        trans
      }),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Move' })],
      focusNodeSelector: grantId ? undefined : 'select'
    });

  it('wraps Tab from the last button to the grant picker (not to Cancel), and Shift+Tab back', async () => {
    const result = show('nsf-1');
    await waitForDialog();
    const dialog = document.querySelector('.jp-Dialog') as HTMLElement;
    const buttons = dialog.querySelectorAll<HTMLButtonElement>(
      '.jp-Dialog-footer button'
    );
    const move = buttons[buttons.length - 1];
    move.focus();
    tab();
    expect(document.activeElement).toBe(dialog.querySelector('select'));

    // Backwards from the first field: round to the last button.
    (document.activeElement as HTMLElement).dispatchEvent(
      new KeyboardEvent('keydown', {
        key: 'Tab',
        shiftKey: true,
        bubbles: true,
        cancelable: true
      })
    );
    expect(document.activeElement).toBe(move);

    move.click();
    expect((await result).value).toEqual({ grantId: 'nsf-1', rerun: false });
  });

  it('gives focus back to the opener when the dialog closes', async () => {
    const result = show(null);
    await waitForDialog();
    const dialog = document.querySelector('.jp-Dialog') as HTMLElement;
    // Focus went to the grant to choose.
    await (Dialog.tracker.currentWidget as Dialog<IMoveChoice>).ready;
    expect(document.activeElement).toBe(dialog.querySelector('select'));
    dialog.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })
    );
    expect((await result).button.accept).toBe(false);
    expect(document.activeElement).toBe(opener);
  });

  it('wraps Tab from the last button into a radio group at its checked radio', async () => {
    class Choice extends ReactWidget implements Dialog.IBodyWidget<string> {
      getValue(): string {
        return (
          this.node.querySelector<HTMLInputElement>('input:checked')?.value ??
          ''
        );
      }
      render() {
        return (
          <fieldset>
            {['local', 'rtx4090', 'h200'].map(tier => (
              <label key={tier}>
                <input
                  type="radio"
                  name="tier"
                  value={tier}
                  defaultChecked={tier === 'h200'}
                />
                {tier}
              </label>
            ))}
          </fieldset>
        );
      }
    }
    const result = showFieldsDialog<string>({
      title: 'Re-run on…',
      body: new Choice(),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Re-run' })]
    });
    await waitForDialog();
    const dialog = document.querySelector('.jp-Dialog') as HTMLElement;
    const buttons = dialog.querySelectorAll<HTMLButtonElement>(
      '.jp-Dialog-footer button'
    );
    const rerun = buttons[buttons.length - 1];
    rerun.focus();
    tab();
    expect((document.activeElement as HTMLInputElement).value).toBe('h200');
    rerun.click();
    expect((await result).value).toBe('h200');
  });
});
