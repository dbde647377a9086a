import type { RootPaths } from '../../protocol/root.js';
import type { PauseReason, Status } from '../../protocol/status.js';

/**
 * What the relay says about one session, as a waiting hook needs it: is the session held
 * for the operator (and why), and has the operator decided something about it since the
 * hook began to wait. Read through status.json's one reader (protocol/status.ts); a relay
 * that predates the per-session fields (issue 23) is read from its older ones, and a
 * missing or unreadable status.json reads as "nothing known", never as a decision.
 */

export type SessionHold = 'asking' | 'awaiting_approval' | 'paused' | 'relay_paused';

export interface SessionView {
  hold?: SessionHold;
  reason?: PauseReason;
  message?: string;
  /** Undefined from a relay that does not count decisions yet. */
  decisionSeq?: number;
  supersededThrough?: number;
  /** Something of this session is still on its way: an envelope in queue/, a call in flight, a reply in input.txt. */
  busy: boolean;
}

export async function readSessionView(p: RootPaths, session: string): Promise<SessionView | undefined> {
  const { readStatus } = await import('../../protocol/status.js');
  let st: Status | undefined;
  try {
    st = readStatus(p);
  } catch {
    return undefined;
  }
  return st ? sessionView(st, session) : undefined;
}

export function sessionView(st: Status, session: string): SessionView {
  const s = st.sessions[session];
  const held = st.held?.session === session ? st.held : null;
  let hold: SessionHold | undefined;
  let reason: PauseReason | undefined;
  let message: string | undefined;
  if (s?.state && s.state !== 'flowing') {
    hold = s.state;
    reason = s.state_reason ?? s.paused_reason ?? undefined;
    message = s.paused_message ?? undefined;
  } else if (!s?.state && held) {
    hold = held.reason === 'approval' ? 'awaiting_approval' : 'asking';
    reason = held.reason;
  } else if (!s?.state && s?.paused_reason) {
    hold = 'paused';
    reason = s.paused_reason;
    message = s.paused_message ?? undefined;
  }
  if (!hold && st.state === 'paused') {
    hold = 'relay_paused';
    reason = st.pause_reason ?? undefined;
    message = st.pause_message ?? undefined;
  }
  const inflight = st.inflight && (st.inflight.route ?? st.inflight.session) === session;
  return {
    ...(hold ? { hold } : {}),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(typeof s?.decision_seq === 'number' ? { decisionSeq: s.decision_seq } : {}),
    ...(typeof s?.superseded_through === 'number' ? { supersededThrough: s.superseded_through } : {}),
    busy: !!s && (s.queued > 0 || s.awaiting_ack || !!inflight),
  };
}

/**
 * The operator decided about this session after `since` and nothing of it is on its way:
 * the reply the hook waits for will not come (dropped, or set aside by a redirect whose
 * text was already handed over). False whenever the relay does not count decisions.
 */
export function decidedNothingComing(v: SessionView | undefined, since: number | undefined): boolean {
  if (!v || v.decisionSeq === undefined || since === undefined) return false;
  return v.decisionSeq > since && !v.busy && !v.hold;
}

const REASONS: Partial<Record<PauseReason, string>> = {
  budget_session: "the session's budget",
  budget_day: 'the day budget',
  turn_cost: 'the per-turn cost limit',
  auto_turns: 'the automatic-turn leash (guardrails.max_auto_turns)',
  rate: 'the rate limit',
  loop: 'the loop guard (the same message again and again)',
  fault: 'a fault in its files',
  operator: 'the operator (/pause)',
  error: 'an API error',
};

/**
 * Why no review came, when the relay holds the session for the operator, and how the
 * operator lets it go on (issue 25 item 5). Undefined when the session is not held.
 */
export function heldNote(v: SessionView | undefined, session: string): string | undefined {
  if (!v?.hold) return undefined;
  const say = (cmd: string) => `relay-tui say '${cmd}'`;
  const redirect = `${say(`@${session}: …`)} sends it your own text instead`;
  const why = v.message ? ` (${v.message.replace(/\s+/g, ' ').slice(0, 200)})` : '';
  switch (v.hold) {
    case 'asking':
      return `${session} is asking the operator a question (a [NEEDS-JC] reply is held); the operator answers it at the relay's prompt or with ${say('your answer')}, approves it as is with ${say(`/approve ${session}`)}, or ${redirect}.`;
    case 'awaiting_approval':
      return `its reply is held for the operator's approval (approval rules); ${say(`/approve ${session}`)} delivers it, ${say(`/drop ${session}`)} drops it, or ${redirect}.`;
    case 'paused':
      return `${session} is paused by ${(v.reason && REASONS[v.reason]) ?? v.reason ?? 'a guard'}${why}; the operator resumes it with ${say(`/resume ${session}`)}, or ${redirect}.`;
    case 'relay_paused':
      return `the whole relay is paused by ${(v.reason && REASONS[v.reason]) ?? v.reason ?? 'the operator'}${why}; the operator resumes it with ${say('/resume')}.`;
  }
}
