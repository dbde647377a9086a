import type { RelayEmitter } from '../kernel/events.js';
import { isoNow } from '../kernel/ports.js';
import type { Timers } from '../kernel/timers.js';
import { newCode, type Pauses } from './pauses.js';
import type { Pings } from './pings.js';

/**
 * chat-Claude's account hit its usage limit (the claude-code backend): the relay as a whole
 * pauses with the reset time and pings once. The end of a usage-limit pause: a timer (the engine's Timers, no polling) set for the
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

export interface UsageLimitPauseParts {
  pauses: Pauses;
  now: () => number;
  events: RelayEmitter;
  pings: Pings;
}

/** Opens the pause (the same reset again changes nothing: one ping). */
export function pauseForUsageLimit(p: UsageLimitPauseParts, session: string, message: string, resetsAt?: number): void {
  const until = resetsAt ? new Date(resetsAt).toISOString() : undefined;
  const prev = p.pauses.control.paused;
  if (prev?.reason === 'usage_limit' && prev.until === until) return;
  const code = newCode();
  const when = until ? `resets at ${until}; the relay resumes by itself then` : 'no reset time was given; /resume when it has reset';
  p.pauses.setPause(
    {
      reason: 'usage_limit',
      message: `usage limit reached (${when}): ${message}`,
      at: isoNow(p.now),
      session,
      code,
      ...(until ? { until } : {}),
    },
    'relay',
  );
  p.pauses.trySave();
  p.events.emit('log', { level: 'warn', message: `chat-Claude's usage limit reached: relay paused, ${when}` });
  p.pings.pause('usage_limit', {
    title: 'relay-tui: usage limit reached, relay paused',
    message: `${when}.\nNothing was dropped; /resume tries earlier.`,
    priority: 4,
    tags: ['hourglass'],
    actions: p.pings.resumeButtons(code),
  });
}
