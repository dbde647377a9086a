import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeAtomic } from '../fs/atomic.js';
import { ConfinementError, InputError } from '../fs/confine.js';
import { describeFsError, RootFault } from '../fs/faults.js';
import { evidenceSchema } from './evidence.js';
import type { RootPaths } from './root.js';
import { checkSessionId, SESSION_ID_RE } from './session-id.js';

/**
 * queue/'s protocol, both sides of it: what an envelope is, which names the relay reads,
 * and the one writer (send, the Stop hook, the demo's sessions and the bench all write
 * through writeEnvelope; the relay's Intake reads with isCandidateName and the schema).
 */

/** What a session drops into queue/. Unknown fields are kept (sessions may add metadata). */
export const envelopeSchema = z.looseObject({
  session_id: z.string().regex(SESSION_ID_RE, 'must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (it names a directory under dispatch/)'),
  content: z.string().min(1, 'must be a non-empty string'),
  timestamp: z.string().optional(),
  id: z.string().optional(),
  /** Who wrote it: 'hook' for the Claude Code Stop hook (its turns count toward hooks.max_chain). */
  source: z.string().max(64).optional(),
  /** The machine a remote session reports from (shown per session in status.json). */
  host: z.string().max(255).optional(),
  /** What the turn did (protocol/evidence.ts): bounded, shown to chat-Claude beside the content. */
  evidence: evidenceSchema.optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

/**
 * The queue name rule: a writer writes queue/.NAME.tmp and renames it to queue/NAME.json,
 * so a name starting with `.` or ending in `.tmp` is one still being written: never read.
 */
export function isCandidateName(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('.tmp');
}

/** A fresh envelope's name: the time first, so names sort in the order they were written. */
export function envelopeName(session: string, at = Date.now()): string {
  return `${at}-${session}-${crypto.randomBytes(3).toString('hex')}.json`;
}

export interface WriteEnvelopeOptions {
  /** The name in queue/ (default envelopeName()); must pass isCandidateName. */
  name?: string;
  /**
   * false: write and rename with no fsync. Only the bench, which measures the relay and
   * not the session's disk; everything a user runs writes durably (the default).
   */
  durable?: boolean;
  /** Called just before the rename that makes the envelope visible (the bench's clock). */
  beforeRename?: () => void;
}

/**
 * The one envelope writer: queue/.NAME.tmp renamed to queue/NAME.json, so the relay
 * never sees half a file. Returns the name. A full disk or an unwritable queue/ is the
 * root's problem (RootFault: one line that says so, no stack).
 */
export function writeEnvelope(queueDir: string, body: Envelope, o: WriteEnvelopeOptions = {}): string {
  const name = o.name ?? envelopeName(body.session_id);
  if (!isCandidateName(name)) throw new InputError(`not a name the relay reads from queue/: ${name}`);
  const file = path.join(queueDir, name);
  const data = JSON.stringify(body) + '\n';
  try {
    if (o.durable === false) {
      const tmp = path.join(queueDir, `.${name}.tmp`);
      fs.writeFileSync(tmp, data, { flag: 'wx' });
      o.beforeRename?.();
      fs.renameSync(tmp, file);
    } else {
      writeAtomic(file, data, 0o644, o.beforeRename);
    }
  } catch (err) {
    throw err instanceof ConfinementError ? err : new RootFault(file, describeFsError(err, file), (err as NodeJS.ErrnoException).code);
  }
  return name;
}

/** What `send`, the Stop hook and the demo's sessions call: a session's envelope, written. */
export function enqueueEnvelope(
  p: Pick<RootPaths, 'queue'>,
  session: string,
  content: string,
  extra: Record<string, unknown> = {},
): string {
  return writeEnvelope(p.queue, sessionEnvelope(session, content, extra));
}

/**
 * A session's envelope as send and the hook write it: checked id, non-empty content,
 * the time, and the machine it reports from when a remote call set RELAY_SESSION_HOST.
 */
export function sessionEnvelope(session: string, content: string, extra: Record<string, unknown> = {}): Envelope {
  checkSessionId(session);
  if (!content.trim()) throw new InputError('nothing to send: the content is empty');
  const host = /^[A-Za-z0-9._-]{1,253}$/.test(process.env.RELAY_SESSION_HOST ?? '') ? process.env.RELAY_SESSION_HOST : undefined;
  return { session_id: session, timestamp: new Date().toISOString(), content, ...(host ? { host } : {}), ...extra };
}
