/**
 * A moved notebook's connection to its new kernel: wait for it, reconnect
 * once, else say so with a way to try again.
 *
 * A move starts the new kernel on the server, then the browser opens its
 * websocket. When that socket fails to open (a race in jupyter_server right
 * after a move, a proxy that dropped it), JupyterLab retries with a growing
 * backoff and, after its last try, leaves the notebook disconnected without a
 * word. The move waits for the connection instead, asks for one fresh
 * reconnection if it does not come, and tells the user if that fails too.
 */
import { Notification } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * How long a new kernel's websocket may take to open, per attempt.
 */
export const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Resolves true once `kernel` is connected, false if it is not within
 * `timeoutMs` (or its connection ends, or it is disposed).
 */
export function whenConnected(
  kernel: Kernel.IKernelConnection,
  timeoutMs: number
): Promise<boolean> {
  if (kernel.connectionStatus === 'connected') {
    return Promise.resolve(true);
  }
  if (kernel.isDisposed) {
    return Promise.resolve(false);
  }
  return new Promise<boolean>(resolve => {
    const done = (connected: boolean): void => {
      clearTimeout(timer);
      kernel.connectionStatusChanged.disconnect(onStatus);
      kernel.disposed.disconnect(onDisposed);
      resolve(connected);
    };
    const onStatus = (
      _: Kernel.IKernelConnection,
      status: Kernel.ConnectionStatus
    ): void => {
      if (status === 'connected') {
        done(true);
      } else if (status === 'disconnected') {
        done(false);
      }
    };
    const onDisposed = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    kernel.connectionStatusChanged.connect(onStatus);
    kernel.disposed.connect(onDisposed);
  });
}

/**
 * Make sure the moved notebook reaches its new kernel: wait, reconnect once,
 * else a warning that stays, with "Reconnect". Resolves whether it connected.
 */
export async function ensureConnected(options: {
  kernel: Kernel.IKernelConnection;
  tierLabel: string;
  trans: TranslationBundle;
  timeoutMs?: number;
}): Promise<boolean> {
  const { kernel, tierLabel, trans } = options;
  const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  if (await whenConnected(kernel, timeoutMs)) {
    return true;
  }
  if (kernel.isDisposed) {
    return false; // the notebook has moved on to another kernel
  }
  const reconnect = (): Promise<boolean> => {
    // A fresh attempt, with JupyterLab's retries reset; it resolves when connected.
    void kernel.reconnect().catch(() => undefined);
    return whenConnected(kernel, timeoutMs);
  };
  if (await reconnect()) {
    return true;
  }
  if (kernel.isDisposed) {
    return false;
  }
  const sayDisconnected = (): void => {
    Notification.warning(
      trans.__(
        'The notebook moved to %1, but cannot connect to its new kernel (%2).',
        tierLabel,
        kernel.connectionStatus
      ),
      {
        autoClose: false,
        actions: [
          {
            label: trans.__('Reconnect'),
            caption: trans.__(
              'Try again to connect to the kernel on %1',
              tierLabel
            ),
            callback: () => {
              void reconnect().then(connected => {
                if (!connected && !kernel.isDisposed) {
                  sayDisconnected();
                }
              });
            }
          }
        ]
      }
    );
  };
  sayDisconnected();
  return false;
}
