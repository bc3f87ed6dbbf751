/**
 * Which kernel starts cost money, and the words said before and after one.
 * Pure: no JupyterLab objects, so that jest checks them as they are.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import { formatRate, parseMicros } from '../money';

/**
 * A paid tier as a kernelspec describes it (decision 1: a tier's kernelspec
 * carries its label and price in `metadata.compute_panel`).
 */
export interface IPaidKernel {
  tierId: string;
  label: string;
  /**
   * Decimal string per hour, more than zero.
   */
  perHour: string;
  currency: string;
}

/**
 * The paid tier of a kernelspec, or null: not a tier kernel, or a free one.
 * `spec` is the kernelspec model as the server lists it (its `metadata`).
 */
export function paidKernelOf(spec: unknown): IPaidKernel | null {
  const metadata = (spec as { metadata?: unknown } | null | undefined)
    ?.metadata;
  const tier = (metadata as { compute_panel?: unknown } | null | undefined)
    ?.compute_panel as Record<string, unknown> | null | undefined;
  if (!tier || typeof tier !== 'object') {
    return null;
  }
  const price = tier.price as Record<string, unknown> | null | undefined;
  const perHour = typeof price?.per_hour === 'string' ? price.per_hour : '';
  const micros = parseMicros(perHour);
  if (
    micros === null ||
    micros <= BigInt(0) ||
    typeof tier.tier_id !== 'string'
  ) {
    return null;
  }
  return {
    tierId: tier.tier_id,
    label: typeof tier.label === 'string' ? tier.label : tier.tier_id,
    perHour,
    currency: typeof price?.currency === 'string' ? price.currency : ''
  };
}

/**
 * A grant as said to its user: its award number, else its id.
 */
export interface IGrantName {
  id: string;
  award_number?: string;
}

function grantName(grant: IGrantName): string {
  return grant.award_number || grant.id;
}

/**
 * The question's sentence before a paid start on opening a notebook.
 */
export function askSentence(
  notebook: string,
  paid: IPaidKernel,
  grant: IGrantName | null,
  trans: TranslationBundle
): string {
  const rate = formatRate(paid.perHour, paid.currency);
  return grant
    ? trans.__(
        '%1 was saved on %2, which costs %3, charged to grant %4.',
        notebook,
        paid.label,
        rate,
        grantName(grant)
      )
    : trans.__(
        '%1 was saved on %2, which costs %3; no grant is chosen for it yet, so you choose one before it starts.',
        notebook,
        paid.label,
        rate
      );
}

/**
 * The notification after a notebook opened on the free tier instead of the
 * paid tier it was saved on (setting `paidStartOnOpen: start-local`).
 */
export function startedLocalMessage(
  notebook: string,
  paid: IPaidKernel,
  local: string,
  trans: TranslationBundle
): string {
  return trans.__(
    '%1 started on %2, not on %3 (%4).',
    notebook,
    local,
    paid.label,
    formatRate(paid.perHour, paid.currency)
  );
}

/**
 * The notification right after a paid kernel started by another path than
 * the compute panel (JupyterLab's *Change kernel* dialog, its launcher).
 */
export function paidStartMessage(
  notebook: string,
  paid: IPaidKernel,
  grant: IGrantName | null,
  trans: TranslationBundle
): string {
  const rate = formatRate(paid.perHour, paid.currency);
  return grant
    ? trans.__(
        '%1 now runs on %2: %3, charged to grant %4.',
        notebook,
        paid.label,
        rate,
        grantName(grant)
      )
    : trans.__('%1 now runs on %2: %3.', notebook, paid.label, rate);
}
