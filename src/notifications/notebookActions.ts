/**
 * What the idle and budget notifiers do with a kernel's notebook: find the
 * open notebook of a kernel, and move a notebook to a tier.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ITranslator } from '@jupyterlab/translation';

import { IComputePanelModel } from '../tokens';
import type { IIdleNotebook } from './idle';

export function notebookActions(
  app: JupyterFrontEnd,
  model: IComputePanelModel,
  tracker: INotebookTracker,
  translator: ITranslator | null
): {
  findNotebook: (kernelId: string) => IIdleNotebook | null;
  moveToTier: (panel: NotebookPanel, tierId: string) => Promise<void>;
  /**
   * The same move, resolving to whether the notebook now runs on the tier;
   * `confirmed`: the user has just seen the price and the grant (see
   * `moveToTier`'s option).
   */
  move: (
    panel: NotebookPanel,
    tierId: string,
    confirmed: boolean
  ) => Promise<boolean>;
} {
  const move = async (
    panel: NotebookPanel,
    tierId: string,
    confirmed: boolean
  ): Promise<boolean> => {
    // The user sees the notebook that moves.
    app.shell.activateById(panel.id);
    // The move flow (dialogs, notebook actions) loads when first used.
    const { moveToTier } = await import('../panel/move');
    return moveToTier({
      model,
      panel,
      tierId,
      translator: translator ?? undefined,
      confirmed
    });
  };
  return {
    findNotebook: (kernelId: string) => {
      const panel = tracker.find(
        widget => widget.sessionContext.session?.kernel?.id === kernelId
      );
      return panel ? { label: panel.title.label, panel } : null;
    },
    moveToTier: async (panel: NotebookPanel, tierId: string) => {
      await move(panel, tierId, false);
    },
    move
  };
}
