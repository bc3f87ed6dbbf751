/**
 * The start-up version check: whether the server extension is there and
 * speaks this front end's API, in plain words for the user.
 */
import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import {
  ComputePanelAPI,
  ComputePanelError,
  IComputePanelClient
} from '../api';
import type { IComputePanelModel, IHandshake } from '../tokens';
import { VERSION } from '../version';

/**
 * Ask the server its version and API; never rejects.
 */
export async function checkVersion(
  client: Pick<IComputePanelClient, 'version'>,
  trans: TranslationBundle
): Promise<IHandshake> {
  let server: ComputePanelAPI.IVersion;
  try {
    server = await client.version();
  } catch (error) {
    const err = ComputePanelError.fromAxios(error);
    if (err.status === 404) {
      return {
        status: 'missing',
        server: null,
        message: trans.__(
          'The compute panel server extension is not installed or not enabled, so tiers and costs cannot be shown. Install the Python package jupyterlab_compute_panel in the Jupyter server environment, then restart the server.'
        )
      };
    }
    return {
      status: 'error',
      server: null,
      message: trans.__(
        'Cannot check the compute panel server extension: %1',
        err.message
      )
    };
  }
  if (server.api !== ComputePanelAPI.API_VERSION) {
    return {
      status: 'mismatch',
      server,
      message: trans.__(
        'The compute panel server extension speaks API %1 but this front end needs API %2. Install the same version of jupyterlab_compute_panel on both sides and restart JupyterLab.',
        String(server.api),
        String(ComputePanelAPI.API_VERSION)
      )
    };
  }
  if (server.version !== VERSION) {
    return {
      status: 'mismatch',
      server,
      message: trans.__(
        'The compute panel server extension is version %1 but the front end is version %2. Reinstall jupyterlab_compute_panel and restart JupyterLab.',
        server.version,
        VERSION
      )
    };
  }
  return { status: 'ok', server, message: null };
}

/**
 * Tell the user, once, what the handshake found wrong: a missing or other
 * server extension, an invalid tier catalog.
 */
export function reportHandshake(
  model: IComputePanelModel,
  trans: TranslationBundle
): void {
  if (model.handshake.message) {
    const notify =
      model.handshake.status === 'mismatch'
        ? Notification.warning
        : Notification.error;
    notify(model.handshake.message, { autoClose: false });
  }
  if (model.catalogError) {
    Notification.error(
      trans.__(
        'The tier catalog is invalid and metering is disabled: %1',
        model.catalogError
      ),
      { autoClose: false }
    );
  }
}
