import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { formatRate } from '../money';

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
      parts.push(trans._n('%1 CPU core', '%1 CPU cores', hardware.cpu_cores));
    }
  } else {
    parts.push(trans.__('CPU only'));
    if (hardware?.cpu_cores) {
      parts.push(trans._n('%1 core', '%1 cores', hardware.cpu_cores));
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
  return formatRate(tier.price.per_hour, tier.price.currency);
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

/**
 * Seconds as "2 h 05 min", "4 min 10 s" or "12 s".
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) {
    return `${h} h ${String(m).padStart(2, '0')} min`;
  }
  if (m > 0) {
    return `${m} min ${String(r).padStart(2, '0')} s`;
  }
  return `${r} s`;
}

/**
 * An ISO instant as "2026-03-01 14:05" (UTC).
 */
export function formatInstant(iso: string | null): string {
  if (!iso) {
    return '';
  }
  return iso.replace('T', ' ').slice(0, 16);
}

/**
 * An end reason in words: what happened to the run's kernel.
 */
export function explainEndReason(
  run: Pick<ComputePanelAPI.IRun, 'status' | 'end_reason'>,
  trans: TranslationBundle
): string {
  if (run.status === 'open') {
    return trans.__('Still running: its kernel is alive and metered.');
  }
  switch (run.end_reason) {
    case 'shutdown':
      return trans.__(
        'Shut down on request: the notebook was closed, its kernel shut down, the server stopped normally, or a batch run ended.'
      );
    case 'restart':
      return trans.__(
        'The kernel was restarted on request; its next life is a new run.'
      );
    case 'culled':
      return trans.__(
        'Shut down for being idle past the idle timeout of its tier (or of the server).'
      );
    case 'died':
      return trans.__('The kernel process exited by itself or was killed.');
    case 'server_restart':
      return trans.__(
        'The server that launched it stopped without shutting it down; closed at its last heartbeat when the server started again.'
      );
    case 'lost':
      return trans.__(
        'Its heartbeats stopped (killed process or lost host); closed at its last heartbeat.'
      );
    case 'budget':
      return trans.__(
        "Stopped because its grant's budget was spent and the grant has a hard stop."
      );
    case 'launch_failed':
      return trans.__('The kernel did not start; nothing was charged.');
    case 'completed':
      return trans.__('A re-run that executed every cell.');
    case 'cell_error':
      return trans.__('A re-run stopped after a cell raised an error.');
    case 'cancelled':
      return trans.__(
        'A re-run cancelled by its user (or stopped with the server).'
      );
    case 'time_limit':
      return trans.__('A re-run stopped at its time limit.');
    case 'ledger_unreachable':
      return trans.__(
        'Stopped because the compute ledger stayed unreachable past its grace; billed to its last held heartbeat.'
      );
    default:
      return run.end_reason
        ? trans.__('Ended: %1.', run.end_reason)
        : trans.__('Ended, for a reason not recorded.');
  }
}

/**
 * A short end reason for a table cell.
 */
export function shortEndReason(
  run: Pick<ComputePanelAPI.IRun, 'status' | 'end_reason'>,
  trans: TranslationBundle
): string {
  if (run.status === 'open') {
    return trans.__('running');
  }
  return run.end_reason ?? '';
}
