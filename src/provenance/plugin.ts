import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';

import { IApiClient, IComputePanelModel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it must follow notebooks from activation on, to write on their first save
import { ProvenanceRecorder } from './recorder';

/**
 * The provenance block written into notebooks saved on a compute tier.
 */
export const provenancePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:provenance',
  description:
    "Records, when a notebook on a compute tier is saved, the run that computed its outputs (tier, hardware, price, grant, CUDA) in the notebook's metadata.",
  autoStart: true,
  requires: [IApiClient, IComputePanelModel, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    client: IApiClient,
    model: IComputePanelModel,
    tracker: INotebookTracker
  ): void => {
    // Lives as long as the application; it lets go of closed notebooks.
    const recorder = new ProvenanceRecorder({
      client,
      tierForKernel: name => model.tierForKernel(name),
      events: app.serviceManager.events.stream
    });
    tracker.forEach(panel => recorder.track(panel));
    tracker.widgetAdded.connect((_, panel) => recorder.track(panel), recorder);
    // The tiers may arrive after a notebook is followed; the poll comes round.
    model.refreshed.connect(() => recorder.refreshMissing(), recorder);
  }
};
