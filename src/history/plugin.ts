import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { computePanelIcon } from '../icons';
import {
  CommandIDs,
  IApiClient,
  IComputePanelModel,
  IRunHistory,
  PALETTE_CATEGORY,
  TRANSLATION_DOMAIN
} from '../tokens';
import { RunHistoryRegistry } from './registry';
import type { RunHistoryWidget } from './widget';

interface IOption {
  id: string;
  label: string;
}

/**
 * Every grant the user may see, old ones included (filters of the past);
 * fetched again at each opening, the view drawn again only on a change.
 */
class GrantOptions {
  constructor(client: IApiClient, tracker: WidgetTracker<RunHistoryWidget>) {
    this._client = client;
    this._tracker = tracker;
  }

  get options(): ReadonlyArray<IOption> {
    return this._grants;
  }

  async load(): Promise<void> {
    let next: IOption[];
    try {
      next = (await this._client.grants()).map(g => ({
        id: g.id,
        label: g.award_number
      }));
    } catch {
      return; // the model's active grants stand in
    }
    if (JSON.stringify(next) !== JSON.stringify(this._grants)) {
      this._grants = next;
      this._tracker.currentWidget?.content.update();
    }
  }

  private _client: IApiClient;
  private _tracker: WidgetTracker<RunHistoryWidget>;
  private _grants: IOption[] = [];
}

/**
 * Add `compute-panel:open-run-history`: open the run history (one at a
 * time), or show the open one with the filters given.
 */
function addOpenCommand(
  app: JupyterFrontEnd,
  client: IApiClient,
  model: IComputePanelModel,
  tracker: WidgetTracker<RunHistoryWidget>,
  registry: RunHistoryRegistry,
  translator: ITranslator | null
): void {
  const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
  const grants = new GrantOptions(client, tracker);
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
      const { RunHistoryWidget, presetFromArgs } = await import('./widget');
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
          grants.options.length
            ? grants.options
            : model.grants.map(g => ({ id: g.id, label: g.award_number })),
        events: app.serviceManager.events.stream,
        refreshed: model.refreshed,
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
      void grants.load();
      return widget;
    }
  });
}

/**
 * The run history in the main area, and its extension points.
 */
export const historyPlugin: JupyterFrontEndPlugin<IRunHistory> = {
  id: 'jupyterlab-compute-panel:history',
  description:
    "The run history: every run the user may see, sorted, filtered and searched, with each run's times, cost, end reason and environment.",
  autoStart: true,
  provides: IRunHistory,
  requires: [IApiClient, IComputePanelModel],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IApiClient,
    model: IComputePanelModel,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): IRunHistory => {
    const tracker = new WidgetTracker<RunHistoryWidget>({
      namespace: 'compute-panel-run-history'
    });
    const registry = new RunHistoryRegistry({
      open: async filters => {
        await app.commands.execute(CommandIDs.openRunHistory, { ...filters });
      }
    });
    addOpenCommand(app, client, model, tracker, registry, translator);
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
