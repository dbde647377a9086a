import fs from 'node:fs';
import { openForAppend } from '../fs/confine.js';
import type { RelayEmitter } from '../engine/api.js';
import { formatEvent, redactor } from './format.js';

/**
 * Writes engine events to logs/relay.log (both views) and optionally to a stream
 * (--no-ui). Log lines are appended without fsync: they are for reading, the
 * durable record is the state/ journals.
 */
export function attachLog(
  events: RelayEmitter,
  opts: { file: string; secrets: Array<string | undefined>; stream?: NodeJS.WritableStream; json?: boolean },
): () => void {
  // Confined: a logs/relay.log that is a link or a FIFO is refused, not appended through or blocked on.
  const fd = openForAppend(opts.file, 0o600);
  const redact = redactor(opts.secrets);
  const off = events.onAny((name, payload) => {
    const at = new Date().toISOString();
    const text = formatEvent(name, payload);
    if (text === null) return;
    const human = redact(`${at} ${text}`) + '\n';
    try {
      fs.writeSync(fd, human);
    } catch {
      /* a full disk must not stop the relay */
    }
    if (opts.stream) opts.stream.write(opts.json ? redact(JSON.stringify({ at, event: name, ...payload, text })) + '\n' : human);
  });
  return () => {
    off();
    fs.closeSync(fd);
  };
}
