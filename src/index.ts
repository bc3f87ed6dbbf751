import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { DisposableSet } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { ComputePanelAPI, ComputePanelClient } from './api';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it must poll for budget alerts from activation on
import { BudgetNotifier } from './budget';
import type { DashboardWidget } from './dashboard/widget';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the IRunHistory extension point must exist at activation for other plugins to register into (it is small and has no React)
import { RunHistoryRegistry } from './history/registry';
import type { RunHistoryWidget } from './history/widget';
import { computePanelIcon } from './icons';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it must listen for idle warnings from activation on
import { IdleNotifier } from './idle';
import { ComputePanelModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the panel lists the notebook's runs from activation on
import { NotebookRunsModel } from './notebookRuns';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- it must follow notebooks from activation on, to write on their first save
import { ProvenanceRecorder } from './provenance';
import { reproducePlugin } from './reproduce';
import {
  CommandIDs,
  IComputePanelModel,
  IComputePanelSettings,
  IRunHistory,
  PANEL_ID,
  TRANSLATION_DOMAIN
} from './tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar and the status item exist from activation on
import { ComputePanelWidget, ComputeStatusWidget } from './widgets';

export * from './api';
export * from './tokens';
export { ComputePanelModel } from './model';
export { computePanelIcon } from './icons';

const PALETTE_CATEGORY = 'Compute';

/**
 * The model: API client, handshake, tiers, current notebook and its run.
 */
const modelPlugin: JupyterFrontEndPlugin<IComputePanelModel> = {
  id: 'jupyterlab-compute-panel:model',
  description:
    'Provides the compute-panel model: tiers, grants and the current notebook run.',
  autoStart: true,
  provides: IComputePanelModel,
  requires: [INotebookTracker],
  optional: [ILabShell, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    labShell: ILabShell | null,
    translator: ITranslator | null
  ): IComputePanelModel => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const client = new ComputePanelClient({
      serverSettings: app.serviceManager.serverSettings
    });
    const model = new ComputePanelModel({
      client,
      translator: translator ?? undefined,
      events: app.serviceManager.events.stream
    });

    // Follow "the current notebook with a session, or null".
    const follow = (): void => {
      const widget: Widget | null = labShell
        ? labShell.currentWidget
        : tracker.currentWidget;
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

    void app.restored
      .then(() => model.initialize())
      .then(() => {
        if (model.handshake.message) {
          const notify =
            model.handshake.status === 'mismatch'
              ? Notification.warning
              : Notification.error;
          notify(model.handshake.message, { autoClose: false });
        }
        if (model.catalogError) {
          Notification.error(
            trans.__(
              'The tier catalog is invalid and metering is disabled: %1',
              model.catalogError
            ),
            { autoClose: false }
          );
        }
      });
    return model;
  }
};

/**
 * The sidebar panel, its open command and its settings.
 */
const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:panel',
  description:
    'A sidebar listing compute tiers, where the notebook kernel runs and its cost.',
  autoStart: true,
  requires: [IComputePanelModel],
  optional: [ILayoutRestorer, ISettingRegistry, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const panel = new ComputePanelWidget({
      model,
      translator: translator ?? undefined,
      onMove: async tierId => {
        if (app.commands.hasCommand(CommandIDs.moveTo)) {
          await app.commands.execute(CommandIDs.moveTo, { tier: tierId });
        }
      },
      onOpenDashboard: grantId => {
        if (app.commands.hasCommand(CommandIDs.openDashboard)) {
          void app.commands.execute(CommandIDs.openDashboard, { grantId });
        }
      },
      // Lives as long as the panel, which lives as long as the application.
      notebookRuns: new NotebookRunsModel({
        model,
        events: app.serviceManager.events.stream
      }),
      onOpenHistory: filters => {
        if (app.commands.hasCommand(CommandIDs.openRunHistory)) {
          void app.commands.execute(CommandIDs.openRunHistory, { ...filters });
        }
      },
      onRerun: path => {
        if (app.commands.hasCommand(CommandIDs.rerunNotebook)) {
          void app.commands.execute(CommandIDs.rerunNotebook, { path });
        }
      }
    });
    app.shell.add(panel, 'left', { rank: 250 });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
    }

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Open Compute Panel'),
      caption: trans.__('Show compute tiers and the cost of the notebook run'),
      icon: computePanelIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({ command: CommandIDs.open, category: PALETTE_CATEGORY });

    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings): void => {
        model.setSettings(
          settings.composite as unknown as Partial<IComputePanelSettings>
        );
      };
      settingRegistry
        .load(panelPlugin.id)
        .then(settings => {
          apply(settings);
          settings.changed.connect(apply, model);
        })
        .catch(reason => {
          Notification.warning(
            trans.__(
              'Cannot load the compute panel settings: %1',
              String(reason)
            )
          );
        });
    }
  }
};

/**
 * The status-bar item: the notebook's tier and the live cost of its run.
 */
const statusBarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:status-bar',
  description: 'Shows the notebook tier and the live cost of its run.',
  autoStart: true,
  requires: [IComputePanelModel, IStatusBar],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    statusBar: IStatusBar,
    translator: ITranslator | null
  ): void => {
    const item = new ComputeStatusWidget({
      model,
      translator: translator ?? undefined,
      onClick: () => {
        void app.commands.execute(CommandIDs.open);
      }
    });
    statusBar.registerStatusItem('jupyterlab-compute-panel:status-bar', {
      item,
      align: 'left',
      rank: 4,
      isActive: () => model.notebook !== null,
      activeStateChanged: model.stateChanged
    });
  }
};

/**
 * `compute-panel:move-to` and one palette entry per tier.
 */
const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:commands',
  description: 'Commands moving the notebook kernel to each compute tier.',
  autoStart: true,
  requires: [IComputePanelModel],
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const tierOf = (args: { tier?: unknown }) =>
      typeof args.tier === 'string' ? model.tier(args.tier) : null;

    app.commands.addCommand(CommandIDs.moveTo, {
      label: args => {
        const tier = tierOf(args);
        return tier
          ? tier.simulated
            ? trans.__('Move Notebook to %1 (simulated)', tier.label)
            : trans.__('Move Notebook to %1', tier.label)
          : trans.__('Move Notebook to a Compute Tier');
      },
      caption: trans.__(
        'Change the notebook kernel to the kernel of a compute tier'
      ),
      isEnabled: args => {
        const tier = tierOf(args);
        return !!tier && !!model.notebook && model.currentTier?.id !== tier.id;
      },
      describedBy: {
        args: {
          type: 'object',
          properties: {
            tier: { type: 'string', description: trans.__('The tier id') }
          },
          required: ['tier']
        }
      },
      execute: async args => {
        const tier = tierOf(args);
        if (!tier) {
          return false;
        }
        // The move flow (dialogs, notebook actions) loads when first used.
        const { moveToTier } = await import('./move');
        return moveToTier({
          model,
          tierId: tier.id,
          translator: translator ?? undefined
        });
      }
    });

    let items = new DisposableSet();
    let listed = '';
    const update = (): void => {
      app.commands.notifyCommandChanged(CommandIDs.moveTo);
      const ids = model.tiers.map(tier => `${tier.id}:${tier.label}`).join('|');
      if (!palette || ids === listed) {
        return;
      }
      listed = ids;
      items.dispose();
      items = new DisposableSet();
      for (const tier of model.tiers) {
        items.add(
          palette.addItem({
            command: CommandIDs.moveTo,
            args: { tier: tier.id },
            category: PALETTE_CATEGORY
          })
        );
      }
    };
    model.stateChanged.connect(update, app);
    update();
  }
};

/**
 * What the idle and budget notifiers do with a kernel's notebook: find the
 * open notebook of a kernel, and move a notebook to a tier.
 */
function notebookActions(
  app: JupyterFrontEnd,
  model: IComputePanelModel,
  tracker: INotebookTracker
) {
  return {
    findNotebook: (kernelId: string) => {
      const panel = tracker.find(
        widget => widget.sessionContext.session?.kernel?.id === kernelId
      );
      return panel ? { label: panel.title.label, panel } : null;
    },
    moveToTier: async (panel: NotebookPanel, tierId: string) => {
      if (model.notebook !== panel) {
        app.shell.activateById(panel.id);
        // The model follows the shell's focus; make sure it follows this one now.
        model.setNotebook(panel);
      }
      await app.commands.execute(CommandIDs.moveTo, { tier: tierId });
    }
  };
}

/**
 * Warnings before idle paid kernels of open notebooks are shut down.
 */
const idlePlugin: JupyterFrontEndPlugin<void> = {
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
      ...notebookActions(app, model, tracker)
    });
  }
};

/**
 * The provenance block written into notebooks saved on a compute tier.
 */
const provenancePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:provenance',
  description:
    "Records, when a notebook on a compute tier is saved, the run that computed its outputs (tier, hardware, price, grant, CUDA) in the notebook's metadata.",
  autoStart: true,
  requires: [IComputePanelModel, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    tracker: INotebookTracker
  ): void => {
    // Lives as long as the application; it lets go of closed notebooks.
    const recorder = new ProvenanceRecorder({
      client: new ComputePanelClient({
        serverSettings: app.serviceManager.serverSettings
      }),
      tierForKernel: name => model.tierForKernel(name),
      events: app.serviceManager.events.stream
    });
    tracker.forEach(panel => recorder.track(panel));
    tracker.widgetAdded.connect((_, panel) => recorder.track(panel), recorder);
  }
};

/**
 * The run history in the main area, and its extension points.
 */
const historyPlugin: JupyterFrontEndPlugin<IRunHistory> = {
  id: 'jupyterlab-compute-panel:history',
  description:
    "The run history: every run the user may see, sorted, filtered and searched, with each run's times, cost, end reason and environment.",
  autoStart: true,
  provides: IRunHistory,
  requires: [IComputePanelModel],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): IRunHistory => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const tracker = new WidgetTracker<RunHistoryWidget>({
      namespace: 'compute-panel-run-history'
    });
    const client = new ComputePanelClient({
      serverSettings: app.serviceManager.serverSettings
    });
    // Every grant the user may see, old ones included (filters of the past);
    // fetched again at each opening, the view drawn again only on a change.
    let grants: { id: string; label: string }[] = [];
    const loadGrants = async (): Promise<void> => {
      let next: { id: string; label: string }[];
      try {
        next = (await client.grants()).map(g => ({
          id: g.id,
          label: g.award_number
        }));
      } catch {
        return; // the model's active grants stand in
      }
      if (JSON.stringify(next) !== JSON.stringify(grants)) {
        grants = next;
        tracker.currentWidget?.content.update();
      }
    };
    const registry = new RunHistoryRegistry({
      open: async filters => {
        await app.commands.execute(CommandIDs.openRunHistory, { ...filters });
      }
    });

    app.commands.addCommand(CommandIDs.openRunHistory, {
      label: trans.__('Open Run History'),
      caption: trans.__(
        'Every run you may see, with its times, cost, end reason and environment'
      ),
      icon: computePanelIcon,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            notebook: {
              type: 'string',
              description: trans.__('Show only the runs of this notebook path')
            },
            tier: { type: 'string', description: trans.__('A tier id') },
            grant: { type: 'string', description: trans.__('A grant id') },
            user: { type: 'string', description: trans.__('A user name') },
            status: {
              type: 'string',
              enum: ['open', 'closed'],
              description: trans.__('Running or ended runs only')
            }
          }
        }
      },
      execute: async args => {
        // The view's code loads when first used.
        const { RunHistoryWidget, presetFromArgs } =
          await import('./history/widget');
        const preset = presetFromArgs(args);
        const open = tracker.currentWidget;
        if (open && !open.isDisposed) {
          if (Object.keys(preset).length) {
            void open.applyPreset(preset);
          }
          app.shell.activateById(open.id);
          return open;
        }
        const widget = new RunHistoryWidget({
          client,
          preset,
          tiers: () => model.tiers.map(t => ({ id: t.id, label: t.label })),
          grants: () =>
            grants.length
              ? grants
              : model.grants.map(g => ({ id: g.id, label: g.award_number })),
          events: app.serviceManager.events.stream,
          translator: translator ?? undefined,
          commands: app.commands,
          registry
        });
        widget.model.selectionChanged.connect(
          (_, ids) => registry.setSelection(ids),
          registry
        );
        widget.disposed.connect(() => registry.setSelection([]), registry);
        void tracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        void loadGrants();
        return widget;
      }
    });
    palette?.addItem({
      command: CommandIDs.openRunHistory,
      category: PALETTE_CATEGORY
    });

    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.openRunHistory,
        args: widget => ({ ...widget.filters }),
        name: () => 'run-history'
      });
    }
    return registry;
  }
};

/**
 * Whether the user is an admin: the server says so, or a grant is visible
 * without a role on it (only an admin sees those); null when unknown.
 */
export function isAdmin(model: IComputePanelModel): boolean | null {
  const said = model.handshake.server?.admin;
  if (typeof said === 'boolean') {
    return said;
  }
  return model.grants.some(grant => grant.role === null) ? true : null;
}

/**
 * The grants' dashboards in the main area, and the admin's "New grant".
 */
const dashboardPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:dashboard',
  description:
    "A grant's dashboard: budget, burn rate, forecast, spend by tier, user, notebook and month, runs, exports and editing.",
  autoStart: true,
  requires: [IComputePanelModel],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const tracker = new WidgetTracker<DashboardWidget>({
      namespace: 'compute-panel-dashboard'
    });
    const tiers = () => model.tiers.map(t => ({ id: t.id, label: t.label }));

    const pickGrant = async (): Promise<string | null> => {
      let grants: ComputePanelAPI.IGrant[];
      try {
        grants = (await model.client.grants()).filter(
          ComputePanelAPI.canViewDashboard
        );
      } catch (reason) {
        Notification.error(
          trans.__('Cannot list the grants: %1', String(reason))
        );
        return null;
      }
      if (!grants.length) {
        Notification.info(
          trans.__(
            'You have no grant whose dashboard you may open: a grant shows its dashboard to its PI, co-PIs and viewers.'
          )
        );
        return null;
      }
      const labels = grants.map(
        g => `${g.award_number} — ${g.title} (${g.id})`
      );
      const answer = await InputDialog.getItem({
        title: trans.__('Open the Dashboard of a Grant'),
        items: labels,
        okLabel: trans.__('Open')
      });
      if (!answer.button.accept || answer.value === null) {
        return null;
      }
      return grants[labels.indexOf(answer.value)]?.id ?? null;
    };

    app.commands.addCommand(CommandIDs.openDashboard, {
      label: args =>
        typeof args.grantId === 'string'
          ? trans.__('Open Grant Dashboard: %1', args.grantId)
          : trans.__('Open Grant Dashboard…'),
      caption: trans.__(
        "Show a grant's budget, burn rate, forecast, spend breakdowns and runs"
      ),
      icon: computePanelIcon,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            grantId: {
              type: 'string',
              description: trans.__(
                'The grant id; without it, pick one of your grants'
              )
            }
          }
        }
      },
      execute: async args => {
        const grantId =
          typeof args.grantId === 'string' && args.grantId
            ? args.grantId
            : await pickGrant();
        if (!grantId) {
          return null;
        }
        const open = tracker.find(widget => widget.grantId === grantId);
        if (open) {
          app.shell.activateById(open.id);
          return open;
        }
        // The dashboard's code loads when first used.
        const { DashboardWidget } = await import('./dashboard/widget');
        const grant = model.grants.find(g => g.id === grantId);
        const widget = new DashboardWidget({
          grantId,
          client: model.client,
          label: grant?.award_number,
          tiers: tiers(),
          events: app.serviceManager.events.stream,
          translator: translator ?? undefined
        });
        void tracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        return widget;
      }
    });

    app.commands.addCommand(CommandIDs.newGrant, {
      label: trans.__('New Grant…'),
      caption: trans.__('Create a grant (admins only)'),
      isEnabled: () => isAdmin(model) !== false,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: async () => {
        const { NewGrantWidget } = await import('./dashboard/widget');
        for (const widget of app.shell.widgets('main')) {
          if (widget.id === NewGrantWidget.ID) {
            app.shell.activateById(widget.id);
            return;
          }
        }
        const form = new NewGrantWidget({
          client: model.client,
          tiers: tiers(),
          translator: translator ?? undefined,
          onCreated: grant => {
            form.dispose();
            Notification.success(
              trans.__('Grant %1 created.', grant.award_number),
              { autoClose: 5000 }
            );
            void model.refreshGrants();
            void app.commands.execute(CommandIDs.openDashboard, {
              grantId: grant.id
            });
          }
        });
        app.shell.add(form, 'main');
        app.shell.activateById(form.id);
      }
    });

    model.stateChanged.connect(() => {
      app.commands.notifyCommandChanged(CommandIDs.newGrant);
    }, app);

    palette?.addItem({
      command: CommandIDs.openDashboard,
      category: PALETTE_CATEGORY
    });
    palette?.addItem({
      command: CommandIDs.newGrant,
      category: PALETTE_CATEGORY
    });

    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.openDashboard,
        args: widget => ({ grantId: widget.grantId }),
        name: widget => widget.grantId
      });
    }
  }
};

/**
 * Budget alerts, the countdown before a spent grant's kernels are stopped, and
 * the stop.
 */
const budgetPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:budget',
  description:
    "Shows grant budget alerts, a countdown with Move to the free tier before a spent grant's paid kernels are stopped, and the stop.",
  autoStart: true,
  requires: [IComputePanelModel, INotebookTracker],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    tracker: INotebookTracker,
    translator: ITranslator | null
  ): void => {
    // Lives as long as the application (its poll stands by while hidden).
    const notifier = new BudgetNotifier({
      client: new ComputePanelClient({
        serverSettings: app.serviceManager.serverSettings
      }),
      model,
      events: app.serviceManager.events.stream,
      translator: translator ?? undefined,
      ...notebookActions(app, model, tracker)
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

const plugins: JupyterFrontEndPlugin<any>[] = [
  modelPlugin,
  panelPlugin,
  statusBarPlugin,
  commandsPlugin,
  idlePlugin,
  provenancePlugin,
  historyPlugin,
  dashboardPlugin,
  budgetPlugin,
  reproducePlugin
];

export default plugins;
