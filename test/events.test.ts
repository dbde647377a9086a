import { describe, expect, it } from 'vitest';
import { BACKLOG_MAX, RelayEmitter, type RelayEventName } from '../src/engine/kernel/events.js';

/** The engine's emitter: what is said before any view listens reaches the first that does, once. */

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

  it('a listener for one name takes only that name; the rest waits for its own first listener', () => {
    const e = new RelayEmitter();
    e.emit('log', warn('a'));
    e.emit('session:resumed', { session: 's2' });
    e.emit('log', warn('b'));
    const logs: string[] = [];
    e.on('log', (p) => logs.push(p.message));
    expect(logs).toEqual(['a', 'b']);
    const rest: RelayEventName[] = [];
    e.onAny((name) => rest.push(name));
    expect(rest).toEqual(['session:resumed']);
  });

  it('delivers the backlog once: a second listener, or one that comes back, gets no replay', () => {
    const e = new RelayEmitter();
    e.emit('log', warn('once'));
    const first: string[] = [];
    const off = e.on('log', (p) => first.push(p.message));
    const second: string[] = [];
    e.on('log', (p) => second.push(p.message));
    off();
    const again: string[] = [];
    e.on('log', (p) => again.push(p.message));
    expect(first).toEqual(['once']);
    expect(second).toEqual([]);
    expect(again).toEqual([]);
    // After a name had a listener, nothing more is kept for it while nobody listens.
    const quiet = new RelayEmitter();
    quiet.on('log', () => undefined)();
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
    e.on('log', (p) => seen.push(p.message));
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
      e.on('log', (p) => {
        seen.push(p.message);
        if (p.message === 'boom') throw new Error('listener broke');
      });
    } finally {
      process.stderr.write = write;
    }
    expect(seen).toEqual(['boom', 'after']);
    expect(errs.join('')).toMatch(/a listener for log threw: Error: listener broke/);
  });
});
