/**
 * The "Re-run on…" flow: the dialog, saving first, the POST, and handing the
 * started re-run to the notifier. A refusal (the server's sentence) or a
 * check that fails brings the dialog back with the sentence on top.
 */
import { Dialog } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import { ComputePanelAPI, ComputePanelError, IReproduceClient } from '../api';
import { showFieldsDialog } from '../components/dialogFocus';
import { readComputeMetadata } from '../metadata';
import { preselectGrant } from '../panel/move';
import {
  IComputePanelModel,
  METADATA_KEY,
  TRANSLATION_DOMAIN
} from '../tokens';
import {
  baseName,
  IRerunChoice,
  rerunRequest,
  validateRerunChoice
} from './format';
import { RerunDialogBody } from './RerunDialog';

export interface IRerunFlowOptions {
  model: IComputePanelModel;
  client: Pick<IReproduceClient, 'startRerun'>;
  /**
   * The notebook to re-run (a path from the server's root).
   */
  path: string;
  /**
   * The open notebook of `path`, if any: its unsaved changes, its metadata.
   */
  panel?: NotebookPanel | null;
  /**
   * The run this re-run repeats.
   */
  sourceRun?: ComputePanelAPI.IRun | null;
  /**
   * The tier to preselect.
   */
  tierId?: string | null;
  translator?: ITranslator;
  /**
   * Show the dialog; resolves null when cancelled (tests replace it).
   */
  ask?: (
    body: RerunDialogBody,
    trans: TranslationBundle,
    name: string
  ) => Promise<IRerunChoice | null>;
}

/**
 * The selector of a tier's radio in the re-run dialog (any tier's if none).
 */
function tierRadio(tierId: string | null): string {
  return tierId && /^[\w-]+$/.test(tierId)
    ? `input[type="radio"][value="${tierId}"]`
    : 'input[type="radio"]';
}

/**
 * Show the re-run dialog in a JupyterLab Dialog.
 */
async function askWithDialog(
  body: RerunDialogBody,
  trans: TranslationBundle,
  name: string
): Promise<IRerunChoice | null> {
  const result = await showFieldsDialog<IRerunChoice>({
    title: trans.__('Re-run %1 on…', name),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Re-run') })
    ],
    // The chosen tier's radio, else the first one.
    focusNodeSelector: tierRadio(body.getValue().tierId)
  });
  return result.button.accept ? (result.value ?? body.getValue()) : null;
}

/**
 * Ask, save if asked, and start the re-run. Resolves with the started re-run,
 * or null when the user cancelled.
 */
export async function startRerunFlow(
  options: IRerunFlowOptions
): Promise<ComputePanelAPI.IRerun | null> {
  const { model, client, path, panel, sourceRun } = options;
  const trans = (options.translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
  const ask = options.ask ?? askWithDialog;
  const name = baseName(path);

  if (!model.tiers.length) {
    await model.refresh();
  }
  const tiers = model.tiers;
  const remembered = readComputeMetadata(
    panel?.model?.getMetadata(METADATA_KEY)
  );
  const [known, bound] = await Promise.all([
    model.grants.length
      ? Promise.resolve(model.grants)
      : model.refreshGrants().catch(() => model.grants),
    sourceRun?.grant_id
      ? Promise.resolve(sourceRun.grant_id)
      : remembered.kind === 'valid' && remembered.value.grant
        ? Promise.resolve(remembered.value.grant)
        : model.client
            .getBinding(path)
            .then(binding => binding.grant_id)
            .catch(() => null)
  ]);
  const grants = known.filter(ComputePanelAPI.canCharge);
  let choice: IRerunChoice = {
    tierId:
      options.tierId && tiers.some(t => t.id === options.tierId)
        ? options.tierId
        : null,
    grantId: preselectGrant(grants, bound, model.settings.defaultGrant),
    timeLimit: '',
    save: true
  };
  const source = sourceRun
    ? `${sourceRun.tier_label ?? sourceRun.tier_id}, ${sourceRun.started.replace('T', ' ').slice(0, 16)}`
    : null;
  let error: string | null = null;

  for (;;) {
    const dirty = !!panel?.context.model.dirty;
    const body = new RerunDialogBody({
      name,
      tiers,
      grants,
      initial: choice,
      dirty,
      error,
      source,
      trans
    });
    const answer = await ask(body, trans, name);
    if (!answer) {
      return null;
    }
    choice = answer;
    const problem = validateRerunChoice(choice, tiers, grants, trans);
    if (problem) {
      error = problem.message;
      continue;
    }
    if (dirty && choice.save && panel) {
      try {
        await panel.context.save();
      } catch (reason) {
        error = trans.__(
          'The notebook could not be saved: %1',
          reason instanceof Error ? reason.message : String(reason)
        );
        continue;
      }
    }
    try {
      return await client.startRerun(
        rerunRequest(choice, path, tiers, sourceRun?.id)
      );
    } catch (reason) {
      // A refusal (403: the budget, the grant), a bad field (422), a missing
      // notebook (404): the server's sentence, in the dialog.
      error = ComputePanelError.fromAxios(reason).message;
    }
  }
}
