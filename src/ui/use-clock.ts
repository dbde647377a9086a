import { useEffect, useState } from 'react';

/** The time, ticking every periodMs for uptime and ages: the only timer of an idle UI. */
export function useClock(now: () => number = Date.now, periodMs = 1000): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    const id = setInterval(() => setT(now()), periodMs);
    return () => clearInterval(id);
  }, [now, periodMs]);
  return t;
}
