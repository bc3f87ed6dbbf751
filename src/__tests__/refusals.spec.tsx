import { Dialog, SessionContext } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Session } from '@jupyterlab/services';
import {
  KernelSpecManagerMock,
  SessionManagerMock
} from '@jupyterlab/services/lib/testutils';
import { sleep } from '@jupyterlab/testing';
import { Signal } from '@lumino/signaling';

import { StartFailureGuard, SUPERSEDED_CLASS } from '../refusals/guard';

const SENTENCE =
  'H200 training is a paid tier (3.50 USD per hour), and no grant is chosen for this notebook: choose one in the compute panel (or set COMPUTE_PANEL_GRANT) and start it again.';

const VIEWER =
  'You can view grant NSF CNS-2401234 but not charge it: ask its PI (someone-else) to make you a member, or choose another grant.';

/**
 * JupyterLab's own SessionContext over mocked server sessions, in a notebook
 * tracker of one panel.
 */
function makeNotebook(sessions: Session.IManager) {
  const sessionContext = new SessionContext({
    sessionManager: sessions,
    specsManager: new KernelSpecManagerMock(),
    path: 'a.ipynb',
    kernelPreference: { name: 'python3' }
  });
  const panel = {
    id: 'nb-a',
    isDisposed: false,
    title: { label: 'a.ipynb' },
    context: { path: 'a.ipynb' },
    sessionContext
  } as unknown as NotebookPanel;
  const tracker = {
    widgetAdded: new Signal<INotebookTracker, NotebookPanel>(
      {} as INotebookTracker
    ),
    forEach: (fn: (p: NotebookPanel) => void) => fn(panel),
    find: (fn: (p: NotebookPanel) => boolean) => (fn(panel) ? panel : undefined)
  } as unknown as INotebookTracker;
  return { panel, sessionContext, tracker };
}

/**
 * Resolves once `check` holds (polled), or fails after 10 s.
 */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) {
    await sleep(25);
  }
  expect(check()).toBe(true);
}

/**
 * The dialog on screen, once one is shown, not hidden, and rendered.
 */
async function shownDialog(): Promise<HTMLElement> {
  let node: HTMLElement | null = null;
  await until(() => {
    node = document.body.querySelector(`.jp-Dialog:not(.${SUPERSEDED_CLASS})`);
    return (
      !!node?.querySelector('.jp-Dialog-header')?.textContent?.trim() &&
      !!node?.querySelector('.jp-Dialog-body')?.firstElementChild
    );
  });
  return node!;
}

function button(dialog: HTMLElement, label: string): HTMLButtonElement {
  const found = Array.from(dialog.querySelectorAll('button')).find(
    b => b.textContent?.trim() === label
  );
  if (!found) {
    throw new Error(`no button ${label} in ${dialog.textContent}`);
  }
  return found as HTMLButtonElement;
}

describe('StartFailureGuard', () => {
  let sessions: Session.IManager;
  let actions: {
    localTier: jest.Mock;
    kernelLabel: jest.Mock;
    openPanel: jest.Mock;
    moveToTier: jest.Mock;
  };
  let refusals: { restartRefusal: jest.Mock };
  let guard: StartFailureGuard;

  beforeEach(() => {
    sessions = new SessionManagerMock();
    refusals = { restartRefusal: jest.fn(async () => null) };
    actions = {
      localTier: jest.fn(() => ({ id: 'local', label: 'Local CPU' })),
      kernelLabel: jest.fn(() => 'Local CPU'),
      openPanel: jest.fn(async () => undefined),
      moveToTier: jest.fn(async () => undefined)
    };
  });

  afterEach(() => {
    guard.dispose();
    Dialog.tracker.forEach(dialog => dialog.reject());
  });

  it('keeps a refused kernel change on the kernel the server kept, and says the sentence wrapped', async () => {
    const { panel, sessionContext, tracker } = makeNotebook(sessions);
    guard = new StartFailureGuard({ tracker, sessions, refusals, actions });
    await sessionContext.initialize();
    const before = sessionContext.session!.kernel!.model;
    // The server kept the session of a.ipynb on its kernel.
    (sessions.running as jest.Mock).mockImplementation(() =>
      [
        {
          id: 's-a',
          path: 'a.ipynb',
          name: '',
          type: 'notebook',
          kernel: before
        }
      ][Symbol.iterator]()
    );
    // The server refuses the PATCH: JupyterLab drops the session, shows its dialog.
    (sessionContext.session!.changeKernel as jest.Mock).mockRejectedValue(
      new Error(SENTENCE)
    );
    await expect(
      sessionContext.changeKernel({ name: 'compute-panel-h200-python3' })
    ).rejects.toThrow(SENTENCE);

    const dialog = await shownDialog();
    expect(dialog.textContent).toContain('Kernel not started');
    expect(dialog.textContent).not.toContain('Error Starting Kernel');
    const sentence = dialog.querySelector('.jp-ComputePanel-refusalSentence')!;
    expect(sentence.tagName).toBe('P'); // wrapped, not a <pre> to scroll
    expect(sentence.textContent).toBe(SENTENCE);
    expect(dialog.textContent).toContain(
      'a.ipynb is on its kernel, Local CPU.'
    );
    // Reattached to the kernel the server session still has.
    expect(sessionContext.session?.kernel?.id).toBe(before.id);
    expect(document.body.querySelectorAll('.jp-Dialog')).toHaveLength(1);

    button(dialog, 'Open Compute Panel').click();
    await until(() => actions.openPanel.mock.calls.length > 0);
    expect(actions.moveToTier).not.toHaveBeenCalled();
    expect(panel.sessionContext.session).not.toBeNull();
  });

  it('says a notebook opened on a refused tier has no kernel, and starts it on Local CPU', async () => {
    (sessions.startNew as jest.Mock).mockRejectedValue(new Error(SENTENCE));
    const { panel, sessionContext, tracker } = makeNotebook(sessions);
    guard = new StartFailureGuard({ tracker, sessions, refusals, actions });
    // JupyterLab swallows the failure and asks for a kernel selection.
    expect(await sessionContext.initialize()).toBe(true);

    const dialog = await shownDialog();
    expect(dialog.textContent).toContain(SENTENCE);
    expect(dialog.textContent).toContain('a.ipynb has no kernel now.');
    button(dialog, 'Start on Local CPU').click();
    await until(() => actions.moveToTier.mock.calls.length > 0);
    expect(actions.moveToTier).toHaveBeenCalledWith(panel, 'local');
  });

  it('leaves a failed start with a traceback to JupyterLab', async () => {
    const crash = Object.assign(new Error('Kernel died before replying'), {
      traceback: 'Traceback (most recent call last): ...'
    });
    (sessions.startNew as jest.Mock).mockRejectedValue(crash);
    const { sessionContext, tracker } = makeNotebook(sessions);
    guard = new StartFailureGuard({ tracker, sessions, refusals, actions });
    expect(await sessionContext.initialize()).toBe(true);

    const dialog = await shownDialog();
    expect(dialog.textContent).toContain('Error Starting Kernel');
    expect(dialog.querySelector('details')).not.toBeNull();
    expect(dialog.querySelector('.jp-ComputePanel-refusal')).toBeNull();
  });

  it('after a refused restart says the sentence, that the notebook has no kernel, and starts it on Local CPU', async () => {
    const { panel, sessionContext, tracker } = makeNotebook(sessions);
    guard = new StartFailureGuard({ tracker, sessions, refusals, actions });
    await sessionContext.initialize();
    const kernel = sessionContext.session!.kernel!;
    // The server answered the restart 403 and dropped the kernel; it keeps the sentence.
    (kernel.restart as jest.Mock).mockRejectedValue(
      new Error('Exception restarting kernel')
    );
    refusals.restartRefusal.mockImplementation(async (id: string) =>
      id === kernel.id
        ? { kernel_id: id, message: VIEWER, reason: 'refused', at: '' }
        : null
    );
    // JupyterLab's own restart: it logs the failure and resolves.
    const logged = jest.spyOn(console, 'error').mockImplementation(() => {});
    await sessionContext.restartKernel();
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
    expect(sessionContext.isReady).toBe(false);

    const dialog = await shownDialog();
    expect(refusals.restartRefusal).toHaveBeenCalledWith(kernel.id);
    expect(dialog.textContent).toContain('Kernel not restarted');
    const sentence = dialog.querySelector('.jp-ComputePanel-refusalSentence')!;
    expect(sentence.tagName).toBe('P');
    expect(sentence.textContent).toBe(VIEWER);
    expect(dialog.textContent).toContain('a.ipynb has no kernel now.');
    // The notebook no longer claims the kernel the server dropped.
    expect(sessionContext.session).toBeNull();
    expect(sessionContext.kernelDisplayName).toBe('No Kernel');
    expect(document.body.querySelectorAll('.jp-Dialog')).toHaveLength(1);
    button(dialog, 'Start on Local CPU').click();
    await until(() => actions.moveToTier.mock.calls.length > 0);
    expect(actions.moveToTier).toHaveBeenCalledWith(panel, 'local');
  });

  it('leaves a restart that succeeds, or fails without a refusal, to JupyterLab', async () => {
    const { sessionContext, tracker } = makeNotebook(sessions);
    guard = new StartFailureGuard({ tracker, sessions, refusals, actions });
    await sessionContext.initialize();
    const kernel = sessionContext.session!.kernel!;
    await sessionContext.restartKernel(); // the same kernel, ready
    expect(refusals.restartRefusal).not.toHaveBeenCalled();

    (kernel.restart as jest.Mock).mockRejectedValue(
      new Error('Kernel is dead')
    );
    const logged = jest.spyOn(console, 'error').mockImplementation(() => {});
    await sessionContext.restartKernel();
    logged.mockRestore();
    await until(() => refusals.restartRefusal.mock.calls.length > 0);
    await sleep(100);
    expect(document.body.querySelector('.jp-Dialog')).toBeNull();
    expect(sessionContext.session?.kernel?.id).toBe(kernel.id);
  });
});
