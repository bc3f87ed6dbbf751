import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- the model reports the handshake from start-up on
import { reportHandshake } from './handshake';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the model is the state every plugin reads from activation on
import { ComputePanelModel } from './model';
import { IApiClient, IComputePanelModel, TRANSLATION_DOMAIN } from '../tokens';

/**
 * Make `model` follow "the current notebook with a session, or null" as the
 * shell's focus moves.
 */
function followCurrentNotebook(
  model: ComputePanelModel,
  tracker: INotebookTracker,
  labShell: ILabShell | null
): void {
  const follow = (): void => {
    const widget = labShell ? labShell.currentWidget : tracker.currentWidget;
    model.setNotebook(
      widget && tracker.has(widget) ? (widget as NotebookPanel) : null
    );
  };
  if (labShell) {
    labShell.currentChanged.connect(follow, model);
  } else {
    tracker.currentChanged.connect(follow, model);
  }
  follow();
}

/**
 * The model: handshake, tiers, grants, the current notebook and its run.
 */
export const modelPlugin: JupyterFrontEndPlugin<IComputePanelModel> = {
  id: 'jupyterlab-compute-panel:model',
  description:
    'Provides the compute-panel model: tiers, grants and the current notebook run.',
  autoStart: true,
  provides: IComputePanelModel,
  requires: [IApiClient, INotebookTracker],
  optional: [ILabShell, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IApiClient,
    tracker: INotebookTracker,
    labShell: ILabShell | null,
    translator: ITranslator | null
  ): IComputePanelModel => {
    const model = new ComputePanelModel({
      client,
      translator: translator ?? undefined,
      events: app.serviceManager.events.stream
    });
    followCurrentNotebook(model, tracker, labShell);
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    void app.restored
      .then(() => model.initialize())
      .then(() => reportHandshake(model, trans));
    return model;
  }
};
