import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  INotebookTracker,
  INotebookWidgetFactory,
  NotebookWidgetFactory
} from '@jupyterlab/notebook';
import { ITranslator } from '@jupyterlab/translation';

import { notebookActions } from '../notifications/notebookActions';
import { IComputePanelModel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it must see each notebook as it is created, before its kernel starts
import { PaidStartGuard } from './guard';

/**
 * No paid kernel starts without its user having seen the price: opening or
 * restoring a notebook saved on a paid tier asks first (or starts on the free
 * tier, as the settings say), and a paid start by JupyterLab's own dialogs is
 * said at once with its price and the way back to the free tier.
 */
export const paidStartPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:paid-start',
  description:
    'Asks before a notebook opened on a paid tier starts its kernel, and shows the price of a paid kernel started from JupyterLab’s own dialogs, with Move to Local CPU.',
  autoStart: true,
  requires: [IComputePanelModel, INotebookTracker, INotebookWidgetFactory],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    tracker: INotebookTracker,
    factory: NotebookWidgetFactory.IFactory,
    translator: ITranslator | null
  ): void => {
    const { move } = notebookActions(app, model, tracker, translator);
    // Lives as long as the application (it holds nothing but its connections).
    new PaidStartGuard({
      created: factory.widgetCreated,
      specs: app.serviceManager.kernelspecs,
      model,
      translator: translator ?? undefined,
      pageLoadedAt: performance.timeOrigin,
      actions: {
        moveToTier: move,
        grantToCharge: async (panel, tier) => {
          // The move flow loads when first used.
          const { grantToCharge } = await import('../panel/move');
          return grantToCharge(model, panel, tier);
        }
      }
    });
  }
};
