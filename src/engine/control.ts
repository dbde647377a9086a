import { readJson, writeAtomic } from '../adapters/fs-atomic.js';
import { emptyGuardState, type GuardState } from './guard.js';
import type { PauseReason } from './status.js';

/**
 * The relay's small mutable state that must survive a restart: why it is paused,
 * the held reply, per-session guardrail pauses and the guard's counters. Rewritten
 * whole (atomically) on change; it stays small because history lives elsewhere.
 */

export interface PauseInfo {
  reason: PauseReason;
  message: string;
  at: string;
  session?: string;
  /** One-time code binding phone replies to this pause. */
  code?: string;
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
    last_stuck_ping_at: null,
    last_needs_jc_text: null,
    spent_codes: [],
    ntfy_seen: [],
    ntfy_since: null,
  };
}

export function loadControl(file: string): Control {
  const raw = readJson<Partial<Control>>(file) ?? {};
  const base = emptyControl();
  return { ...base, ...raw, guard: { ...base.guard, ...(raw.guard ?? {}) } };
}

export function saveControl(file: string, c: Control): void {
  writeAtomic(file, JSON.stringify(c), 0o600);
}
