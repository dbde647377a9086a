import { useMemo } from 'react';
import type { ConversationNote } from '../../engine/api.js';

/**
 * What reached a session that is not a turn: the operator's direct dispatches
 * (`@session: text`) and what became of a held reply (approved, dropped, replaced by an
 * answer). The engine records them durably (the audit log, src/engine/journals/notes.ts) and
 * gives the recent ones in its snapshot and older ones with each scroll-back page, so
 * the pane shows the same after a restart as before it.
 */

export interface DispatchNote {
  id: string;
  /** Drawn after the turn with this seq (the last one when it happened). */
  afterSeq: number;
  at: string;
  session: string;
  text: string;
  source: string;
}

export type HeldOutcome = { how: 'approved' | 'dropped' | 'replaced'; session: string };

/**
 * A value: a new one (new array, new map) whenever a note arrives, never changed in place,
 * so a view memoizes on the identity of its parts.
 */
export interface ConversationNotes {
  readonly dispatches: readonly DispatchNote[];
  /** By turn seq. */
  readonly outcomes: ReadonlyMap<number, HeldOutcome>;
}

/** The engine's notes as the pane draws them; the snapshot's (placed live) win over a page's copy of the same note. */
export function notesView(recent: readonly ConversationNote[], older: readonly ConversationNote[] = []): ConversationNotes {
  const byId = new Map<string, ConversationNote>();
  for (const n of older) byId.set(n.id, n);
  for (const n of recent) byId.set(n.id, n);
  const dispatches: DispatchNote[] = [];
  const outcomes = new Map<number, HeldOutcome>();
  for (const n of byId.values()) {
    if (n.kind === 'dispatch')
      dispatches.push({ id: n.id, afterSeq: n.afterSeq, at: n.at, session: n.session, text: n.text, source: n.source });
    else if (n.kind === 'outcome') outcomes.set(n.seq, { how: n.how, session: n.session });
  }
  dispatches.sort((a, b) => a.afterSeq - b.afterSeq || (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { dispatches, outcomes };
}

export function useConversationNotes(
  recent: readonly ConversationNote[] | undefined,
  older?: readonly ConversationNote[],
): ConversationNotes {
  return useMemo(() => notesView(recent ?? [], older), [recent, older]);
}
