import { useEffect, useRef, useState } from 'react';
import type { Status } from '../engine/status.js';
import type { RelayLike } from './relay-like.js';

/**
 * What reached a session that the engine's tail does not hold as a turn: the operator's
 * direct dispatches (`@session: text`), and what became of a held reply (approved,
 * dropped, replaced by an answer). Learnt from the engine's operator:result events (every
 * source: the TUI, jc_input.txt, `say`, the phone). Bounded: the newest MAX_NOTES.
 */

export interface DispatchNote {
  id: number;
  /** Drawn after the turn with this seq (the last one when it happened). */
  afterSeq: number;
  at: string;
  session: string;
  text: string;
  source: string;
}

export type HeldOutcome = { how: 'approved' | 'dropped' | 'replaced'; session: string };

export interface ConversationNotes {
  dispatches: readonly DispatchNote[];
  /** By turn seq. */
  outcomes: ReadonlyMap<number, HeldOutcome>;
}

export const MAX_NOTES = 200;
const DISPATCH_RE = /^@([^\s:]+):\s*([\s\S]*)$/;

export function useConversationNotes(relay: RelayLike, status: Status, lastSeq: number, now: () => number = Date.now): ConversationNotes {
  const [, setVersion] = useState(0);
  const dispatches = useRef<DispatchNote[]>([]);
  const outcomes = useRef(new Map<number, HeldOutcome>());
  const nextId = useRef(1);
  // What the events need from the view: the held reply and the last turn, as of now.
  const view = useRef({ status, lastSeq });
  view.current = { status, lastSeq };

  useEffect(() => {
    const bump = () => setVersion((v) => v + 1);
    const offResult = relay.on('operator:result', (e) => {
      if (!e.ok) return;
      const { status: s, lastSeq: seq } = view.current;
      const held = s.held;
      const input = e.input.trim();
      const d = DISPATCH_RE.exec(input);
      if (d) {
        dispatches.current = [...dispatches.current, { id: nextId.current++, afterSeq: seq, at: new Date(now()).toISOString(), session: d[1], text: d[2], source: e.source }].slice(-MAX_NOTES);
        if (held && held.session === d[1]) (outcomes.current = new Map(outcomes.current)).set(held.turn, { how: 'replaced', session: held.session });
      } else if (/^\/approve\b/i.test(input)) {
        if (held) (outcomes.current = new Map(outcomes.current)).set(held.turn, { how: 'approved', session: held.session });
      } else if (/^\/drop\b/i.test(input)) {
        if (held) (outcomes.current = new Map(outcomes.current)).set(held.turn, { how: 'dropped', session: held.session });
      } else if (!input.startsWith('/')) {
        if (held) (outcomes.current = new Map(outcomes.current)).set(held.turn, { how: 'replaced', session: held.session });
      } else return;
      // Outcomes of turns long gone from the view are of no use.
      if (outcomes.current.size > MAX_NOTES) for (const k of [...outcomes.current.keys()].slice(0, outcomes.current.size - MAX_NOTES)) outcomes.current.delete(k);
      bump();
    });
    return offResult;
  }, [relay, now]);

  return { dispatches: dispatches.current, outcomes: outcomes.current };
}
