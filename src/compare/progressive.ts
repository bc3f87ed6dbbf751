/**
 * Painting a long comparison a chunk at a time.
 */
import * as React from 'react';

/**
 * The cell rows painted with the data; the rest follow, a chunk per
 * animation frame, so that the first screen of a 200-cell comparison paints
 * at once and the page stays responsive while the others are added.
 */
export const FIRST_ROWS = 40;
export const ROWS_PER_FRAME = 40;

/**
 * How many of `count` rows to render now: FIRST_ROWS, then ROWS_PER_FRAME
 * more each animation frame; back to FIRST_ROWS when `key` changes.
 */
export function useProgressiveCount(count: number, key: unknown): number {
  const [state, setState] = React.useState({
    key,
    shown: Math.min(count, FIRST_ROWS)
  });
  const shown =
    state.key === key
      ? Math.min(count, state.shown)
      : Math.min(count, FIRST_ROWS);
  React.useEffect(() => {
    if (state.key !== key) {
      setState({ key, shown: Math.min(count, FIRST_ROWS) });
      return;
    }
    if (shown >= count) {
      return;
    }
    const frame = requestAnimationFrame(() =>
      setState(current =>
        current.key === key
          ? { key, shown: Math.min(count, current.shown + ROWS_PER_FRAME) }
          : current
      )
    );
    return () => cancelAnimationFrame(frame);
    // state.key too: the render after a reset has the same `shown` as the
    // one that asked for it, and must still schedule the next chunk.
  }, [key, state.key, shown, count]);
  return shown;
}
