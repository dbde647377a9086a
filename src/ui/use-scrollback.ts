import { useCallback, useMemo, useRef, useState } from 'react';
import type { HistoryTurn, RelayLike, TailEntry } from './relay-like.js';

export interface Scrollback {
  /** Rows above the bottom (0: following the newest turn). */
  offset: number;
  entries: readonly TailEntry[];
  /** Turns that arrived since scrolling back (not shown until the operator returns). */
  newer: number;
  /** True once the whole history (not only the engine's recent tail) is loaded. */
  full: boolean;
  up: (rows: number) => void;
  down: (rows: number) => void;
  toEnd: () => void;
  /** The pane reports the offset it could honour (the top of the conversation clamps it). */
  clamp: (offset: number, atTop: boolean) => void;
}

function toEntry(t: HistoryTurn): TailEntry {
  return { seq: t.seq, at: t.at, session: t.session, route: t.route, user: t.user, reply: t.reply, costUsd: t.cost_usd };
}

/**
 * Scroll-back through the conversation: the engine's recent tail while following, the
 * whole history (relay.history(), read on demand) once the operator scrolls up; it is
 * dropped again on return to the bottom.
 */
export function useScrollback(relay: RelayLike, tail: readonly TailEntry[], onError: (message: string) => void): Scrollback {
  const [offset, setOffset] = useState(0);
  const [history, setHistory] = useState<TailEntry[] | null>(null);
  // While scrolled back, the view is pinned to the turns that existed then: new turns
  // arriving at the bottom do not move what the operator is reading.
  const [anchor, setAnchor] = useState<number | null>(null);
  const max = useRef(Infinity);

  const all = useMemo(() => {
    if (!history) return tail;
    const last = history.length ? history[history.length - 1].seq : -1;
    return [...history, ...tail.filter((t) => t.seq > last)];
  }, [history, tail]);
  const entries = useMemo(() => (anchor === null ? all : all.filter((t) => t.seq <= anchor)), [all, anchor]);
  const newer = all.length - entries.length;

  const up = useCallback(
    (rows: number) => {
      if (!history) {
        try {
          setHistory(relay.history().map(toEntry));
          max.current = Infinity;
        } catch (err) {
          onError(`cannot read the history: ${(err as Error)?.message ?? err}`);
        }
      }
      if (anchor === null) setAnchor(tail.length ? tail[tail.length - 1].seq : 0);
      setOffset((o) => Math.min(o + rows, max.current));
    },
    [relay, history, onError, anchor, tail],
  );
  const down = useCallback((rows: number) => {
    setOffset((o) => {
      const n = Math.max(0, Math.min(o, max.current) - rows);
      if (n === 0) {
        setHistory(null);
        setAnchor(null);
      }
      return n;
    });
  }, []);
  const toEnd = useCallback(() => {
    setOffset(0);
    setHistory(null);
    setAnchor(null);
    max.current = Infinity;
  }, []);
  const clamp = useCallback((honoured: number, atTop: boolean) => {
    max.current = atTop ? honoured : Infinity;
  }, []);

  return { offset, entries, newer, full: history !== null, up, down, toEnd, clamp };
}
