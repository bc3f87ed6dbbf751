/**
 * The live cost of a run, between the server's figures.
 */
import { ComputePanelAPI } from '../api';
import { costMicros, formatExactMicros, parseMicros } from '../money';
import type { ILiveCost } from '../tokens';

/**
 * The cost of `run` so far.
 *
 * Anchored on the server's cost at the last fetch, plus the run's rate
 * (`rateMicros` per hour) times the local time elapsed since, `elapsedMs`
 * (integer micro-units). A closed run shows exactly the server's figure.
 */
export function liveCostOf(
  run: ComputePanelAPI.IRun,
  rateMicros: bigint | null,
  elapsedMs: number
): ILiveCost {
  const serverMicros = parseMicros(run.cost.amount) ?? BigInt(0);
  if (run.status === 'closed' || rateMicros === null) {
    return {
      micros: serverMicros,
      amount: run.cost.amount,
      currency: run.cost.currency,
      exact: run.status === 'closed'
    };
  }
  const micros = serverMicros + costMicros(rateMicros, elapsedMs);
  return {
    micros,
    amount: formatExactMicros(micros),
    currency: run.cost.currency || run.rate.currency,
    exact: false
  };
}
