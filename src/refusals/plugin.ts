import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ITranslator } from '@jupyterlab/translation';

import { notebookActions } from '../notifications/notebookActions';
import { CommandIDs, IComputePanelModel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it must see the first failed start, at a notebook's opening
import { StartFailureGuard } from './guard';

/**
 * A refused kernel start, by any path (the compute panel, JupyterLab's
 * *Change kernel*, opening a notebook on a tier, a restart): the notebook
 * stays on its kernel, or says plainly that it has none, and the server's
 * sentence is shown wrapped, with what to do.
 */
export const refusalsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:refusals',
  description:
    'After a refused kernel start or restart, keeps the notebook on its kernel (or says it has none) and shows the reason readably, with the compute panel and Local CPU to go on.',
  autoStart: true,
  requires: [IComputePanelModel, INotebookTracker],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    tracker: INotebookTracker,
    translator: ITranslator | null
  ): void => {
    const { moveToTier } = notebookActions(app, model, tracker, translator);
    // Lives as long as the application (it holds nothing but its connections).
    new StartFailureGuard({
      tracker,
      sessions: app.serviceManager.sessions,
      refusals: model.client,
      translator: translator ?? undefined,
      actions: {
        localTier: () => model.tiers.find(tier => tier.free) ?? null,
        kernelLabel: name =>
          model.tierForKernel(name)?.label ??
          app.serviceManager.kernelspecs.specs?.kernelspecs[name]
            ?.display_name ??
          name,
        openPanel: async () => {
          if (app.commands.hasCommand(CommandIDs.open)) {
            await app.commands.execute(CommandIDs.open);
          }
        },
        moveToTier
      }
    });
  }
};
