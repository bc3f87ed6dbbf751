/**
 * `compute-panel:compare-runs`: runs of one notebook side by side in the
 * main area, picked in a dialog when not given.
 */
import { Dialog, Notification } from '@jupyterlab/apputils';
import { WidgetTracker } from '@jupyterlab/apputils';

import { ComputePanelAPI, ComputePanelError } from '../api';
import type { CompareWidget } from '../compare/widget';
import { showFieldsDialog } from '../components/dialogFocus';
import { computePanelIcon } from '../icons';
import { CommandIDs } from '../tokens';
import type { IReproduceContext } from './context';

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
 * Ask which runs of the notebook at `path` to compare; null when cancelled
 * or when it has fewer than two runs (which is said).
 */
async function pickRuns(
  { client, trans }: IReproduceContext,
  path: string
): Promise<string[] | null> {
  let runs: ComputePanelAPI.IRun[];
  try {
    runs = (await client.runs({ notebook: path, sort: '-started', limit: 50 }))
      .runs;
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
      trans._n(
        '%2 has %1 run: compare needs two. Re-run it on a tier first (Re-run Notebook on…).',
        '%2 has %1 runs: compare needs two. Re-run it on a tier first (Re-run Notebook on…).',
        runs.length,
        path
      ),
      { autoClose: 8000 }
    );
    return null;
  }
  const { RunPickerBody, compareOrder, pickProblem } =
    await import('../compare/RunPicker');
  let chosen = runs.slice(0, 2).map(run => run.id);
  let error: string | null = null;
  for (;;) {
    const body = new RunPickerBody({ runs, initial: chosen, error, trans });
    const result = await showFieldsDialog<string[]>({
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
}

/**
 * Add `compute-panel:compare-runs`, whose views `tracker` follows.
 */
export function addCompareCommand(
  context: IReproduceContext,
  tracker: WidgetTracker<CompareWidget>
): void {
  const { app, client, translator, trans, pathOf, openFile } = context;
  const countOk = (args: { runIds?: unknown }): boolean => {
    const count = runIdsArg(args.runIds)?.length ?? 0;
    return count >= COMPARE_MIN_RUNS && count <= COMPARE_MAX_RUNS;
  };
  app.commands.addCommand(CommandIDs.compareRuns, {
    label: args => {
      if (!('runIds' in args)) {
        return trans.__('Compare Runs of This Notebook…');
      }
      return countOk(args)
        ? trans.__('Compare %1 Runs', String(runIdsArg(args.runIds)!.length))
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
    isEnabled: args => ('runIds' in args ? countOk(args) : !!pathOf(args)),
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
        runIds = await pickRuns(context, path);
        if (!runIds) {
          return null;
        }
      }
      const ids = runIds;
      const { CompareWidget } = await import('../compare/widget');
      const id = CompareWidget.idFor(ids);
      const open = tracker.find(widget => widget.id === id);
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
      void tracker.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      return widget;
    }
  });
}
