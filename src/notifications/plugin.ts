import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ITranslator } from '@jupyterlab/translation';

import { IApiClient, IComputePanelModel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it must poll for budget alerts from activation on
import { BudgetNotifier } from './budget';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it must listen for idle warnings from activation on
import { IdleNotifier } from './idle';
import { notebookActions } from './notebookActions';

/**
 * Warnings before idle paid kernels of open notebooks are shut down.
 */
export const idlePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:idle',
  description:
    'Warns before an idle paid kernel of an open notebook is shut down, with Keep it and Move to the free tier.',
  autoStart: true,
  requires: [IComputePanelModel, INotebookTracker],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    tracker: INotebookTracker,
    translator: ITranslator | null
  ): void => {
    // Lives as long as the application (it holds no resources but its connection).
    new IdleNotifier({
      model,
      events: app.serviceManager.events.stream,
      translator: translator ?? undefined,
      ...notebookActions(app, model, tracker, translator)
    });
  }
};

/**
 * Budget alerts, the countdown before a spent grant's kernels are stopped, and
 * the stop.
 */
export const budgetPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:budget',
  description:
    "Shows grant budget alerts, a countdown with Move to the free tier before a spent grant's paid kernels are stopped, and the stop.",
  autoStart: true,
  requires: [IApiClient, IComputePanelModel, INotebookTracker],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IApiClient,
    model: IComputePanelModel,
    tracker: INotebookTracker,
    translator: ITranslator | null
  ): void => {
    // Lives as long as the application (its poll stands by while hidden).
    const notifier = new BudgetNotifier({
      client,
      model,
      events: app.serviceManager.events.stream,
      translator: translator ?? undefined,
      ...notebookActions(app, model, tracker, translator)
    });
    // Ask once the handshake says the server extension is there.
    const ready = (): void => {
      if (model.handshake.status !== 'pending') {
        model.stateChanged.disconnect(ready, notifier);
        void notifier.refresh().catch(() => undefined);
      }
    };
    model.stateChanged.connect(ready, notifier);
    ready();
  }
};
