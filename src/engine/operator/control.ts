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
  held: HeldReply | null;
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
    held: null,
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
  const raw = readJson<Partial<Control>>(file);
  const base = emptyControl();
  if (!raw) return base;
  return {
    ...base,
    ...raw,
    guard: { ...base.guard, ...(raw.guard ?? {}) },
    guard_seq: typeof raw.guard_seq === 'number' ? raw.guard_seq : lastSeq,
  };
}

export function saveControl(file: string, c: Control): void {
  writeAtomic(file, JSON.stringify(c), 0o600);
}
