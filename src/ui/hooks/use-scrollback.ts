import { useCallback, useMemo, useRef, useState } from 'react';
import { tailEntry, type ConversationNote, type HistoryPage, type RelayLike, type TailEntry } from '../../engine/api.js';

export interface Scrollback {
  /** Rows above the bottom (0: following the newest turn). */
  offset: number;
  entries: readonly TailEntry[];
  /** The notes that came with the scroll-back pages loaded (the recent ones are in the snapshot). */
  notes: readonly ConversationNote[];
  /** Turns that arrived since scrolling back (not shown until the operator returns). */
  newer: number;
  /** True once the top of the whole history is loaded. */
  full: boolean;
  up: (rows: number) => void;
  down: (rows: number) => void;
  toEnd: () => void;
  /** The pane reports the offset it could honour (the top of what is loaded clamps it). */
  clamp: (offset: number, atTop: boolean) => void;
}

/** Older turns are fetched this many at a time, and at most MAX_LOADED are held: the view's memory does not grow with the history. */
export const PAGE = 250;
export const MAX_LOADED = 2000;
const NO_NOTES: readonly ConversationNote[] = [];

function fetchPage(relay: RelayLike, before: number | null, limit: number): Promise<HistoryPage> {
  return Promise.resolve(relay.historyPage({ beforeSeq: before, limit }));
}

/**
 * Scroll-back through the conversation: the engine's recent tail while following; once
 * the operator scrolls up, older turns a page at a time (relay.historyPage, read on
 * demand), up to MAX_LOADED; all dropped again on return to the bottom.
 */
export function useScrollback(relay: RelayLike, tail: readonly TailEntry[], onError: (message: string) => void): Scrollback {
  const [offset, setOffset] = useState(0);
  const [older, setOlder] = useState<{ turns: TailEntry[]; top: boolean; notes: readonly ConversationNote[] } | null>(null);
  // While scrolled back, the view is pinned to the turns that existed then: new turns
  // arriving at the bottom do not move what the operator is reading.
  const [anchor, setAnchor] = useState<number | null>(null);
  const max = useRef(Infinity);
  const loading = useRef(false);
  const generation = useRef(0);
  const state = useRef({ older, tail, onError });
  state.current = { older, tail, onError };

  const all = useMemo(() => {
    if (!older) return tail;
    const last = older.turns.length ? older.turns[older.turns.length - 1].seq : -1;
    return [...older.turns, ...tail.filter((t) => t.seq > last)];
  }, [older, tail]);
  const entries = useMemo(() => (anchor === null ? all : all.filter((t) => t.seq <= anchor)), [all, anchor]);
  const newer = all.length - entries.length;

  const loadOlder = useCallback(() => {
    const { older: o, tail: t } = state.current;
    if (loading.current || o?.top || (o && o.turns.length >= MAX_LOADED)) return;
    const first = o?.turns[0]?.seq ?? t[0]?.seq ?? null;
    if (first === null && !o) return;
    loading.current = true;
    const gen = generation.current;
    fetchPage(relay, first, PAGE).then(
      (p) => {
        loading.current = false;
        if (gen !== generation.current) return;
        const page = p.turns.map(tailEntry);
        setOlder((prev) => ({
          turns: [...page, ...(prev?.turns ?? [])],
          top: p.atTop,
          notes: [...(p.notes ?? []), ...(prev?.notes ?? [])],
        }));
        max.current = Infinity;
      },
      (err: unknown) => {
        loading.current = false;
        state.current.onError(`cannot read the history: ${(err as Error)?.message ?? err}`);
      },
    );
  }, [relay]);

  const up = useCallback(
    (rows: number) => {
      if (anchor === null) setAnchor(tail.length ? tail[tail.length - 1].seq : 0);
      if (!state.current.older) loadOlder();
      setOffset((o) => Math.min(o + rows, max.current));
    },
    [anchor, tail, loadOlder],
  );
  const reset = () => {
    generation.current++;
    loading.current = false;
    setOlder(null);
    setAnchor(null);
    max.current = Infinity;
  };
  const down = useCallback((rows: number) => {
    setOffset((o) => {
      const n = Math.max(0, Math.min(o, max.current) - rows);
      if (n === 0) reset();
      return n;
    });
  }, []);
  const toEnd = useCallback(() => {
    setOffset(0);
    reset();
  }, []);
  const clamp = useCallback(
    (honoured: number, atTop: boolean) => {
      max.current = atTop ? honoured : Infinity;
      // At the top of what is loaded while scrolled back: fetch the page before it.
      if (atTop && honoured > 0) loadOlder();
    },
    [loadOlder],
  );

  return { offset, entries, notes: older?.notes ?? NO_NOTES, newer, full: older?.top ?? false, up, down, toEnd, clamp };
}
