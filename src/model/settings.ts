/**
 * The user settings (schema/panel.json) as the model keeps them.
 */
import {
  DEFAULT_SETTINGS,
  IComputePanelSettings,
  PAID_START_ON_OPEN
} from '../tokens';

/**
 * `current` with the valid values of `changes` (those of the right type).
 */
export function mergeSettings(
  current: IComputePanelSettings,
  changes: Partial<IComputePanelSettings>
): IComputePanelSettings {
  const next = { ...current };
  for (const key of Object.keys(DEFAULT_SETTINGS) as Array<
    keyof IComputePanelSettings
  >) {
    const value = changes[key];
    if (value !== undefined && typeof value === typeof DEFAULT_SETTINGS[key]) {
      (next as Record<string, unknown>)[key] = value;
    }
  }
  next.refreshInterval = Math.max(1, Number(next.refreshInterval) || 10);
  if (!PAID_START_ON_OPEN.includes(next.paidStartOnOpen)) {
    next.paidStartOnOpen = current.paidStartOnOpen;
  }
  return next;
}
