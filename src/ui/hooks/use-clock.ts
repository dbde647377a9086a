import { useEffect, useReducer } from 'react';

/**
 * The time for the figures on screen, re-rendering only when one of them will change:
 * `nextChangeMs(now)` says when (ticks.ts), and is asked again after every render, so a
 * new status re-plans at once. The only timer of an idle UI, and a single one.
 */
export function useClock(now: () => number, nextChangeMs: (now: number) => number): number {
  const [tick, bump] = useReducer((n: number) => n + 1, 0);
  const t = now();
  useEffect(() => {
    const wait = nextChangeMs(t);
    if (!Number.isFinite(wait)) return undefined;
    // A few ms past the change: the timer and Date.now() are different clocks, and a tick
    // that lands just before the figure turns would draw the same frame again.
    const timer = setTimeout(bump, Math.min(wait + 5, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [t, tick, nextChangeMs]);
  return t;
}
