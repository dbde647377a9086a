import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RelaySnapshot } from '../src/engine/view/snapshot.js';
import type { Status } from '../src/protocol/status.js';
import { Store } from '../src/engine/view/publisher.js';
import { Timers } from '../src/engine/kernel/timers.js';

let version = 0;
const build = (): RelaySnapshot => ({
  status: { state: 'running', updated_at: String(version) } as unknown as Status,
  tail: [],
  notes: [],
  streaming: '',
  topic: null,
});

function makeStore(write: (s: Status) => void, onError: (m: string) => void = () => {}) {
  const errors: unknown[] = [];
  const timers = new Timers((_w, err) => errors.push(err));
  const store = new Store({ now: () => Date.now(), timers, minIntervalMs: 250, build, write, onError });
  return { store, timers, errors };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-05-02T09:00:00Z') });
  version = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('store', () => {
  it('returns the same snapshot object until something changes', () => {
    const { store } = makeStore(() => {});
    const a = store.snapshot();
    expect(store.snapshot()).toBe(a);
    version++;
    store.changed();
    const b = store.snapshot();
    expect(b).not.toBe(a);
    expect(store.snapshot()).toBe(b);
    store.invalidate();
    expect(store.snapshot()).not.toBe(b);
  });

  it('writes status.json at most 4 times a second however often the state changes, and the last state always lands', () => {
    const written: string[] = [];
    const { store, timers } = makeStore((s) => written.push(s.updated_at));
    for (let i = 0; i < 2000; i++) {
      version = i;
      store.changed();
      vi.advanceTimersByTime(1); // 2000 changes over 2 s of fake time
    }
    expect(written.length).toBeLessThanOrEqual(2 * 4 + 1);
    expect(written.length).toBeGreaterThanOrEqual(2 * 4 - 1);
    vi.advanceTimersByTime(250);
    expect(written[written.length - 1]).toBe('1999');
    // Urgent changes (a pause) go out at once.
    version = 5000;
    store.changed(true);
    expect(written[written.length - 1]).toBe('5000');
    timers.stop();
  });

  it('a throwing listener neither stops the others nor reaches the caller', () => {
    const { store } = makeStore(() => {});
    const seen: number[] = [];
    store.subscribe(() => {
      throw new Error('view bug');
    });
    const off = store.subscribe(() => seen.push(1));
    expect(() => store.changed(true)).not.toThrow();
    expect(seen).toEqual([1]);
    off();
    store.changed(true);
    expect(seen).toEqual([1]);
  });

  it('a failing write (disk full) is reported once per distinct error, and never thrown', () => {
    const reports: string[] = [];
    let fail = true;
    const { store } = makeStore(
      () => {
        if (fail) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
      (m) => reports.push(m),
    );
    for (let i = 0; i < 5; i++) expect(() => store.changed(true)).not.toThrow();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/ENOSPC/);
    fail = false;
    store.changed(true);
    expect(store.writes).toBe(1);
  });
});
