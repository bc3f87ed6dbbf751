import {
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
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- the client plugin loads it at start already
import { ComputePanelAPI } from '../api';
import { computePanelIcon } from '../icons';
import {
  CommandIDs,
  IApiClient,
  IComputePanelModel,
  PALETTE_CATEGORY,
  TRANSLATION_DOMAIN
} from '../tokens';
import type { DashboardWidget } from './widget';

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
 * What the dashboard commands share.
 */
interface IContext {
  app: JupyterFrontEnd;
  client: IApiClient;
  model: IComputePanelModel;
  translator: ITranslator | null;
  trans: TranslationBundle;
}

const tiersOf = (model: IComputePanelModel) =>
  model.tiers.map(t => ({ id: t.id, label: t.label }));

/**
 * Ask which of the grants whose dashboard the user may open to open.
 */
async function pickGrant({ client, trans }: IContext): Promise<string | null> {
  let grants: ComputePanelAPI.IGrant[];
  try {
    grants = (await client.grants()).filter(ComputePanelAPI.canViewDashboard);
  } catch (reason) {
    Notification.error(trans.__('Cannot list the grants: %1', String(reason)));
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
  const labels = grants.map(g => `${g.award_number} — ${g.title} (${g.id})`);
  const answer = await InputDialog.getItem({
    title: trans.__('Open the Dashboard of a Grant'),
    items: labels,
    okLabel: trans.__('Open')
  });
  if (!answer.button.accept || answer.value === null) {
    return null;
  }
  return grants[labels.indexOf(answer.value)]?.id ?? null;
}

/**
 * Add `compute-panel:open-dashboard`: a grant's dashboard (one per grant).
 */
function addOpenCommand(
  context: IContext,
  tracker: WidgetTracker<DashboardWidget>
): void {
  const { app, client, model, translator, trans } = context;
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
          : await pickGrant(context);
      if (!grantId) {
        return null;
      }
      const open = tracker.find(widget => widget.grantId === grantId);
      if (open) {
        app.shell.activateById(open.id);
        return open;
      }
      // The dashboard's code loads when first used.
      const { DashboardWidget } = await import('./widget');
      const grant = model.grants.find(g => g.id === grantId);
      const widget = new DashboardWidget({
        grantId,
        client,
        label: grant?.award_number,
        tiers: tiersOf(model),
        events: app.serviceManager.events.stream,
        refreshed: model.refreshed,
        me: () => model.handshake.server?.owner ?? null,
        translator: translator ?? undefined
      });
      // An edit here shows at once in the panel and the move dialog.
      widget.model.grantChanged.connect(
        () => void model.refreshGrants(),
        widget
      );
      void tracker.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      return widget;
    }
  });
}

/**
 * Add `compute-panel:new-grant`: the admin's form of a new grant.
 */
function addNewGrantCommand(context: IContext): void {
  const { app, client, model, translator, trans } = context;
  app.commands.addCommand(CommandIDs.newGrant, {
    label: trans.__('New Grant…'),
    caption: trans.__('Create a grant (admins only)'),
    isEnabled: () => isAdmin(model) !== false,
    describedBy: { args: { type: 'object', properties: {} } },
    execute: async () => {
      const { NewGrantWidget } = await import('./widget');
      for (const widget of app.shell.widgets('main')) {
        if (widget.id === NewGrantWidget.ID) {
          app.shell.activateById(widget.id);
          return;
        }
      }
      const form = new NewGrantWidget({
        client,
        tiers: tiersOf(model),
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
}

/**
 * The grants' dashboards in the main area, and the admin's "New grant".
 */
export const dashboardPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:dashboard',
  description:
    "A grant's dashboard: budget, burn rate, forecast, spend by tier, user, notebook and month, runs, exports and editing.",
  autoStart: true,
  requires: [IApiClient, IComputePanelModel],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IApiClient,
    model: IComputePanelModel,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const context = { app, client, model, translator, trans };
    const tracker = new WidgetTracker<DashboardWidget>({
      namespace: 'compute-panel-dashboard'
    });
    addOpenCommand(context, tracker);
    addNewGrantCommand(context);
    for (const command of [CommandIDs.openDashboard, CommandIDs.newGrant]) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }
    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.openDashboard,
        args: widget => ({ grantId: widget.grantId }),
        name: widget => widget.grantId
      });
    }
  }
};
