import { Dialog, showErrorMessage } from '@jupyterlab/apputils';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel } from '@jupyterlab/services';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { showFieldsDialog } from '../components/dialogFocus';
import {
  grantSelectId,
  IMoveChoice,
  MoveDialogBody
} from '../components/MoveDialog';
import { INotebookComputeMetadata, readComputeMetadata } from '../metadata';
import { pickKernelspec } from '../model/kernelspecs';
import { ensureConnected } from './connect';
import {
  IComputePanelModel,
  METADATA_KEY,
  TRANSLATION_DOMAIN
} from '../tokens';

/**
 * The grant to preselect: the notebook's binding, else the default-grant
 * setting, else the only active grant; each only if active.
 */
export function preselectGrant(
  grants: ReadonlyArray<ComputePanelAPI.IGrant>,
  bound: string | null,
  defaultGrant: string
): string | null {
  const active = grants.filter(ComputePanelAPI.canCharge);
  const usable = (id: string | null) =>
    !!id && active.some(grant => grant.id === id);
  if (usable(bound)) {
    return bound;
  }
  if (usable(defaultGrant)) {
    return defaultGrant;
  }
  return active.length === 1 ? active[0].id : null;
}

/**
 * The grant a start on `tier` would charge, before any dialog: the grants the
 * user may charge, the notebook's remembered grant (its metadata, else the
 * server's binding) and the one preselected (null on a free tier or when
 * none can be chosen for the user).
 */
export async function grantToCharge(
  model: IComputePanelModel,
  panel: NotebookPanel,
  tier: ComputePanelAPI.ITier
): Promise<{
  grants: ReadonlyArray<ComputePanelAPI.IGrant>;
  bound: string | null;
  grantId: string | null;
}> {
  if (tier.free) {
    return { grants: [], bound: null, grantId: null };
  }
  // Before the kernel changes, one round trip (the binding PUT of a move), not
  // three: the grants the model already holds, and the grant the notebook's
  // own metadata remembers; the server is asked only when it has none.
  const remembered = readComputeMetadata(
    panel.model?.getMetadata(METADATA_KEY)
  );
  const [known, bound] = await Promise.all([
    model.grants.length ? model.grants : model.refreshGrants(),
    remembered.kind === 'valid' && remembered.value.grant
      ? remembered.value.grant
      : model.client
          .getBinding(panel.context.path)
          .then(binding => binding.grant_id)
          .catch(() => null)
  ]);
  const grants = known.filter(ComputePanelAPI.canCharge);
  return {
    grants,
    bound,
    grantId: preselectGrant(grants, bound, model.settings.defaultGrant)
  };
}

/**
 * The message of anything thrown (ServerConnection.ResponseError included).
 */
function messageOf(error: unknown): string {
  if (error instanceof Error && error.message) {
    return error.message;
  }
  return String(error);
}

/**
 * Move a notebook to a tier: confirm, bind the grant (checked on the
 * server), write the notebook metadata, change the kernel, re-run.
 *
 * Resolves true when the notebook now runs on the tier.
 */
export async function moveToTier(options: {
  /**
   * The tiers, the grants, the settings and the client.
   */
  model: IComputePanelModel;
  /**
   * The notebook to move (null: none is open, which is said).
   */
  panel: NotebookPanel | null;
  tierId: string;
  translator?: ITranslator;
  /**
   * The user has just seen the tier's price and the grant it charges (the
   * question before a paid start on opening): no second dialog when that
   * grant is usable, and no re-run (the kernel starts, it does not move).
   */
  confirmed?: boolean;
}): Promise<boolean> {
  const { model, panel, tierId } = options;
  const trans: TranslationBundle = (options.translator ?? nullTranslator).load(
    TRANSLATION_DOMAIN
  );

  const tier = model.tier(tierId);
  if (!tier) {
    await showErrorMessage(
      trans.__('Unknown tier'),
      trans.__('There is no tier "%1".', tierId)
    );
    return false;
  }
  if (!panel) {
    await showErrorMessage(
      trans.__('No notebook'),
      trans.__('Open a notebook to move its kernel.')
    );
    return false;
  }
  const kernelName = panel.sessionContext.session?.kernel?.name;
  if (model.tierForKernel(kernelName)?.id === tier.id) {
    return true;
  }
  const kernelspec = pickKernelspec(model.tiers, tier, kernelName);
  if (!kernelspec) {
    await showErrorMessage(
      trans.__('No kernel on this tier'),
      trans.__('The tier %1 offers no kernel.', tier.label)
    );
    return false;
  }
  const path = panel.context.path;
  const settings = model.settings;

  const {
    grants,
    bound,
    grantId: preselected
  } = await grantToCharge(model, panel, tier);
  let choice: IMoveChoice = {
    grantId: preselected,
    rerun: options.confirmed ? false : settings.rerunByDefault
  };
  const boundUsable = !!bound && grants.some(grant => grant.id === bound);
  const skipDialog =
    (options.confirmed || !settings.confirmPaidTiers) &&
    (tier.free || boundUsable);
  if (!skipDialog) {
    const body = new MoveDialogBody({ tier, grants, initial: choice, trans });
    // Focus starts on the grant when one is to be chosen, else on Move.
    const mustChoose = !tier.free && !choice.grantId && grants.length > 0;
    const result = await showFieldsDialog<IMoveChoice>({
      title: trans.__('Move to %1?', tier.label),
      body,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Move') })
      ],
      focusNodeSelector: mustChoose ? `#${grantSelectId(tier.id)}` : undefined
    });
    if (!result.button.accept) {
      return false;
    }
    choice = result.value ?? choice;
  }

  const grantId = tier.free ? null : choice.grantId;
  if (!tier.free) {
    if (!grantId) {
      await showErrorMessage(
        trans.__('Choose a grant'),
        trans.__('%1 is a paid tier: choose a grant to charge.', tier.label)
      );
      return false;
    }
    try {
      await model.client.putBinding({
        path,
        grant_id: grantId,
        tier_id: tier.id
      });
    } catch (error) {
      await showErrorMessage(
        trans.__('Cannot charge this grant'),
        messageOf(error)
      );
      return false;
    }
  }

  const notebookModel = panel.model;
  const previousMetadata = notebookModel?.getMetadata(METADATA_KEY);
  const metadata: INotebookComputeMetadata = { tier: tier.id, grant: grantId };
  // The outputs still come from the run before the move: keep its provenance
  // until the next save on the new tier replaces it.
  const kept =
    previousMetadata &&
    typeof previousMetadata === 'object' &&
    !Array.isArray(previousMetadata) &&
    'provenance' in previousMetadata
      ? {
          provenance: (previousMetadata as Record<string, unknown>).provenance
        }
      : {};
  notebookModel?.setMetadata(METADATA_KEY, { ...kept, ...metadata });
  model.checkMetadata();

  const sessionContext = panel.sessionContext;
  let kernel: Kernel.IKernelConnection | null;
  try {
    kernel = await sessionContext.changeKernel({ name: kernelspec });
  } catch {
    // The server refused the start (budget, grant). JupyterLab drops the
    // session and shows the error; the refusals plugin puts the notebook back
    // on the kernel the server kept and says the sentence readably. Here:
    // the notebook's metadata says where it was again.
    if (previousMetadata === undefined) {
      notebookModel?.deleteMetadata(METADATA_KEY);
    } else {
      notebookModel?.setMetadata(METADATA_KEY, previousMetadata);
    }
    model.checkMetadata();
    void model.refresh();
    return false;
  }
  // The new kernel's websocket may fail to open right after the move: wait
  // for it, reconnect once, else say so.
  if (
    !kernel ||
    !(await ensureConnected({ kernel, tierLabel: tier.label, trans }))
  ) {
    return false;
  }

  if (choice.rerun) {
    await kernel.info;
    await NotebookActions.runAll(panel.content, sessionContext);
  }
  // No refresh here: the model follows kernelChanged (the new run) and the
  // server's run events (tier use), so nothing competes with the new kernel.
  return true;
}
