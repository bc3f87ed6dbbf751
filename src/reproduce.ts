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
import {
  ICommandPalette,
  Notification,
  showDialog,
  Dialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- the model plugin loads the client at start already
import { ComputePanelAPI, ComputePanelClient, ComputePanelError } from './api';
import type { CompareWidget } from './compare/widget';
import { computePanelIcon } from './icons';
import type { RerunNotifier } from './rerun/notifier';
import {
  CommandIDs,
  IComputePanelModel,
  IRunHistory,
  TRANSLATION_DOMAIN
} from './tokens';

const PALETTE_CATEGORY = 'Compute';

/**
 * The run ids of a command's `runIds` argument, or null.
 */
export function runIdsArg(value: unknown): string[] | null {
  if (!Array.isArray(value)) {
    return null;
  }
  const ids = value.filter(
    (id): id is string => typeof id === 'string' && !!id
  );
  return ids.length === value.length ? ids : null;
}

/**
 * How many runs the compare view takes at once.
 */
export const COMPARE_MIN_RUNS = 2;
export const COMPARE_MAX_RUNS = 6;

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
  requires: [IComputePanelModel, INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator, IRunHistory],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    history: IRunHistory | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const client = new ComputePanelClient({
      serverSettings: app.serviceManager.serverSettings
    });
    const compareTracker = new WidgetTracker<CompareWidget>({
      namespace: 'compute-panel-compare'
    });
    const openFile = (path: string): void => {
      void app.commands.execute('docmanager:open', { path });
    };
    const compare = (runIds: string[]): void => {
      void app.commands.execute(CommandIDs.compareRuns, { runIds });
    };

    // The notifier (and its code) loads with the first re-run.
    let notifier: Promise<RerunNotifier> | null = null;
    const getNotifier = (): Promise<RerunNotifier> => {
      notifier ??= import('./rerun/notifier').then(
        ({ RerunNotifier }) =>
          new RerunNotifier({
            client,
            tierLabel: tierId => model.tier(tierId)?.label ?? tierId,
            openFile,
            compare,
            translator: translator ?? undefined
          })
      );
      return notifier;
    };

    const pathOf = (args: { path?: unknown }): string | null =>
      typeof args.path === 'string' && args.path
        ? args.path
        : (tracker.currentWidget?.context.path ?? null);
    const panelOf = (path: string): NotebookPanel | null =>
      tracker.find(panel => panel.context.path === path) ?? null;

    app.commands.addCommand(CommandIDs.rerunNotebook, {
      label: trans.__('Re-run Notebook on…'),
      caption: trans.__(
        'Execute the saved notebook headlessly on a compute tier, metered and charged to a grant, and keep an executed copy'
      ),
      icon: computePanelIcon,
      isEnabled: args => !!pathOf(args),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            path: {
              type: 'string',
              description: trans.__(
                'The notebook to re-run; the current notebook without it'
              )
            },
            sourceRunId: {
              type: 'string',
              description: trans.__('The run this re-run repeats')
            },
            tierId: {
              type: 'string',
              description: trans.__('The tier to preselect in the dialog')
            }
          }
        }
      },
      execute: async args => {
        const path = pathOf(args);
        if (!path) {
          return null;
        }
        let sourceRun: ComputePanelAPI.IRun | null = null;
        if (typeof args.sourceRunId === 'string' && args.sourceRunId) {
          try {
            sourceRun = await client.run(args.sourceRunId);
          } catch (error) {
            Notification.error(
              trans.__(
                'Cannot re-run run %1: %2',
                args.sourceRunId,
                ComputePanelError.fromAxios(error).message
              )
            );
            return null;
          }
        }
        const { startRerunFlow } = await import('./rerun/flow');
        const rerun = await startRerunFlow({
          model,
          client,
          path,
          panel: panelOf(path),
          sourceRun,
          tierId: typeof args.tierId === 'string' ? args.tierId : null,
          translator: translator ?? undefined
        });
        if (rerun) {
          (await getNotifier()).follow(rerun);
        }
        return rerun;
      }
    });

    app.commands.addCommand(CommandIDs.rerunRun, {
      label: trans.__('Re-run on…'),
      caption: trans.__(
        "Execute this run's notebook again, headlessly, on a compute tier"
      ),
      icon: computePanelIcon,
      isEnabled: args => typeof args.runId === 'string' && !!args.runId,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            runId: { type: 'string', description: trans.__('The run id') },
            path: {
              type: 'string',
              description: trans.__(
                "The notebook, when the caller knows it (else the run's)"
              )
            },
            tierId: {
              type: 'string',
              description: trans.__('The tier to preselect in the dialog')
            }
          },
          required: ['runId']
        }
      },
      execute: async args => {
        const runId = typeof args.runId === 'string' ? args.runId : '';
        if (!runId) {
          return null;
        }
        // `notebook` is what the run history passes to its run actions.
        let path =
          typeof args.path === 'string'
            ? args.path
            : typeof args.notebook === 'string'
              ? args.notebook
              : '';
        if (!path) {
          try {
            path = (await client.run(runId)).notebook ?? '';
          } catch (error) {
            Notification.error(
              trans.__(
                'Cannot re-run run %1: %2',
                runId,
                ComputePanelError.fromAxios(error).message
              )
            );
            return null;
          }
        }
        if (!path) {
          Notification.warning(
            trans.__(
              'Run %1 has no notebook to re-run (its kernel was not started for a notebook).',
              runId
            )
          );
          return null;
        }
        return app.commands.execute(CommandIDs.rerunNotebook, {
          path,
          sourceRunId: runId,
          ...(typeof args.tierId === 'string' ? { tierId: args.tierId } : {})
        });
      }
    });

    const pickRuns = async (path: string): Promise<string[] | null> => {
      let runs: ComputePanelAPI.IRun[];
      try {
        runs = (
          await client.runs({ notebook: path, sort: '-started', limit: 50 })
        ).runs;
      } catch (error) {
        Notification.error(
          trans.__(
            'Cannot list the runs of %1: %2',
            path,
            ComputePanelError.fromAxios(error).message
          )
        );
        return null;
      }
      if (runs.length < 2) {
        Notification.info(
          trans.__(
            '%1 has %2 run(s): compare needs two. Re-run it on a tier first (Re-run Notebook on…).',
            path,
            String(runs.length)
          ),
          { autoClose: 8000 }
        );
        return null;
      }
      const { RunPickerBody, compareOrder, pickProblem } =
        await import('./compare/RunPicker');
      let chosen = runs.slice(0, 2).map(run => run.id);
      let error: string | null = null;
      for (;;) {
        const body = new RunPickerBody({
          runs,
          initial: chosen,
          error,
          trans
        });
        const result = await showDialog<string[]>({
          title: trans.__('Compare Runs of %1', path.split('/').pop() ?? path),
          body,
          buttons: [
            Dialog.cancelButton({ label: trans.__('Cancel') }),
            Dialog.okButton({ label: trans.__('Compare') })
          ]
        });
        if (!result.button.accept) {
          return null;
        }
        chosen = result.value ?? body.getValue();
        error = pickProblem(chosen.length, trans);
        if (!error) {
          return compareOrder(runs, chosen);
        }
      }
    };

    app.commands.addCommand(CommandIDs.compareRuns, {
      label: args => {
        if (!('runIds' in args)) {
          return trans.__('Compare Runs of This Notebook…');
        }
        const count = runIdsArg(args.runIds)?.length ?? 0;
        return count >= COMPARE_MIN_RUNS && count <= COMPARE_MAX_RUNS
          ? trans.__('Compare %1 Runs', String(count))
          : trans.__(
              'Compare (select %1 to %2 runs)',
              String(COMPARE_MIN_RUNS),
              String(COMPARE_MAX_RUNS)
            );
      },
      caption: trans.__(
        'Compare runs of a notebook side by side: outputs within a tolerance, environments, time and cost'
      ),
      icon: computePanelIcon,
      isEnabled: args => {
        if (!('runIds' in args)) {
          return !!pathOf(args);
        }
        const count = runIdsArg(args.runIds)?.length ?? 0;
        return count >= COMPARE_MIN_RUNS && count <= COMPARE_MAX_RUNS;
      },
      describedBy: {
        args: {
          type: 'object',
          properties: {
            runIds: {
              type: 'array',
              items: { type: 'string' },
              minItems: 2,
              maxItems: 6,
              description: trans.__(
                'The runs of one notebook to compare, the baseline first; without them, pick among the runs of the current notebook'
              )
            },
            rtol: {
              type: 'number',
              description: trans.__(
                'The relative tolerance for numbers in text outputs (default 1e-3)'
              )
            },
            path: {
              type: 'string',
              description: trans.__(
                'The notebook whose runs to pick from; the current notebook without it'
              )
            }
          }
        }
      },
      execute: async args => {
        let runIds = runIdsArg(args.runIds);
        if (!runIds) {
          const path = pathOf(args);
          if (!path) {
            Notification.info(trans.__('Open a notebook to compare its runs.'));
            return null;
          }
          runIds = await pickRuns(path);
          if (!runIds) {
            return null;
          }
        }
        const ids = runIds;
        const { CompareWidget } = await import('./compare/widget');
        const id = CompareWidget.idFor(ids);
        const open = compareTracker.find(widget => widget.id === id);
        if (open) {
          app.shell.activateById(open.id);
          return open;
        }
        const widget = new CompareWidget({
          client,
          runIds: ids,
          rtol: typeof args.rtol === 'number' ? args.rtol : undefined,
          translator: translator ?? undefined,
          onOpen: openFile
        });
        void compareTracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    // The run history shows them for the run in its details pane and for
    // the selected runs.
    history?.addRunAction(CommandIDs.rerunRun, { rank: 10 });
    history?.addSelectionAction(CommandIDs.compareRuns, { rank: 10 });

    palette?.addItem({
      command: CommandIDs.rerunNotebook,
      category: PALETTE_CATEGORY
    });
    palette?.addItem({
      command: CommandIDs.compareRuns,
      category: PALETTE_CATEGORY
    });
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

    // Re-runs still running (a reload, another tab): follow them again.
    const resume = (): void => {
      if (model.handshake.status === 'pending') {
        return;
      }
      model.stateChanged.disconnect(resume, compareTracker);
      if (model.handshake.status !== 'ok') {
        return;
      }
      const owner = model.handshake.server?.owner;
      void client
        .reruns()
        .then(async reruns => {
          const running = reruns.filter(
            rerun =>
              rerun.status === 'running' && (!owner || rerun.user === owner)
          );
          if (running.length) {
            const follower = await getNotifier();
            running.forEach(rerun => follower.follow(rerun));
          }
        })
        .catch(() => undefined);
    };
    model.stateChanged.connect(resume, compareTracker);
    resume();
  }
};
