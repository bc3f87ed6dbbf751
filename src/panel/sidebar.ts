/**
 * The sidebar panel and the command that shows it.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { computePanelIcon } from '../icons';
import {
  CommandIDs,
  IComputePanelModel,
  PALETTE_CATEGORY,
  PANEL_ID,
  TRANSLATION_DOMAIN
} from '../tokens';
import { NotebookRunsModel } from './notebookRuns';
import { ComputePanelWidget } from './widgets';

/**
 * Run `command` when a plugin provides it (the panel's buttons call other
 * plugins' commands, any of which a site may disable).
 */
function run(
  app: JupyterFrontEnd,
  command: string,
  args: Record<string, any>
): Promise<unknown> {
  return app.commands.hasCommand(command)
    ? app.commands.execute(command, args)
    : Promise.resolve();
}

/**
 * Add the sidebar panel to the left area; its buttons run the commands of
 * the move, the dashboards, the run history and re-runs.
 */
export function addSidebar(
  app: JupyterFrontEnd,
  model: IComputePanelModel,
  restorer: ILayoutRestorer | null,
  translator: ITranslator | null
): ComputePanelWidget {
  const panel = new ComputePanelWidget({
    model,
    translator: translator ?? undefined,
    onMove: async tierId => {
      await run(app, CommandIDs.moveTo, { tier: tierId });
    },
    onOpenDashboard: grantId => {
      void run(app, CommandIDs.openDashboard, { grantId });
    },
    // Lives as long as the panel, which lives as long as the application.
    notebookRuns: new NotebookRunsModel({
      model,
      events: app.serviceManager.events.stream
    }),
    onOpenHistory: filters => {
      void run(app, CommandIDs.openRunHistory, { ...filters });
    },
    onRerun: path => {
      void run(app, CommandIDs.rerunNotebook, { path });
    }
  });
  app.shell.add(panel, 'left', { rank: 250 });
  restorer?.add(panel, PANEL_ID);
  return panel;
}

/**
 * Run `callback` after `count` animation frames.
 */
function afterFrames(count: number, callback: () => void): void {
  requestAnimationFrame(() =>
    count > 1 ? afterFrames(count - 1, callback) : callback()
  );
}

/**
 * Add `compute-panel:open`, which shows the sidebar panel.
 */
export function addOpenCommand(
  app: JupyterFrontEnd,
  panel: ComputePanelWidget,
  palette: ICommandPalette | null,
  translator: ITranslator | null
): void {
  const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
  app.commands.addCommand(CommandIDs.open, {
    label: trans.__('Open Compute Panel'),
    caption: trans.__('Show compute tiers and the cost of the notebook run'),
    icon: computePanelIcon,
    describedBy: { args: { type: 'object', properties: {} } },
    execute: () => {
      app.shell.activateById(panel.id);
      // The command palette, once a command has run, activates the main
      // area's widget, which hands the activation on to its content a frame
      // later, which then takes focus: focus the panel after that.
      afterFrames(3, () => panel.takeFocus());
    }
  });
  palette?.addItem({ command: CommandIDs.open, category: PALETTE_CATEGORY });
}
