import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';

/**
 * "1× NVIDIA H200 · 141 GB · 16 CPU cores" or "CPU only · 4 cores".
 */
export function formatHardware(
  hardware: ComputePanelAPI.IHardware | undefined,
  trans: TranslationBundle
): string {
  const parts: string[] = [];
  const gpu = hardware?.gpu;
  if (gpu && gpu.model) {
    parts.push(`${gpu.count ?? 1}× ${gpu.model}`);
    if (gpu.memory_gb) {
      parts.push(trans.__('%1 GB', String(gpu.memory_gb)));
    }
    if (hardware?.cpu_cores) {
      parts.push(trans.__('%1 CPU cores', String(hardware.cpu_cores)));
    }
  } else {
    parts.push(trans.__('CPU only'));
    if (hardware?.cpu_cores) {
      parts.push(trans.__('%1 cores', String(hardware.cpu_cores)));
    }
  }
  return parts.join(' · ');
}

/**
 * "0.50 USD/h" or "Free".
 */
export function formatPrice(
  tier: ComputePanelAPI.ITier,
  trans: TranslationBundle
): string {
  if (tier.free) {
    return trans.__('Free');
  }
  return trans.__('%1 %2/h', tier.price.per_hour, tier.price.currency);
}

/**
 * The reliability class in words.
 */
export function formatReliability(
  reliability: ComputePanelAPI.Reliability | string,
  trans: TranslationBundle
): string {
  switch (reliability) {
    case 'local':
      return trans.__('Local');
    case 'community':
      return trans.__('Community');
    case 'datacenter':
      return trans.__('Datacenter');
    case 'cloud-accelerator':
      return trans.__('Cloud accelerator');
    default:
      return String(reliability);
  }
}

/**
 * A grant in a picker: "NSF CNS-2401234 — Title".
 */
export function formatGrant(grant: ComputePanelAPI.IGrant): string {
  return grant.title
    ? `${grant.award_number} — ${grant.title}`
    : grant.award_number;
}
