import type { Timers } from '../kernel/timers.js';
import type { Pauses } from './pauses.js';

/**
 * The end of a usage-limit pause: a timer (the engine's Timers, no polling) set for the
 * reset time Claude Code reported, armed when the pause opens and again at start-up
 * from control.json, so a restart during the wait still resumes on time. /resume
 * earlier ends the pause; the timer then finds nothing to do.
 */

const KEY = 'usage-limit-resume';
/** setTimeout's longest wait (~24.8 days); a weekly limit fits, a longer one is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface UsageLimitParts {
  pauses: Pauses;
  timers: Timers;
  now: () => number;
  log: (level: 'info' | 'warn', message: string) => void;
  kick: () => void;
}

export function armUsageLimitResume(p: UsageLimitParts): void {
  const paused = p.pauses.control.paused;
  if (paused?.reason !== 'usage_limit' || !paused.until) return;
  const at = Date.parse(paused.until);
  if (!Number.isFinite(at)) return;
  const until = paused.until;
  p.timers.after(
    Math.min(at - p.now(), MAX_TIMER_MS),
    () => {
      const still = p.pauses.control.paused;
      if (still?.reason !== 'usage_limit' || still.until !== until) return;
      if (p.now() < at) return armUsageLimitResume(p);
      p.log('info', `usage limit reset (${until}): resuming`);
      p.pauses.setPause(null, 'relay');
      p.pauses.trySave();
      p.kick();
    },
    { key: KEY, replace: true },
  );
}
