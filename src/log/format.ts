import type { RelayEventName, RelayEvents } from '../engine/api.js';
import { clipLine } from '../text.js';

export { clipLine };

/**
 * One human-readable line per engine event, for --no-ui's stdout and logs/relay.log.
 * Streaming deltas are not logged: they would be thousands of lines per reply.
 */

const money = (n: number) => `$${n.toFixed(4)}`;

/** One formatter per event that gets a line; typed per event, so a renamed payload field fails to compile. */
const LINES: { [K in RelayEventName]?: (e: RelayEvents[K]) => string | null } = {
  // Streaming deltas are not logged: thousands of lines per reply.
  'turn:delta': () => null,
  log: (e) => `${e.level === 'info' ? '' : `${e.level.toUpperCase()}: `}${e.message}`,
  'envelope:queued': (e) => `queued ${e.file} from ${e.session}`,
  'envelope:rejected': (e) => `REJECTED queue/${e.file}: ${e.reason} (moved to queue/.rejected/)`,
  'turn:started': (e) =>
    e.kind === 'summary' ? `summarizing the conversation` : `turn started for ${e.session}${e.file ? ` (${e.file})` : ''}`,
  'turn:retry': (e) => `API retry ${e.attempt}/${e.of} in ${(e.delayMs / 1000).toFixed(1)} s: ${e.message}`,
  'turn:completed': (e) =>
    `turn ${e.seq} ${e.session}${e.route !== e.session ? ` → ${e.route}` : ''}: ${money(e.costUsd)}, cache hit ${Math.round(e.cacheHit * 100)}%${e.held ? `, HELD (${e.held})` : ''}: ${clipLine(e.preview, 100)}`,
  'turn:failed': (e) => `ERROR: turn for ${e.session} failed: ${e.message}`,
  'summary:done': (e) => `summarized: ${e.replacedTurns} turns folded, ${e.keptTurns} kept, ${money(e.costUsd)}`,
  'dispatch:waiting': (e) => `reply for ${e.session} waits: input.txt not yet consumed (${e.pending} pending)`,
  'dispatch:written': (e) => `dispatched ${e.chars} bytes to ${e.session}`,
  'dispatch:acked': (e) => `${e.session} consumed its input.txt`,
  'state:changed': (e) => `state ${e.state}${e.reason ? ` (${e.reason})` : ''}${e.message ? `: ${clipLine(e.message, 160)}` : ''}`,
  'session:paused': (e) => `${e.session} paused (${e.reason}): ${e.message}`,
  'session:resumed': (e) => `${e.session} resumed`,
  'operator:result': (e) => `operator (${e.source}) ${clipLine(e.input, 80)} → ${e.ok ? '' : 'FAILED: '}${e.message}`,
  'notify:sent': (e) => `ntfy sent: ${e.title}`,
  'notify:failed': (e) => `ntfy failed: ${e.title}: ${e.error}`,
};

export function formatEvent<K extends RelayEventName>(name: K, p: RelayEvents[K]): string | null {
  const line = LINES[name] as ((e: RelayEvents[K]) => string | null) | undefined;
  return line ? line(p) : `${name} ${JSON.stringify(p)}`;
}

/** The key must never reach a log line, whatever an error message happened to quote. */
export function redactor(secrets: Array<string | undefined>): (line: string) => string {
  const list = secrets.filter((s): s is string => !!s && s.length >= 8);
  return (line) => list.reduce((acc, s) => acc.split(s).join('***'), line);
}
