/**
 * The "Edit grant" form's values: a grant's editable fields as text, and
 * the one PATCH body of what changed.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../../api';
import { parseMicros } from '../../money';
import { TRANSLATION_DOMAIN } from '../../tokens';

/**
 * The form's text values of a grant's editable fields.
 */
export interface IGrantFormValues {
  title: string;
  budget: string;
  end_date: string;
  /**
   * null: every tier.
   */
  allowed_tiers: string[] | null;
  alert_thresholds: string;
  hard_stop: boolean;
  min_runtime_minutes: string;
  sensitive: boolean;
}

export function formValues(grant: ComputePanelAPI.IGrant): IGrantFormValues {
  return {
    title: grant.title,
    budget: grant.budget,
    end_date: grant.end_date,
    allowed_tiers: grant.allowed_tiers ?? null,
    alert_thresholds: (grant.alert_thresholds ?? [50, 80, 100]).join(', '),
    hard_stop: grant.hard_stop ?? true,
    min_runtime_minutes: String(grant.min_runtime_minutes ?? 15),
    sensitive: grant.sensitive ?? false
  };
}

/**
 * Thresholds typed as "50, 80; 100" to [50, 80, 100]; null if not numbers
 * (the server says what is wrong with the numbers themselves).
 */
export function parseThresholds(text: string): number[] | null {
  const parts = text
    .split(/[\s,;]+/)
    .map(p => p.trim())
    .filter(Boolean);
  if (!parts.every(p => /^\d+$/.test(p))) {
    return null;
  }
  return parts.map(Number);
}

/**
 * Why thresholds that parseThresholds refuses are refused.
 */
export function thresholdsError(trans: TranslationBundle): string {
  return trans.__('must be whole percentages such as 50, 80, 100');
}

/**
 * What changed between the grant and the form, as one PATCH body (the
 * budget with the rest, so the server checks and saves them together).
 * Problems the form can see itself come back by field.
 */
export function grantEdit(
  before: IGrantFormValues,
  after: IGrantFormValues,
  trans: TranslationBundle = nullTranslator.load(TRANSLATION_DOMAIN)
): {
  patch: ComputePanelAPI.IGrantPatch;
  errors: { [field: string]: string };
} {
  const patch: ComputePanelAPI.IGrantPatch = {};
  const errors: { [field: string]: string } = {};
  const budget = after.budget.trim();
  if (parseMicros(budget) === null) {
    errors.budget = trans.__('must be a decimal amount such as 2500.00');
  } else if (parseMicros(budget) !== parseMicros(before.budget)) {
    patch.budget = budget;
  }
  if (after.title.trim() !== before.title) {
    patch.title = after.title.trim();
  }
  if (after.end_date !== before.end_date) {
    patch.end_date = after.end_date;
  }
  const tiersKey = (t: string[] | null) =>
    t === null ? '*' : [...t].sort().join(',');
  if (tiersKey(after.allowed_tiers) !== tiersKey(before.allowed_tiers)) {
    patch.allowed_tiers = after.allowed_tiers;
  }
  if (after.alert_thresholds !== before.alert_thresholds) {
    const thresholds = parseThresholds(after.alert_thresholds);
    if (thresholds === null) {
      errors.alert_thresholds = thresholdsError(trans);
    } else {
      patch.alert_thresholds = thresholds;
    }
  }
  if (after.hard_stop !== before.hard_stop) {
    patch.hard_stop = after.hard_stop;
  }
  if (after.sensitive !== before.sensitive) {
    patch.sensitive = after.sensitive;
  }
  const minutes = after.min_runtime_minutes.trim();
  if (minutes !== before.min_runtime_minutes) {
    if (!/^\d+(\.\d+)?$/.test(minutes)) {
      errors.min_runtime_minutes = trans.__('must be a number of minutes');
    } else {
      patch.min_runtime_minutes = minutes;
    }
  }
  return { patch, errors };
}
