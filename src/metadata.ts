/**
 * The notebook metadata written under `jupyterlab_compute_panel`.
 */
export interface INotebookComputeMetadata {
  tier: string;
  grant: string | null;
}

/**
 * The outcome of reading our metadata key.
 */
export type MetadataReading =
  | { kind: 'absent' }
  | { kind: 'valid'; value: INotebookComputeMetadata }
  | { kind: 'invalid'; reason: string };

/**
 * Validate what a notebook holds under our key; never throws.
 *
 * The reasons are English fragments; callers translate the sentence around.
 */
export function readComputeMetadata(value: unknown): MetadataReading {
  if (value === undefined || value === null) {
    return { kind: 'absent' };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', reason: 'it is not an object' };
  }
  const record = value as Record<string, unknown>;
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
  return { kind: 'valid', value: { tier: record.tier, grant } };
}
