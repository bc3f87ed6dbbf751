import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { IFormRendererRegistry } from '@jupyterlab/ui-components';

import { CommandIDs, IComputePanelModel, TRANSLATION_DOMAIN } from '../tokens';
import { addMoveCommand, followTiers } from './commands';
import { followSettings } from './settings';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the settings editor asks for the field synchronously
import { defaultGrantRenderer } from './defaultGrantField';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar exists from activation on
import { addOpenCommand, addSidebar } from './sidebar';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the status item exists from activation on
import { ComputeStatusWidget } from './widgets';

/**
 * The sidebar panel, its open command and its settings.
 */
export const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-compute-panel:panel',
  description:
    'A sidebar listing compute tiers, where the notebook kernel runs and its cost.',
  autoStart: true,
  requires: [IComputePanelModel],
  optional: [
    ILayoutRestorer,
    ISettingRegistry,
    ICommandPalette,
    ITranslator,
    IFormRendererRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    model: IComputePanelModel,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    formRegistry: IFormRendererRegistry | null
  ): void => {
    const panel = addSidebar(app, model, restorer, translator);
    addOpenCommand(app, panel, palette, translator);
    if (settingRegistry) {
      followSettings(panelPlugin.id, settingRegistry, model, translator);
    }
    // The settings editor offers the default grant as a choice of the
    // user's grants.
    formRegistry?.addRenderer(
      `${panelPlugin.id}.defaultGrant`,
      defaultGrantRenderer(
        model,
        (translator ?? nullTranslator).load(TRANSLATION_DOMAIN)
      )
    );
  }
};

/**
 * The status-bar item: the notebook's tier and the live cost of its run.
 */
export const statusBarPlugin: JupyterFrontEndPlugin<void> = {
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
    statusBar.registerStatusItem(statusBarPlugin.id, {
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
export const commandsPlugin: JupyterFrontEndPlugin<void> = {
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
    addMoveCommand(app, model, translator);
    followTiers(app, model, palette);
  }
};
