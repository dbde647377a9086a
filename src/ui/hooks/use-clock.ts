import { useEffect, useState } from 'react';

/**
 * The time, ticking every periodMs for uptime and ages: the only timer of an idle UI.
 * With `alignTo` the ticks fall on alignTo + k·periodMs, so a coarse clock that shows
 * whole minutes since alignTo changes its figure on the tick where it becomes true.
 */
export function useClock(now: () => number = Date.now, periodMs = 1000, alignTo?: number): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const arm = () => {
      const n = now();
      const wait = alignTo === undefined ? periodMs : periodMs - ((((n - alignTo) % periodMs) + periodMs) % periodMs);
      timer = setTimeout(
        () => {
          setT(now());
          arm();
        },
        Math.max(1, wait),
      );
    };
    arm();
    return () => clearTimeout(timer);
  }, [now, periodMs, alignTo]);
  return t;
}
