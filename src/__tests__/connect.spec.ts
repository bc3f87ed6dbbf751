import { Notification } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { ensureConnected, whenConnected } from '../panel/connect';

const trans = nullTranslator.load('jupyterlab_compute_panel');

/**
 * A kernel connection whose websocket opens when `open()` is called, and on
 * `reconnect()` only if `opensOnReconnect`.
 */
function makeKernel(opensOnReconnect: boolean) {
  const kernel = {
    connectionStatus: 'connecting' as Kernel.ConnectionStatus,
    isDisposed: false,
    reconnect: jest.fn(async () => {
      if (opensOnReconnect) {
        open();
      }
    })
  } as unknown as Kernel.IKernelConnection & { reconnect: jest.Mock };
  const statusChanged = new Signal<
    Kernel.IKernelConnection,
    Kernel.ConnectionStatus
  >(kernel);
  const disposed = new Signal<Kernel.IKernelConnection, void>(kernel);
  Object.assign(kernel, { connectionStatusChanged: statusChanged, disposed });
  const open = () => {
    (kernel as any).connectionStatus = 'connected';
    statusChanged.emit('connected');
  };
  return { kernel, open };
}

describe('whenConnected', () => {
  it('resolves true when the websocket opens, false after the timeout', async () => {
    const first = makeKernel(false);
    const waiting = whenConnected(first.kernel, 1000);
    first.open();
    expect(await waiting).toBe(true);

    const second = makeKernel(false);
    expect(await whenConnected(second.kernel, 20)).toBe(false);
  });
});

describe('ensureConnected', () => {
  afterEach(() => jest.restoreAllMocks());

  it('reconnects once when the new kernel does not connect in time', async () => {
    const { kernel } = makeKernel(true);
    const warn = jest.spyOn(Notification, 'warning');
    expect(
      await ensureConnected({
        kernel,
        tierLabel: 'RTX 4090',
        trans,
        timeoutMs: 20
      })
    ).toBe(true);
    expect(kernel.reconnect).toHaveBeenCalledTimes(1);
    expect(warn).not.toHaveBeenCalled();
  });

  it('says so, with Reconnect, when the reconnection fails too', async () => {
    const { kernel, open } = makeKernel(false);
    const warn = jest.spyOn(Notification, 'warning');
    expect(
      await ensureConnected({
        kernel,
        tierLabel: 'RTX 4090',
        trans,
        timeoutMs: 20
      })
    ).toBe(false);
    expect(warn).toHaveBeenCalledWith(
      'The notebook moved to RTX 4090, but cannot connect to its new kernel (connecting).',
      expect.objectContaining({ autoClose: false })
    );
    const action = warn.mock.calls[0][1]!.actions![0];
    expect(action.label).toBe('Reconnect');
    kernel.reconnect.mockImplementation(async () => open());
    action.callback(new MouseEvent('click'));
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(kernel.reconnect).toHaveBeenCalledTimes(2);
    expect(kernel.connectionStatus).toBe('connected');
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
