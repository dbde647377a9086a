import { readJson, writeAtomic } from '../../fs/atomic.js';
import { emptyGuardState, type GuardState } from '../limits/guard.js';
import type { PauseReason } from '../../protocol/status.js';

/**
 * The relay's small mutable state that must survive a restart: why it is paused,
 * the held reply, per-session pauses and the guard's counters. Rewritten whole
 * (atomically) when an operator action or a pause changes it, not on every turn:
 * the counters a turn moves are replayed from the conversation log past guard_seq
 * (see commit.ts), so a turn costs no control.json rewrite.
 */

export interface PauseInfo {
  reason: PauseReason;
  message: string;
  at: string;
  session?: string;
  /** One-time code binding phone replies to this pause. */
  code?: string;
  /** 'root': a RootFault (disk full, state/ unwritable), retried by the relay itself. */
  fault?: 'root' | 'session';
  /** The file the fault is about. */
  path?: string;
  /** An operator input the API refused (400/413): /drop discards it. */
  input_id?: string;
  /** A usage limit's reset time: the relay resumes by itself then (operator/usage-limit.ts). */
  until?: string;
}

export interface HeldReply {
  seq: number;
  /** The session the reply is for. */
  session: string;
  text: string;
  reason: 'needs_jc' | 'approval';
  at: string;
  /** One-time code binding phone replies to this pause. */
  code: string;
}

export interface Control {
  paused: PauseInfo | null;
  /** One held reply per session at most: an asking session takes no further envelope. */
  held: Record<string, HeldReply>;
  /** Per session: how many operator decisions (approve, drop, answer, redirect, resume) were about it. */
  decision_seq: Record<string, number>;
  /** Per session: the highest turn seq whose reply was set aside by the operator's own message. */
  superseded_through: Record<string, number>;
  session_pauses: Record<string, PauseInfo>;
  guard: GuardState;
  hook_chain: Record<string, number>;
  /**
   * The last conversation seq whose effect on `guard` and `hook_chain` is in this file.
   * Turns after it are replayed from the conversation at start-up: counted exactly once.
   */
  guard_seq: number;
  last_stuck_ping_at: number | null;
  last_needs_jc_text: string | null;
  /** Phone-reply codes of pauses already over, so a late tap gets a clear answer. */
  spent_codes: string[];
  /** ntfy message ids already applied (newest last): a reply is applied once, even across a restart. */
  ntfy_seen: string[];
  /** Where the reply-topic subscription resumes (ntfy `since=`): the last id, else the time replies were first accepted. */
  ntfy_since: string | null;
}

export function emptyControl(): Control {
  return {
    paused: null,
    held: {},
    decision_seq: {},
    superseded_through: {},
    session_pauses: {},
    guard: emptyGuardState(),
    hook_chain: {},
    guard_seq: 0,
    last_stuck_ping_at: null,
    last_needs_jc_text: null,
    spent_codes: [],
    ntfy_seen: [],
    ntfy_since: null,
  };
}

/**
 * `lastSeq`: the conversation's newest seq. A control.json from before guard_seq
 * existed was rewritten after every turn, so it already counts all of them.
 */
export function loadControl(file: string, lastSeq = 0): Control {
  const raw = readJson<Partial<Omit<Control, 'held'>> & { held?: unknown }>(file);
  const base = emptyControl();
  if (!raw) return base;
  return {
    ...base,
    ...raw,
    held: migrateHeld(raw.held),
    guard: { ...base.guard, ...(raw.guard ?? {}) },
    guard_seq: typeof raw.guard_seq === 'number' ? raw.guard_seq : lastSeq,
  };
}

export function saveControl(file: string, c: Control): void {
  writeAtomic(file, JSON.stringify(c), 0o600);
}

/**
 * The version before per-session holds kept one held reply (or null) in `held`;
 * it becomes the one entry of the map, keyed by its session.
 */
function migrateHeld(raw: unknown): Record<string, HeldReply> {
  if (!raw || typeof raw !== 'object') return {};
  const one = raw as Partial<HeldReply>;
  if (typeof one.session === 'string' && typeof one.seq === 'number') return { [one.session]: one as HeldReply };
  return { ...(raw as Record<string, HeldReply>) };
}

/** The held replies, oldest first. */
export function heldList(c: Pick<Control, 'held'>): HeldReply[] {
  return Object.values(c.held).sort((a, b) => a.seq - b.seq);
}
