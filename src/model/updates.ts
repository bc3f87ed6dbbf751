/**
 * What the model makes of the server's event stream and of a poll's answers.
 */
import { ComputePanelAPI } from '../api';

/**
 * An emission of the server's event stream (`Event.Emission`).
 */
export interface IEventEmission {
  readonly schema_id: string;
  readonly [key: string]: unknown;
}

/**
 * What a run event means for the model following kernel `kernelId` with
 * `run` on display: `ignore` (another schema, another kernel's heartbeat),
 * else `refresh`, with the run as the server closed it when the event closes
 * the run on display (its final figure, exactly).
 */
export function readRunEvent(
  emission: IEventEmission,
  kernelId: string | null,
  run: ComputePanelAPI.IRun | null
): 'ignore' | { refresh: true; closed: ComputePanelAPI.IRun | null } {
  if (emission.schema_id !== ComputePanelAPI.RUN_EVENT_SCHEMA) {
    return 'ignore';
  }
  const event = emission as unknown as ComputePanelAPI.IRunEvent;
  const ours = !!kernelId && event.kernel_id === kernelId;
  if (event.action === 'heartbeat' && !ours) {
    return 'ignore';
  }
  const closesShown =
    event.action === 'closed' &&
    !!run &&
    run.id === event.run_id &&
    typeof event.cost === 'string';
  return {
    refresh: true,
    closed:
      closesShown && run
        ? {
            ...run,
            status: 'closed',
            cost: { amount: event.cost as string, currency: event.currency },
            end_reason: (event.end_reason ??
              null) as ComputePanelAPI.EndReason | null
          }
        : null
  };
}

/**
 * Whether two lists of grants read the same (so that a poll that changed
 * nothing re-renders nothing).
 */
export function sameGrants(
  a: ReadonlyArray<ComputePanelAPI.IGrant>,
  b: ReadonlyArray<ComputePanelAPI.IGrant>
): boolean {
  return (
    a.length === b.length &&
    a.every((grant, i) => JSON.stringify(grant) === JSON.stringify(b[i]))
  );
}
