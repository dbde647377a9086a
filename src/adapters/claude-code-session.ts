import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readJson, writeAtomic } from '../fs/atomic.js';
import { ensureDir } from '../fs/confine.js';
import type { ChatMessage, ChatRequest } from './anthropic.js';

/**
 * What the supervisor's Claude Code session holds, kept under the state directory the
 * engine gives the client. The engine sends the whole conversation on every call (the
 * API is stateless) while Claude Code keeps its own; this record is what lets the
 * adapter send only what is new, resume the same session after a restart, and notice
 * when the two have parted (a summary replaced the history, a call was cut) so that
 * chat-Claude never sees a message twice and nothing the engine holds is lost.
 */

export const RECORD_NAME = 'claude-code-session.json';
/** Claude Code's working directory: private, so no project CLAUDE.md or .claude/ of the user's is found. */
export const WORKDIR_NAME = 'claude-code-cwd';

const recordSchema = z.object({
  v: z.literal(1),
  session_id: z.string().min(1),
  /** sha256 of the system prompt the session was started with (a new prompt needs a new session). */
  system: z.string(),
  /** How many of the engine's messages the session holds, up to and including the last answered reply. */
  held: z.number().int().nonnegative(),
  /** sha256 over those messages, so a request is known to extend them only when it really does. */
  hash: z.string(),
  /** The uuid of the last answered turn's final assistant entry: `--resume-session-at` cuts anything after it. */
  anchor: z.string().nullable(),
  /**
   * The point before the last answered turn: when the engine asks that turn again (it
   * never recorded the answer: a crash or an abort between Claude Code's result and the
   * relay's commit), the session is resumed there and the turn asked once more.
   */
  before: z.object({ held: z.number().int().nonnegative(), hash: z.string(), anchor: z.string() }).nullable().optional(),
  /** Set while a message is out: after a crash it says a turn may be in Claude Code's transcript unanswered. */
  in_flight: z.object({ since: z.string(), held: z.number().int().nonnegative() }).nullable(),
});
export type SessionRecord = z.infer<typeof recordSchema>;

export function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** Each message's role and length go into the hash, so no two different lists can join to the same text. */
export function hashMessages(messages: readonly ChatMessage[]): string {
  const h = crypto.createHash('sha256');
  for (const m of messages) h.update(`${m.role}\u0000${Buffer.byteLength(m.content)}\u0000${m.content}\u0000`);
  return h.digest('hex');
}

export class SessionStore {
  readonly file: string;
  readonly workdir: string;

  constructor(readonly stateDir: string) {
    this.file = path.join(stateDir, RECORD_NAME);
    this.workdir = path.join(stateDir, WORKDIR_NAME);
  }

  /** The working directory Claude Code runs in, created empty on first use (0700: its transcripts are named after it). */
  ensureWorkdir(): string {
    ensureDir(this.stateDir, 0o700);
    ensureDir(this.workdir, 0o700);
    return this.workdir;
  }

  /**
   * The saved record, or undefined when there is none. A record that does not parse
   * is reported through onProblem and treated as none: the next call starts a fresh
   * session seeded with the whole conversation, which loses nothing.
   */
  load(onProblem?: (msg: string) => void): SessionRecord | undefined {
    let raw: unknown;
    try {
      raw = readJson<unknown>(this.file);
    } catch (err) {
      onProblem?.(`${this.file}: ${(err as Error).message}; starting a fresh supervisor session`);
      return undefined;
    }
    if (raw === undefined) return undefined;
    const parsed = recordSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      onProblem?.(`${this.file}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message}; starting a fresh supervisor session`);
      return undefined;
    }
    return parsed.data;
  }

  save(rec: SessionRecord): void {
    ensureDir(this.stateDir, 0o700);
    writeAtomic(this.file, JSON.stringify(rec, null, 2) + '\n', 0o600);
  }

  clear(): void {
    fs.rmSync(this.file, { force: true });
  }
}

/**
 * How one request reaches the session:
 * - extend: the request is what the session holds plus one new user message; send that message alone.
 * - fresh: anything else (no record, another system prompt, a summary that replaced the history,
 *   a turn the record never saw answered): a new session seeded with the request's messages.
 */
export type Plan =
  { kind: 'extend'; text: string; at?: { anchor: string; held: number; hash: string } } | { kind: 'fresh'; text: string; reason: string };

export function planRequest(req: ChatRequest, rec: SessionRecord | undefined): Plan {
  const fresh = (reason: string): Plan => ({ kind: 'fresh', text: seedText(req.messages), reason });
  if (!rec) return fresh('no supervisor session yet');
  if (rec.system !== sha256(req.system)) return fresh('the system prompt changed');
  if (rec.anchor === null) return fresh('the session has no answered turn to resume from');
  const { messages } = req;
  const b = rec.before;
  // The last answered turn asked again: its answer never reached the relay's record.
  if (b && messages.length === b.held + 1 && messages[b.held].role === 'user' && hashMessages(messages.slice(0, b.held)) === b.hash)
    return { kind: 'extend', text: messages[b.held].content, at: b };
  if (messages.length !== rec.held + 1) {
    return fresh(
      messages.length <= rec.held ? 'the conversation was replaced (summary)' : 'the conversation grew by more than one message',
    );
  }
  const last = messages[messages.length - 1];
  if (last.role !== 'user') return fresh('the request does not end with a user message');
  if (hashMessages(messages.slice(0, rec.held)) !== rec.hash) return fresh('the conversation differs from what the session holds');
  return { kind: 'extend', text: last.content };
}

/**
 * A fresh session gets the conversation as one user message: the earlier messages as a
 * transcript, then the newest one. Claude Code takes only user turns on stdin, so this is
 * the one way to hand it a history it did not live through; it is read once and becomes
 * the session's first turn.
 */
export function seedText(messages: readonly ChatMessage[]): string {
  if (messages.length === 0) return '';
  const last = messages[messages.length - 1];
  if (messages.length === 1) return last.content;
  const earlier = messages
    .slice(0, -1)
    .map((m) => `<message role="${m.role}">\n${m.content}\n</message>`)
    .join('\n');
  return (
    '[relay] The supervisor session was restarted. The conversation so far, oldest first, as the relay recorded it:\n\n' +
    `${earlier}\n\n[relay] The newest message, to answer now:\n\n${last.content}`
  );
}

/**
 * The record after an answered turn: the session now holds the request and its reply.
 * `from`: where the turn was sent from (the resume point it extended), kept as `before`.
 */
export function answered(
  req: ChatRequest,
  reply: string,
  sessionId: string,
  anchor: string | null,
  from?: { anchor: string; held: number; hash: string },
): SessionRecord {
  const held = [...req.messages, { role: 'assistant' as const, content: reply }];
  return {
    v: 1,
    session_id: sessionId,
    system: sha256(req.system),
    held: held.length,
    hash: hashMessages(held),
    anchor,
    before: from ?? null,
    in_flight: null,
  };
}
