/**
 * `compute-panel:move-to` and one palette entry per tier.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { DisposableSet } from '@lumino/disposable';

import {
  CommandIDs,
  IComputePanelModel,
  PALETTE_CATEGORY,
  TRANSLATION_DOMAIN
} from '../tokens';

/**
 * Add `compute-panel:move-to`: move the current notebook to `args.tier`.
 */
export function addMoveCommand(
  app: JupyterFrontEnd,
  model: IComputePanelModel,
  translator: ITranslator | null
): void {
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
        panel: model.notebook,
        tierId: tier.id,
        translator: translator ?? undefined
      });
    }
  });
}

/**
 * Keep one palette entry of `compute-panel:move-to` per tier, and the
 * command's state, in step with the model.
 */
export function followTiers(
  app: JupyterFrontEnd,
  model: IComputePanelModel,
  palette: ICommandPalette | null
): void {
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
