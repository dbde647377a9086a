import React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../src/ui/App.js';
import { createBatchedStore } from '../../src/ui/hooks/use-relay.js';
import { FakeRelay, NOW } from './fake-relay.js';
import { renderSized, type Rendered } from './harness.js';

afterEach(() => vi.useRealTimers());

describe('createBatchedStore', () => {
  it('coalesces a burst of engine notifications into one update', () => {
    vi.useFakeTimers();
    const relay = new FakeRelay();
    const store = createBatchedStore(relay, 50);
    const seen = vi.fn();
    const off = store.subscribe(seen);
    for (let i = 0; i < 1000; i++) relay.update({ queue_depth: i });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(0);
    expect(seen).toHaveBeenCalledTimes(1);
    expect(store.getSnapshot().status.queue_depth).toBe(999);
    expect(vi.getTimerCount()).toBe(0); // idle: no timer left
    off();
  });

  it('at most one update per interval while the engine streams', () => {
    vi.useFakeTimers();
    const relay = new FakeRelay();
    const store = createBatchedStore(relay, 50);
    const seen = vi.fn();
    store.subscribe(seen);
    for (let ms = 0; ms < 1000; ms++) {
      relay.update({ inflight: { kind: 'turn', session: 'session-1', started_at: '', chars: ms, attempt: 1 } });
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(100);
    expect(seen.mock.calls.length).toBeGreaterThanOrEqual(15);
    expect(seen.mock.calls.length).toBeLessThanOrEqual(21);
    expect(store.getSnapshot().status.inflight?.chars).toBe(999);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('unsubscribes from the engine with its last listener', () => {
    const relay = new FakeRelay();
    const store = createBatchedStore(relay, 50);
    const off = store.subscribe(() => {});
    expect(relay.listenerCount).toBe(1);
    off();
    expect(relay.listenerCount).toBe(0);
  });
});

describe('the App under load', () => {
  let r: Rendered | undefined;
  afterEach(() => r?.unmount());

  it('a burst of 1000 engine changes costs a frame or two, not a thousand', async () => {
    const relay = new FakeRelay();
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    await r.ready();
    const before = r.stdout.frames.length;
    for (let i = 1; i <= 1000; i++) relay.update({ queue_depth: i });
    await r.waitFor('1000 queued');
    expect(r.stdout.frames.length - before).toBeLessThanOrEqual(3);
  });

  it('idle: nothing changes, nothing renders (a fixed clock does not re-render)', async () => {
    const relay = new FakeRelay();
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    await r.ready();
    const before = r.stdout.frames.length;
    // Not a synchronisation: the point is that over a clock tick nothing is drawn.
    await new Promise((res) => setTimeout(res, 1100));
    expect(r.stdout.frames.length).toBe(before);
  });
});
