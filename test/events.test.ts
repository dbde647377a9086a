import { describe, expect, it } from 'vitest';
import { BACKLOG_MAX, RelayEmitter } from '../src/engine/kernel/events.js';

/** The engine's emitter: what is said before any view listens reaches the first view that does, once. */

const warn = (message: string) => ({ level: 'warn' as const, message });

describe('RelayEmitter backlog', () => {
  it('keeps events emitted before any listener and hands them, in order, to the first onAny listener', () => {
    const e = new RelayEmitter();
    e.emit('log', warn('first'));
    e.emit('dispatch:acked', { session: 's1' });
    e.emit('log', warn('second'));
    const seen: string[] = [];
    e.onAny((name, p) => seen.push(`${name} ${JSON.stringify(p)}`));
    expect(seen).toEqual([
      `log ${JSON.stringify(warn('first'))}`,
      `dispatch:acked {"session":"s1"}`,
      `log ${JSON.stringify(warn('second'))}`,
    ]);
    e.emit('log', warn('live'));
    expect(seen.at(-1)).toBe(`log ${JSON.stringify(warn('live'))}`);
    expect(seen).toHaveLength(4);
  });

  it('a listener for one name gets no backlog, and what it hears is not kept for the first view', () => {
    const e = new RelayEmitter();
    e.emit('log', warn('before anyone'));
    e.emit('turn:completed', { seq: 1, session: 's1', route: 's1', costUsd: 0, cacheHit: 0, held: null, preview: 'old' });
    // Attached late on purpose (a bench counting from now on): old turns must not be counted.
    const completed: number[] = [];
    e.on('turn:completed', (p) => completed.push(p.seq));
    expect(completed).toEqual([]);
    e.emit('turn:completed', { seq: 2, session: 's1', route: 's1', costUsd: 0, cacheHit: 0, held: null, preview: 'new' });
    expect(completed).toEqual([2]);
    const view: string[] = [];
    e.onAny((name, p) => view.push(name === 'log' ? (p as { message: string }).message : `${name} ${(p as { seq: number }).seq}`));
    // The view gets what nobody heard, not what the listener for turn:completed already had.
    expect(view).toEqual(['before anyone', 'turn:completed 1']);
  });

  it('delivers the backlog once: a second view, or one that comes back, gets no replay', () => {
    const e = new RelayEmitter();
    e.emit('log', warn('once'));
    const first: string[] = [];
    const off = e.onAny((_, p) => first.push((p as { message: string }).message));
    const second: string[] = [];
    e.onAny((_, p) => second.push((p as { message: string }).message));
    off();
    const again: string[] = [];
    e.onAny((_, p) => again.push((p as { message: string }).message));
    expect(first).toEqual(['once']);
    expect(second).toEqual([]);
    expect(again).toEqual([]);
    // After the first view nothing more is kept, even while nobody listens.
    const quiet = new RelayEmitter();
    quiet.onAny(() => undefined)();
    quiet.emit('log', warn('nobody hears this'));
    const late: string[] = [];
    quiet.onAny((_, p) => late.push(JSON.stringify(p)));
    expect(late).toEqual([]);
  });

  it('is bounded: beyond BACKLOG_MAX the oldest events go, the newest are kept in order', () => {
    const e = new RelayEmitter();
    const n = BACKLOG_MAX + 25;
    for (let i = 0; i < n; i++) e.emit('log', warn(`w${i}`));
    const seen: string[] = [];
    e.onAny((_, p) => seen.push((p as { message: string }).message));
    expect(seen).toHaveLength(BACKLOG_MAX);
    expect(seen[0]).toBe(`w${n - BACKLOG_MAX}`);
    expect(seen.at(-1)).toBe(`w${n - 1}`);
  });

  it('a listener that throws on the backlog does not lose the events behind it', () => {
    const e = new RelayEmitter();
    e.emit('log', warn('boom'));
    e.emit('log', warn('after'));
    const seen: string[] = [];
    const write = process.stderr.write;
    const errs: string[] = [];
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    try {
      e.onAny((_, p) => {
        const { message } = p as { message: string };
        seen.push(message);
        if (message === 'boom') throw new Error('listener broke');
      });
    } finally {
      process.stderr.write = write;
    }
    expect(seen).toEqual(['boom', 'after']);
    expect(errs.join('')).toMatch(/a listener for log threw: Error: listener broke/);
  });
});
