/**
 * `compute-panel:rerun-notebook` and `compute-panel:rerun-run`: a notebook,
 * or the notebook of a run, executed headlessly on a tier as a metered batch
 * run, followed in a notification; and the re-runs still running after a
 * reload, followed again.
 */
import { Notification } from '@jupyterlab/apputils';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { computePanelIcon } from '../icons';
import { CommandIDs } from '../tokens';
import type { RerunNotifier } from '../rerun/notifier';
import type { IReproduceContext } from './context';

/**
 * The notifier of re-runs; it (and its code) loads with the first re-run.
 */
export class LazyNotifier {
  constructor(context: IReproduceContext) {
    this._context = context;
  }

  get(): Promise<RerunNotifier> {
    const { client, model, translator, openFile, compare } = this._context;
    this._notifier ??= import('../rerun/notifier').then(
      ({ RerunNotifier }) =>
        new RerunNotifier({
          client,
          tierLabel: tierId => model.tier(tierId)?.label ?? tierId,
          openFile,
          compare,
          translator: translator ?? undefined
        })
    );
    return this._notifier;
  }

  private _context: IReproduceContext;
  private _notifier: Promise<RerunNotifier> | null = null;
}

/**
 * Add `compute-panel:rerun-notebook`: the re-run dialog for a notebook.
 */
export function addRerunNotebookCommand(
  context: IReproduceContext,
  notifier: LazyNotifier
): void {
  const { app, client, model, translator, trans, pathOf, panelOf } = context;
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
      const { startRerunFlow } = await import('../rerun/flow');
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
        (await notifier.get()).follow(rerun);
      }
      return rerun;
    }
  });
}

/**
 * Add `compute-panel:rerun-run`: re-run the notebook of a run.
 */
export function addRerunRunCommand(context: IReproduceContext): void {
  const { app, client, trans } = context;
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
}

/**
 * Re-runs still running (a reload, another tab): follow them again once the
 * handshake says the server extension is there.
 */
export function resumeReruns(
  context: IReproduceContext,
  notifier: LazyNotifier,
  owner: object
): void {
  const { client, model } = context;
  const resume = (): void => {
    if (model.handshake.status === 'pending') {
      return;
    }
    model.stateChanged.disconnect(resume, owner);
    if (model.handshake.status !== 'ok') {
      return;
    }
    const user = model.handshake.server?.owner;
    void client
      .reruns()
      .then(async reruns => {
        const running = reruns.filter(
          rerun => rerun.status === 'running' && (!user || rerun.user === user)
        );
        if (running.length) {
          const follower = await notifier.get();
          running.forEach(rerun => follower.follow(rerun));
        }
      })
      .catch(() => undefined);
  };
  model.stateChanged.connect(resume, owner);
  resume();
}
