import { emptyControl, type PauseInfo } from '../../src/engine/operator/control.js';
import { waitingItems } from '../../src/engine/operator/targets.js';
import { NEEDS_JC } from '../../src/protocol/needs-jc.js';
import type { SessionStatus, Status, WaitingItem } from '../../src/protocol/status.js';

/**
 * The UI tests' fixtures for "something waits for the operator", as the engine writes
 * them. `waiting` comes from the engine's own waitingItems() (operator/targets.ts, the one
 * place that decides what waits: kinds, reasons, codes, since, order), so a fixture can
 * never list an item the engine would not; the fields beside it (`held`, the relay's
 * pause, each session's pause and state) are filled as view/snapshot.ts fills them, so a
 * fixture never says one thing in `waiting` and another in the older fields.
 */

/** A held reply in status.json's `held` shape (turn = the held turn's seq). */
export type HeldReply = NonNullable<Status['held']>;
export type Pause = Pick<PauseInfo, 'reason' | 'message' | 'at' | 'code'>;

export interface Waits {
  /** Replies held for the operator: questions (needs_jc) and approvals. */
  held?: HeldReply[];
  /** The relay's own pause (session '*'): a guard, /pause, an API error. */
  relay?: Pause;
  /** Each paused session's pause. */
  sessions?: Record<string, Pause>;
}

/** status.json's `waiting` for this state, from the engine's own code. */
export function waitingFor(w: Waits): WaitingItem[] {
  const c = emptyControl();
  for (const h of w.held ?? [])
    c.held[h.session] = { seq: h.turn, session: h.session, text: h.text, reason: h.reason, at: h.at, code: h.code };
  c.paused = w.relay ?? null;
  c.session_pauses = { ...w.sessions };
  return waitingItems(c);
}

/**
 * A status override with these items waiting: `waiting`, `held` (the oldest held reply),
 * `pause_reason`/`pause_message`, and, among `over.sessions`, the paused or asking
 * sessions' own fields. `over` is the rest of the fixture; the relay's `state` is its to
 * give (the engine derives it from settings a fixture does not model). Without
 * `over.sessions` the override carries none, so the snapshot it is spread into keeps its
 * own rows.
 */
export function waits(w: Waits, over: Partial<Status> = {}): Partial<Status> {
  const held = [...(w.held ?? [])].sort((a, b) => a.turn - b.turn)[0] ?? null;
  const out: Partial<Status> = {
    pause_reason: held?.reason ?? w.relay?.reason ?? null,
    pause_message: held
      ? `${held.reason === 'needs_jc' ? `${NEEDS_JC} from` : 'awaiting approval for'} ${held.session}`
      : (w.relay?.message ?? null),
    ...over,
    held,
    waiting: waitingFor(w),
  };
  if (over.sessions) {
    const sessions: Record<string, SessionStatus> = { ...over.sessions };
    const annotate = (id: string, more: Partial<SessionStatus>) => {
      if (sessions[id]) sessions[id] = { ...sessions[id], ...more };
    };
    for (const [id, p] of Object.entries(w.sessions ?? {}))
      annotate(id, { paused_reason: p.reason, paused_message: p.message, state: 'paused', state_reason: p.reason });
    // A held reply comes before its session's pause (snapshot.ts sessionState).
    for (const h of w.held ?? [])
      annotate(h.session, { state: h.reason === 'needs_jc' ? 'asking' : 'awaiting_approval', state_reason: h.reason });
    out.sessions = sessions;
  }
  return out;
}
