import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- every plugin's activation asks for the client at start
import { ComputePanelClient } from '../api';
import { IApiClient } from '../tokens';

/**
 * The one client of the REST API, on the server connection of JupyterLab.
 */
export const clientPlugin: JupyterFrontEndPlugin<IApiClient> = {
  id: 'jupyterlab-compute-panel:client',
  description:
    'Provides the client of the compute-panel REST API shared by the compute-panel plugins.',
  autoStart: true,
  provides: IApiClient,
  activate: (app: JupyterFrontEnd): IApiClient =>
    new ComputePanelClient({
      serverSettings: app.serviceManager.serverSettings
    })
};
