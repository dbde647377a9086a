import type { RelayEventName, RelayEvents } from '../engine/events.js';
import { oneLine } from '../text.js';

export { oneLine };

/**
 * One human-readable line per engine event, for --no-ui's stdout and logs/relay.log.
 * Streaming deltas are not logged: they would be thousands of lines per reply.
 */

const money = (n: number) => `$${n.toFixed(4)}`;

export function formatEvent<K extends RelayEventName>(name: K, p: RelayEvents[K]): string | null {
  const e = p as any;
  switch (name) {
    case 'turn:delta':
      return null;
    case 'log':
      return `${e.level === 'info' ? '' : `${e.level.toUpperCase()}: `}${e.message}`;
    case 'envelope:queued':
      return `queued ${e.file} from ${e.session}`;
    case 'envelope:rejected':
      return `REJECTED queue/${e.file}: ${e.reason} (moved to queue/.rejected/)`;
    case 'turn:started':
      return e.kind === 'summary' ? `summarizing the conversation` : `turn started for ${e.session}${e.file ? ` (${e.file})` : ''}`;
    case 'turn:retry':
      return `API retry ${e.attempt}/${e.of} in ${(e.delayMs / 1000).toFixed(1)} s: ${e.message}`;
    case 'turn:completed':
      return `turn ${e.seq} ${e.session}${e.route !== e.session ? ` → ${e.route}` : ''}: ${money(e.costUsd)}, cache hit ${Math.round(e.cacheHit * 100)}%${e.held ? `, HELD (${e.held})` : ''}: ${oneLine(e.preview, 100)}`;
    case 'turn:failed':
      return `ERROR: turn for ${e.session} failed: ${e.message}`;
    case 'summary:done':
      return `summarized: ${e.replacedTurns} turns folded, ${e.keptTurns} kept, ${money(e.costUsd)}`;
    case 'dispatch:waiting':
      return `reply for ${e.session} waits: input.txt not yet consumed (${e.pending} pending)`;
    case 'dispatch:written':
      return `dispatched ${e.chars} bytes to ${e.session}`;
    case 'dispatch:acked':
      return `${e.session} consumed its input.txt`;
    case 'state:changed':
      return `state ${e.state}${e.reason ? ` (${e.reason})` : ''}${e.message ? `: ${oneLine(e.message, 160)}` : ''}`;
    case 'session:paused':
      return `${e.session} paused (${e.reason}): ${e.message}`;
    case 'session:resumed':
      return `${e.session} resumed`;
    case 'operator:result':
      return `operator (${e.source}) ${oneLine(e.input, 80)} → ${e.ok ? '' : 'FAILED: '}${e.message}`;
    case 'notify:sent':
      return `ntfy sent: ${e.title}`;
    case 'notify:failed':
      return `ntfy failed: ${e.title}: ${e.error}`;
    default:
      return `${name} ${JSON.stringify(p)}`;
  }
}


/** The key must never reach a log line, whatever an error message happened to quote. */
export function redactor(secrets: Array<string | undefined>): (line: string) => string {
  const list = secrets.filter((s): s is string => !!s && s.length >= 8);
  return (line) => list.reduce((acc, s) => acc.split(s).join('***'), line);
}
