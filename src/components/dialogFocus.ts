/**
 * Keyboard order for our dialogs whose body has fields.
 *
 * JupyterLab's Dialog looks for its first focusable element when it
 * attaches: Tab on the last button wraps there. A ReactWidget body renders
 * only after that, so the dialog found none in it and Tab cycled the buttons
 * alone (the fields were reachable with Shift+Tab only). Rendering the body
 * first gives the order fields, then Cancel, then the default button, and
 * back to the first field.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { ReactWidget } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { flushSync } from 'react-dom';

/**
 * Render a ReactWidget now, synchronously, detached or not.
 */
export function renderNow(widget: ReactWidget): void {
  flushSync(() => {
    MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest);
  });
}

/**
 * Whether focus is nowhere in particular (on the page itself).
 */
function focusLost(): boolean {
  const active = document.activeElement;
  return !active || active === document.body;
}

/**
 * Give focus back to `opener` when the dialog that closed left it nowhere:
 * the dialog restores the element focused when it opened, which is the page
 * itself when the opener was disabled or re-rendered meanwhile.
 */
export function returnFocus(opener: Element | null): void {
  if (
    focusLost() &&
    opener instanceof HTMLElement &&
    opener.isConnected &&
    !opener.matches(':disabled')
  ) {
    opener.focus();
  }
}

/**
 * `showDialog` for a body with fields: the body rendered before the dialog
 * attaches (Tab reaches every field), and focus back on what had it before.
 */
export async function showFieldsDialog<T>(
  options: Partial<Dialog.IOptions<T>> & {
    body: ReactWidget & Dialog.IBodyWidget<T>;
  }
): Promise<Dialog.IResult<T>> {
  const opener = document.activeElement;
  renderNow(options.body);
  try {
    return await showDialog<T>(options);
  } finally {
    returnFocus(opener);
  }
}
