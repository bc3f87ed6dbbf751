/**
 * Reproduction in the browser: "Re-run on…" (a notebook, or the notebook of a
 * run, executed headlessly on a tier as a metered batch run, followed in a
 * notification) and the compare view of runs of one notebook.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ITranslator } from '@jupyterlab/translation';

import type { CompareWidget } from '../compare/widget';
import {
  CommandIDs,
  IApiClient,
  IComputePanelModel,
  IRunHistory,
  PALETTE_CATEGORY
} from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it adds the command at activation; the picker and the view load when first used
import { addCompareCommand } from './compare';
import { reproduceContext } from './context';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it adds the commands at activation; the dialog and the notifier load when first used
import {
  addRerunNotebookCommand,
  addRerunRunCommand,
  LazyNotifier,
  resumeReruns
} from './rerun';

/**
 * `compute-panel:rerun-notebook`, `compute-panel:rerun-run` and
 * `compute-panel:compare-runs`, the compare views in the main area, and the
 * notifications of re-runs (those still running are followed again after a
 * reload).
 */
export const reproducePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:reproduce',
  description:
    'Re-run a notebook headlessly on a compute tier, followed in a notification, and compare runs of a notebook side by side.',
  autoStart: true,
  requires: [IApiClient, IComputePanelModel, INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator, IRunHistory],
  activate: (
    app: JupyterFrontEnd,
    client: IApiClient,
    model: IComputePanelModel,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    history: IRunHistory | null
  ): void => {
    const context = reproduceContext(app, client, model, tracker, translator);
    const compareTracker = new WidgetTracker<CompareWidget>({
      namespace: 'compute-panel-compare'
    });
    const notifier = new LazyNotifier(context);
    addRerunNotebookCommand(context, notifier);
    addRerunRunCommand(context);
    addCompareCommand(context, compareTracker);

    // The run history shows them for the run in its details pane and for
    // the selected runs.
    history?.addRunAction(CommandIDs.rerunRun, { rank: 10 });
    history?.addSelectionAction(CommandIDs.compareRuns, { rank: 10 });
    for (const command of [CommandIDs.rerunNotebook, CommandIDs.compareRuns]) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }
    tracker.currentChanged.connect(() => {
      app.commands.notifyCommandChanged(CommandIDs.rerunNotebook);
      app.commands.notifyCommandChanged(CommandIDs.compareRuns);
    }, compareTracker);
    if (restorer) {
      void restorer.restore(compareTracker, {
        command: CommandIDs.compareRuns,
        args: widget => ({
          runIds: [...widget.runIds],
          rtol: widget.model.rtol
        }),
        name: widget => widget.runIds.join(',')
      });
    }
    resumeReruns(context, notifier, compareTracker);
  }
};
