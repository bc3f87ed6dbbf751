/**
 * What the re-run and compare commands share.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import {
  CommandIDs,
  IApiClient,
  IComputePanelModel,
  TRANSLATION_DOMAIN
} from '../tokens';

export interface IReproduceContext {
  readonly app: JupyterFrontEnd;
  readonly client: IApiClient;
  readonly model: IComputePanelModel;
  readonly translator: ITranslator | null;
  readonly trans: TranslationBundle;
  /**
   * The notebook a command acts on: its `path`, else the current notebook.
   */
  pathOf(args: { path?: unknown }): string | null;
  /**
   * The open notebook of `path`, if any.
   */
  panelOf(path: string): NotebookPanel | null;
  openFile(path: string): void;
  /**
   * Open the compare view of these runs.
   */
  compare(runIds: string[]): void;
}

export function reproduceContext(
  app: JupyterFrontEnd,
  client: IApiClient,
  model: IComputePanelModel,
  tracker: INotebookTracker,
  translator: ITranslator | null
): IReproduceContext {
  return {
    app,
    client,
    model,
    translator,
    trans: (translator ?? nullTranslator).load(TRANSLATION_DOMAIN),
    pathOf: args =>
      typeof args.path === 'string' && args.path
        ? args.path
        : (tracker.currentWidget?.context.path ?? null),
    panelOf: path => tracker.find(panel => panel.context.path === path) ?? null,
    openFile: path => {
      void app.commands.execute('docmanager:open', { path });
    },
    compare: runIds => {
      void app.commands.execute(CommandIDs.compareRuns, { runIds });
    }
  };
}
