import { Notification } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { acceptDialog, waitForDialog } from '@jupyterlab/testing';

import { ComputePanelError } from '../api';
import { ComputePanelModel } from '../model';
import { moveToTier } from '../panel/move';
import { METADATA_KEY } from '../tokens';
import { makeFakeClient } from './fixtures';

/**
 * The new kernel, its websocket open.
 */
const CONNECTED = { connectionStatus: 'connected', isDisposed: false };

/**
 * A notebook whose session context records kernel changes.
 */
function makeNotebook(changeKernel: jest.Mock) {
  const signal = { connect: () => true, disconnect: () => true };
  const metadata = new Map<string, unknown>();
  const sessionContext = {
    session: { kernel: { id: 'k0', name: 'compute-panel-local-python3' } },
    kernelChanged: signal,
    sessionChanged: signal,
    isDisposed: false,
    changeKernel
  };
  const panel = {
    title: { label: 'a.ipynb' },
    context: { path: 'a.ipynb' },
    disposed: signal,
    sessionContext,
    model: {
      metadataChanged: signal,
      getMetadata: (key: string) => metadata.get(key),
      setMetadata: (key: string, value: unknown) => metadata.set(key, value),
      deleteMetadata: (key: string) => metadata.delete(key)
    }
  } as unknown as NotebookPanel;
  return { panel, metadata, sessionContext };
}

describe('moveToTier (no confirmation, bound grant)', () => {
  let client: ReturnType<typeof makeFakeClient>;
  let model: ComputePanelModel;

  beforeEach(async () => {
    client = makeFakeClient();
    client.getBinding.mockResolvedValue({
      path: 'a.ipynb',
      grant_id: 'nsf-1',
      tier_id: 'h200'
    });
    client.putBinding.mockImplementation(async binding => ({ ...binding }));
    model = new ComputePanelModel({ client, poll: false });
    await model.initialize();
    model.setSettings({ confirmPaidTiers: false });
  });

  afterEach(() => {
    model.dispose();
    jest.restoreAllMocks();
  });

  it('binds the grant, writes metadata and changes the kernel', async () => {
    const changeKernel = jest.fn().mockResolvedValue(CONNECTED);
    const { panel, metadata } = makeNotebook(changeKernel);
    model.setNotebook(panel);

    expect(await moveToTier({ model, panel, tierId: 'h200' })).toBe(true);
    expect(client.putBinding).toHaveBeenCalledWith({
      path: 'a.ipynb',
      grant_id: 'nsf-1',
      tier_id: 'h200'
    });
    expect(metadata.get(METADATA_KEY)).toEqual({
      tier: 'h200',
      grant: 'nsf-1'
    });
    expect(changeKernel).toHaveBeenCalledWith({
      name: 'compute-panel-h200-python3'
    });
  });

  it('moves the notebook it is given, not the one the model follows', async () => {
    const followed = makeNotebook(jest.fn().mockResolvedValue(CONNECTED));
    model.setNotebook(followed.panel);
    const changeKernel = jest.fn().mockResolvedValue(CONNECTED);
    const { panel, metadata } = makeNotebook(changeKernel);

    expect(await moveToTier({ model, panel, tierId: 'h200' })).toBe(true);
    expect(changeKernel).toHaveBeenCalledWith({
      name: 'compute-panel-h200-python3'
    });
    expect(metadata.get(METADATA_KEY)).toEqual({
      tier: 'h200',
      grant: 'nsf-1'
    });
    expect(followed.sessionContext.changeKernel).not.toHaveBeenCalled();
    expect(followed.metadata.has(METADATA_KEY)).toBe(false);
  });

  it('puts its metadata back when the start is refused, and leaves the saying to the refusals plugin', async () => {
    const sentence =
      'Grant NSF-1 has 0.20 USD left, less than 10 minutes on H200 training.';
    const changeKernel = jest.fn().mockRejectedValue(new Error(sentence));
    const { panel, metadata } = makeNotebook(changeKernel);
    metadata.set(METADATA_KEY, { tier: 'local', grant: null });
    model.setNotebook(panel);
    const notify = jest.spyOn(Notification, 'error');

    expect(await moveToTier({ model, panel, tierId: 'h200' })).toBe(false);
    // JupyterLab's dialog of the failure, which the refusals plugin replaces, is the one message.
    expect(notify).not.toHaveBeenCalled();
    expect(metadata.get(METADATA_KEY)).toEqual({ tier: 'local', grant: null });
  });

  it('does not change the kernel when the server refuses the grant', async () => {
    client.putBinding.mockRejectedValue(
      new ComputePanelError({
        status: 409,
        message: 'The grant NSF-1 has ended.',
        field: 'grant_id'
      })
    );
    const changeKernel = jest.fn();
    const { panel, metadata } = makeNotebook(changeKernel);
    model.setNotebook(panel);
    const moved = moveToTier({ model, panel, tierId: 'h200' });
    await waitForDialog();
    const dialog = document.body.querySelector('.jp-Dialog')!;
    expect(dialog.textContent).toContain('The grant NSF-1 has ended.');
    await acceptDialog();

    expect(await moved).toBe(false);
    expect(changeKernel).not.toHaveBeenCalled();
    expect(metadata.has(METADATA_KEY)).toBe(false);
  });
});
