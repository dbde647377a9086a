import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchDir } from '../src/fs/watch.js';
import { Dispatcher } from '../src/engine/mailboxes/dispatch.js';

let root: string;
let outboxDir: string;
let dispatchDir: string;
const dispatchers: Dispatcher[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-dispatch-'));
  outboxDir = path.join(root, 'state', 'outbox');
  dispatchDir = path.join(root, 'dispatch');
});
afterEach(() => {
  while (dispatchers.length) dispatchers.pop()!.close();
  fs.rmSync(root, { recursive: true, force: true });
});

type Ev =
  | { kind: 'written'; session: string; chars: number }
  | { kind: 'acked'; session: string }
  | { kind: 'waiting'; session: string; pending: number };

interface Rig {
  d: Dispatcher;
  events: Ev[];
  /** Resolves with the next 'written' event for the session (one already seen but not yet awaited counts). */
  nextWritten(session: string): Promise<Ev>;
}

function rig(): Rig {
  const events: Ev[] = [];
  const consumed = new Set<Ev>();
  const waiters: Array<{ session: string; resolve: (e: Ev) => void }> = [];
  const offer = (e: Ev) => {
    const i = waiters.findIndex((w) => w.session === e.session);
    if (i >= 0) {
      consumed.add(e);
      waiters.splice(i, 1)[0].resolve(e);
    }
  };
  const d = new Dispatcher({
    outboxDir,
    dispatchDir,
    watch: watchDir,
    now: () => Date.now(),
    onWritten: (session, chars) => {
      const e: Ev = { kind: 'written', session, chars };
      events.push(e);
      offer(e);
    },
    onAcked: (session) => events.push({ kind: 'acked', session }),
    onWaiting: (session, pending) => events.push({ kind: 'waiting', session, pending }),
    onChange: () => {},
  });
  dispatchers.push(d);
  return {
    d,
    events,
    nextWritten(session) {
      const ready = events.find((e) => e.kind === 'written' && e.session === session && !consumed.has(e));
      if (ready) {
        consumed.add(ready);
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiters.push({ session, resolve }));
    },
  };
}

const input = (session: string) => path.join(dispatchDir, session, 'input.txt');
const read = (session: string) => fs.readFileSync(input(session), 'utf8');
const outboxFiles = (session: string) => fs.readdirSync(path.join(outboxDir, session)).filter((n) => !n.startsWith('.'));

/** The session's side: read and delete input.txt (the ack). */
function consume(session: string): string {
  const text = read(session);
  fs.unlinkSync(input(session));
  return text;
}

describe('Dispatcher', () => {
  it('writes a reply to input.txt when it is free, and keeps nothing in the outbox', () => {
    const r = rig();
    expect(r.d.enqueue('session-1', 'hello there', 't1')).toBe(true);
    expect(r.d.pending('session-1')).toBe(1);
    expect(r.d.pump('session-1')).toBe(true);
    expect(read('session-1')).toBe('hello there');
    expect(r.d.pending('session-1')).toBe(0);
    expect(r.d.awaitingSince('session-1')).not.toBeNull();
    expect(outboxFiles('session-1')).toEqual([]);
    expect(r.events).toEqual([{ kind: 'written', session: 'session-1', chars: 11 }]);
  });

  it('holds a single pending reply: a second reply waits while input.txt exists, then follows the ack', async () => {
    const r = rig();
    r.d.enqueue('session-1', 'first', 't1');
    r.d.pump('session-1');
    await r.nextWritten('session-1');
    r.d.enqueue('session-1', 'second', 't2');
    expect(r.d.pump('session-1')).toBe(false);
    expect(read('session-1')).toBe('first');
    expect(r.d.pending('session-1')).toBe(1);
    expect(r.events.at(-1)).toEqual({ kind: 'waiting', session: 'session-1', pending: 1 });
    expect(outboxFiles('session-1')).toHaveLength(1);

    const next = r.nextWritten('session-1');
    expect(consume('session-1')).toBe('first');
    await next;
    expect(read('session-1')).toBe('second');
    expect(r.d.pending('session-1')).toBe(0);
    expect(r.events.filter((e) => e.kind === 'acked')).toHaveLength(1);
  });

  it('delivers three replies in order as the session consumes each', async () => {
    const r = rig();
    r.d.enqueue('s', 'one', 't1');
    r.d.enqueue('s', 'two', 't2');
    r.d.enqueue('s', 'three', 't3');
    expect(r.d.pending('s')).toBe(3);
    r.d.pump('s');
    await r.nextWritten('s');
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      // Wait for the write that follows this ack (none after the last one).
      const next = i < 2 ? r.nextWritten('s') : undefined;
      got.push(consume('s'));
      await next;
    }
    expect(got).toEqual(['one', 'two', 'three']);
    expect(r.d.pending('s')).toBe(0);
    expect(fs.existsSync(input('s'))).toBe(false);
  });

  it('keeps sessions independent', async () => {
    const r = rig();
    r.d.enqueue('a', 'for a 1', 't1');
    r.d.enqueue('a', 'for a 2', 't2');
    r.d.enqueue('b', 'for b', 't3');
    r.d.pumpAll();
    expect(read('a')).toBe('for a 1');
    expect(read('b')).toBe('for b');
    expect(r.d.pending('a')).toBe(1);
    expect(r.d.pending('b')).toBe(0);
    expect(r.d.sessions().sort()).toEqual(['a', 'b']);
    await r.nextWritten('a'); // the first write, already seen
    const next = r.nextWritten('a');
    consume('a');
    await next;
    expect(read('a')).toBe('for a 2');
    expect(read('b')).toBe('for b');
  });

  it('persists waiting replies: a new Dispatcher on the same dirs finds and delivers them in order', async () => {
    fs.mkdirSync(path.join(dispatchDir, 's'), { recursive: true });
    fs.writeFileSync(input('s'), 'left by an earlier run');
    const r1 = rig();
    r1.d.enqueue('s', 'waiting 1', 't1');
    r1.d.enqueue('s', 'waiting 2', 't2');
    expect(r1.d.pump('s')).toBe(false);
    r1.d.close();

    const r2 = rig();
    expect(r2.d.knownOnDisk()).toEqual(['s']);
    r2.d.ensure('s');
    expect(r2.d.pending('s')).toBe(2);
    expect(r2.d.awaitingSince('s')).not.toBeNull();
    // Same id again after the "crash": a no-op, not a duplicate.
    expect(r2.d.enqueue('s', 'waiting 1', 't1')).toBe(false);
    expect(r2.d.pending('s')).toBe(2);

    let next = r2.nextWritten('s');
    expect(consume('s')).toBe('left by an earlier run');
    await next;
    next = r2.nextWritten('s');
    expect(consume('s')).toBe('waiting 1');
    await next;
    expect(consume('s')).toBe('waiting 2');
    expect(r2.d.pending('s')).toBe(0);
  });

  it('a reply enqueued after a restart goes after the ones already waiting', async () => {
    fs.mkdirSync(path.join(dispatchDir, 's'), { recursive: true });
    fs.writeFileSync(input('s'), 'busy');
    const r1 = rig();
    r1.d.enqueue('s', 'old', 't1');
    r1.d.close();
    const r2 = rig();
    r2.d.enqueue('s', 'new', 't2');
    const names = outboxFiles('s').sort();
    expect(names).toHaveLength(2);
    expect(fs.readFileSync(path.join(outboxDir, 's', names[0]), 'utf8')).toBe('old');
    let next = r2.nextWritten('s');
    consume('s');
    await next;
    expect(read('s')).toBe('old');
    next = r2.nextWritten('s');
    consume('s');
    await next;
    expect(read('s')).toBe('new');
  });

  it('enqueue is idempotent for the same id while it waits', () => {
    const r = rig();
    expect(r.d.enqueue('s', 'x', 't7')).toBe(true);
    expect(r.d.enqueue('s', 'x again', 't7')).toBe(false);
    expect(r.d.pending('s')).toBe(1);
    expect(outboxFiles('s')).toHaveLength(1);
    r.d.pump('s');
    expect(read('s')).toBe('x');
  });

  it('rejects an id that could escape the outbox', () => {
    const r = rig();
    expect(() => r.d.enqueue('s', 'x', '../evil')).toThrow(/bad outbox id/);
    expect(() => r.d.enqueue('s', 'x', 'a b')).toThrow(/bad outbox id/);
  });

  it('never overwrites an input.txt written by someone else', async () => {
    fs.mkdirSync(path.join(dispatchDir, 's'), { recursive: true });
    fs.writeFileSync(input('s'), 'written by hand');
    const r = rig();
    r.d.enqueue('s', 'relay reply', 't1');
    expect(r.d.pump('s')).toBe(false);
    r.d.pumpAll();
    expect(read('s')).toBe('written by hand');
    expect(r.d.pending('s')).toBe(1);
    expect(r.events.some((e) => e.kind === 'written')).toBe(false);
    const next = r.nextWritten('s');
    fs.unlinkSync(input('s'));
    await next;
    expect(read('s')).toBe('relay reply');
  });

  it('an input.txt that appears after our reply was consumed is not overwritten either', async () => {
    const r = rig();
    r.d.enqueue('s', 'r1', 't1');
    r.d.enqueue('s', 'r2', 't2');
    r.d.pump('s');
    await r.nextWritten('s');
    // The session consumes r1 and someone else immediately writes input.txt.
    fs.unlinkSync(input('s'));
    fs.writeFileSync(input('s'), 'foreign');
    r.d.pumpAll();
    expect(read('s')).toBe('foreign');
    expect(r.d.pending('s')).toBe(1);
    const next = r.nextWritten('s');
    fs.unlinkSync(input('s'));
    await next;
    expect(read('s')).toBe('r2');
  });

  it('after close() nothing is written', () => {
    const r = rig();
    r.d.enqueue('s', 'x', 't1');
    r.d.close();
    expect(r.d.pump('s')).toBe(false);
    expect(fs.existsSync(input('s'))).toBe(false);
    expect(r.d.pending('s')).toBe(1);
  });
});
