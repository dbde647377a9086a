import { useMemo, useSyncExternalStore } from 'react';
import type { RelayLike, RelaySnapshot } from '../../engine/api.js';

/**
 * The engine may notify thousands of times a second while a reply streams in. This
 * store coalesces those notifications: React sees at most one change per interval,
 * the first one after a quiet spell on the next tick. No timer exists while the engine
 * is quiet, so an idle relay renders nothing.
 */
export interface BatchedStore {
  subscribe: (fn: () => void) => () => void;
  getSnapshot: () => RelaySnapshot;
  /** Delivered updates (for tests and measurements). */
  readonly flushes: number;
}

export function createBatchedStore(relay: RelayLike, intervalMs = 50, now: () => number = Date.now): BatchedStore {
  let current = relay.snapshot();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastFlush = -Infinity;
  let flushes = 0;
  let unsubscribe: (() => void) | null = null;
  const listeners = new Set<() => void>();

  const flush = () => {
    timer = null;
    lastFlush = now();
    const next = relay.snapshot();
    if (next === current) return;
    current = next;
    flushes++;
    for (const fn of listeners) fn();
  };
  const onEngine = () => {
    if (timer) return;
    timer = setTimeout(flush, Math.max(0, lastFlush + intervalMs - now()));
  };

  return {
    subscribe(fn) {
      listeners.add(fn);
      if (!unsubscribe) {
        unsubscribe = relay.subscribe(onEngine);
        if (relay.snapshot() !== current) onEngine();
      }
      return () => {
        listeners.delete(fn);
        if (listeners.size === 0 && unsubscribe) {
          unsubscribe();
          unsubscribe = null;
          if (timer) clearTimeout(timer);
          timer = null;
        }
      };
    },
    getSnapshot: () => current,
    get flushes() {
      return flushes;
    },
  };
}

export function useRelay(relay: RelayLike, intervalMs = 50): RelaySnapshot {
  const store = useMemo(() => createBatchedStore(relay, intervalMs), [relay, intervalMs]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
