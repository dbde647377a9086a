import type { ConversationNote } from '../journals/notes.js';
import type { TurnRecord } from '../journals/records.js';

/**
 * What the views show about the past, rebuilt from the durable record at start-up, so a
 * restart does not say "no dispatch yet" and "—" for sessions the record has: each
 * session's last activity (its newest turn in the ledger, any turn spoken or routed to
 * it in the conversation's tail, an operator dispatch to it) and the last dispatch (the
 * newest reply that went out: a turn not held for the operator, or an operator dispatch).
 */

export interface Rebuilt {
  activity: Map<string, number>;
  lastDispatch: { at: number; session: string } | null;
}

export function rebuildFromRecord(r: {
  turns: readonly TurnRecord[];
  notes: readonly ConversationNote[];
  lastTurns: ReadonlyMap<string, number>;
  /** Turns whose reply waits for the operator: not dispatched (yet). */
  heldSeqs: ReadonlySet<number>;
}): Rebuilt {
  const activity = new Map<string, number>();
  const seen = (session: string, at: number) => {
    if (session !== 'operator' && Number.isFinite(at) && at > (activity.get(session) ?? -Infinity)) activity.set(session, at);
  };
  for (const [session, at] of r.lastTurns) seen(session, at);
  let lastDispatch: Rebuilt['lastDispatch'] = null;
  const went = (session: string, at: number) => {
    if (Number.isFinite(at) && (!lastDispatch || at >= lastDispatch.at)) lastDispatch = { at, session };
  };
  for (const t of r.turns) {
    const at = Date.parse(t.at);
    seen(t.session, at);
    seen(t.route, at);
    if (!r.heldSeqs.has(t.seq)) went(t.route, at);
  }
  for (const n of r.notes) {
    if (n.kind !== 'dispatch') continue;
    const at = Date.parse(n.at);
    seen(n.session, at);
    went(n.session, at);
  }
  return { activity, lastDispatch };
}

/** The seqs of held replies, whether control.json holds one (`held: {...}`) or one per session (`held: {session: {...}}`). */
export function heldSeqsOf(held: unknown): Set<number> {
  const out = new Set<number>();
  if (!held || typeof held !== 'object') return out;
  const one = held as { seq?: unknown };
  const list = typeof one.seq === 'number' ? [one] : Object.values(held as Record<string, { seq?: unknown } | null>);
  for (const h of list) if (h && typeof h.seq === 'number') out.add(h.seq);
  return out;
}
