import type { INotebookModel } from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';

import { METADATA_KEY } from './tokens';

/**
 * Where and at what price the saved outputs were computed: the run of the
 * notebook's kernel when it was saved (`provenance` under our metadata key).
 *
 * Re-runs write the same block in their executed copies
 * (`jupyterlab_compute_panel/rerun.py`, `provenance()`), with `rerun_id`,
 * `source`, `status`, `error`, `ended` and `cost` besides; a saved notebook
 * adds `cuda` and `recorded`. Readers take any of these shapes.
 */
export interface IProvenance {
  /**
   * The ledger's run id (GET /runs/{id}).
   */
  run_id: string;
  tier: string;
  tier_label?: string;
  /**
   * The tier's hardware as the catalog describes it.
   */
  hardware?: Record<string, unknown> | null;
  price_per_hour?: { amount: string; currency: string };
  grant: string | null;
  /**
   * CUDA as the run's environment fingerprint found it (driver, runtime,
   * toolkit, cudnn); null when no environment was captured.
   */
  cuda?: Record<string, unknown> | null;
  /**
   * ISO date-times: when the run started, and when this block was written.
   */
  started?: string;
  recorded?: string;
  [key: string]: unknown;
}

/**
 * The notebook metadata written under `jupyterlab_compute_panel`.
 */
export interface INotebookComputeMetadata {
  tier: string;
  grant: string | null;
  /**
   * Absent in notebooks that were never saved on a tier.
   */
  provenance?: IProvenance;
}

/**
 * The outcome of reading our metadata key.
 */
export type MetadataReading =
  | { kind: 'absent' }
  | { kind: 'valid'; value: INotebookComputeMetadata }
  | { kind: 'invalid'; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Why a provenance block is malformed, or null when it is well formed.
 */
export function provenanceProblem(value: unknown): string | null {
  if (!isRecord(value)) {
    return '"provenance" is not an object';
  }
  if (typeof value.run_id !== 'string' || value.run_id === '') {
    return '"provenance.run_id" is not a run id';
  }
  if (typeof value.tier !== 'string' || value.tier === '') {
    return '"provenance.tier" is not a tier id';
  }
  if (
    value.grant !== undefined &&
    value.grant !== null &&
    typeof value.grant !== 'string'
  ) {
    return '"provenance.grant" is neither a grant id nor null';
  }
  const price = value.price_per_hour;
  if (
    price !== undefined &&
    (!isRecord(price) ||
      typeof price.amount !== 'string' ||
      typeof price.currency !== 'string')
  ) {
    return '"provenance.price_per_hour" is not an amount with its currency';
  }
  for (const key of ['hardware', 'cuda'] as const) {
    const part = value[key];
    if (part !== undefined && part !== null && !isRecord(part)) {
      return `"provenance.${key}" is neither an object nor null`;
    }
  }
  for (const key of ['tier_label', 'started', 'recorded'] as const) {
    const part = value[key];
    if (part !== undefined && part !== null && typeof part !== 'string') {
      return `"provenance.${key}" is not a string`;
    }
  }
  return null;
}

/**
 * Validate what a notebook holds under our key; never throws.
 *
 * Notebooks written before provenance existed (`{tier, grant}`) stay valid.
 * The reasons are English fragments; callers translate the sentence around.
 */
export function readComputeMetadata(value: unknown): MetadataReading {
  if (value === undefined || value === null) {
    return { kind: 'absent' };
  }
  if (!isRecord(value)) {
    return { kind: 'invalid', reason: 'it is not an object' };
  }
  const record = value;
  if (typeof record.tier !== 'string' || record.tier === '') {
    return { kind: 'invalid', reason: '"tier" is not a tier id' };
  }
  const grant = record.grant ?? null;
  if (grant !== null && typeof grant !== 'string') {
    return {
      kind: 'invalid',
      reason: '"grant" is neither a grant id nor null'
    };
  }
  const read: INotebookComputeMetadata = { tier: record.tier, grant };
  if (record.provenance !== undefined) {
    const problem = provenanceProblem(record.provenance);
    if (problem) {
      return { kind: 'invalid', reason: problem };
    }
    read.provenance = record.provenance as IProvenance;
  }
  return { kind: 'valid', value: read };
}

/**
 * The warning a notebook's invalid compute-panel metadata deserves, or null
 * (none, or valid).
 */
export function metadataWarning(
  model: Pick<INotebookModel, 'getMetadata'> | null | undefined,
  trans: TranslationBundle
): string | null {
  if (!model) {
    return null;
  }
  let value: unknown;
  try {
    value = model.getMetadata(METADATA_KEY);
  } catch {
    value = undefined;
  }
  const reading = readComputeMetadata(value);
  if (reading.kind !== 'invalid') {
    return null;
  }
  return trans.__(
    "This notebook's compute-panel metadata is invalid: %1; it will be rewritten on the next move",
    reading.reason
  );
}
