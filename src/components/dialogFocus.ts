/**
 * Keyboard order for our dialogs whose body has fields.
 *
 * JupyterLab's Dialog looks for its first focusable element when it
 * attaches: Tab on the last button wraps there. A ReactWidget body renders
 * only after that, so the dialog found none in it and Tab cycled the buttons
 * alone (the fields were reachable with Shift+Tab only). Rendering the body
 * first gives the order fields, then Cancel, then the default button, and
 * back to the first field (a radio group entered at its checked radio).
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

const FOCUSABLE = 'input, select, textarea, button, a[href], [tabindex]';

/**
 * Shift+Tab on a dialog body's first field goes round to the dialog's last
 * button. (JupyterLab's Dialog wraps Tab forwards only; backwards, focus
 * left the dialog and its trap brought it back to the same field.)
 */
function wrapBackwards(body: Widget): void {
  body.node.addEventListener('keydown', event => {
    if (event.key !== 'Tab' || !event.shiftKey) {
      return;
    }
    const first = body.node.querySelector(FOCUSABLE);
    const target = event.target;
    // A radio group is one stop: Shift+Tab leaves it from any of its radios.
    const inFirst =
      target === first ||
      (first instanceof HTMLInputElement &&
        first.type === 'radio' &&
        target instanceof HTMLInputElement &&
        target.type === 'radio' &&
        target.name === first.name);
    const buttons = body.node
      .closest('.jp-Dialog')
      ?.querySelectorAll<HTMLButtonElement>('.jp-Dialog-footer button');
    if (inFirst && buttons && buttons.length) {
      event.preventDefault();
      buttons[buttons.length - 1].focus();
    }
  });
}

/**
 * The radio a Tab into `radio`'s group should land on: the group's checked
 * one (a radio group is one stop, entered at its choice), else `radio`.
 */
function groupStop(radio: HTMLInputElement, scope: Element): HTMLInputElement {
  if (!radio.name) {
    return radio;
  }
  const checked = Array.from(
    scope.querySelectorAll<HTMLInputElement>('input[type="radio"]')
  ).find(other => other.name === radio.name && other.checked);
  return checked ?? radio;
}

/**
 * Tab on the last button enters the body's first radio group at its checked
 * radio. (JupyterLab's Dialog wraps to its first focusable element, which is
 * the group's first radio whichever is checked.) Listens on the page, before
 * the Dialog's own handler, and does its wrap itself in that case. Returns
 * what removes the listener.
 */
function wrapForwardsIntoGroups(body: Widget): () => void {
  const onKeydown = (event: KeyboardEvent) => {
    if (event.key !== 'Tab' || event.shiftKey) {
      return;
    }
    const buttons = body.node
      .closest('.jp-Dialog')
      ?.querySelectorAll<HTMLButtonElement>('.jp-Dialog-footer button');
    const first = body.node.querySelector(FOCUSABLE);
    if (
      !buttons?.length ||
      event.target !== buttons[buttons.length - 1] ||
      !(first instanceof HTMLInputElement) ||
      first.type !== 'radio'
    ) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    groupStop(first, body.node).focus();
  };
  document.body.addEventListener('keydown', onKeydown, true);
  return () => document.body.removeEventListener('keydown', onKeydown, true);
}

/**
 * `showDialog` for a body with fields: the body rendered before the dialog
 * attaches (Tab reaches every field, Shift+Tab goes round too), and focus
 * back on what had it before.
 */
export async function showFieldsDialog<T>(
  options: Partial<Dialog.IOptions<T>> & {
    body: ReactWidget & Dialog.IBodyWidget<T>;
  }
): Promise<Dialog.IResult<T>> {
  const opener = document.activeElement;
  renderNow(options.body);
  wrapBackwards(options.body);
  const unwrap = wrapForwardsIntoGroups(options.body);
  try {
    return await showDialog<T>(options);
  } finally {
    unwrap();
    returnFocus(opener);
  }
}
