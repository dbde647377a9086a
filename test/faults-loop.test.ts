import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionFault } from '../src/fs/faults.js';
import type { RootPaths } from '../src/protocol/root.js';
import { ackAll, enqueue, lastUser, openRelay, queueNames, scriptedChat, tempRoot, until } from './helpers/inproc.js';

/** Faults in the loop: one session's fault pauses that session alone; a root fault pauses the relay, which retries by itself and never crashes. */

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function seeded(): RootPaths {
  const paths = tempRoot();
  roots.push(paths.root);
  const t0 = Date.now() - 60_000;
  enqueue(paths, 'a.json', { session_id: 'session-1', content: 'one-a' }, t0);
  enqueue(paths, 'b.json', { session_id: 'session-2', content: 'two-b' }, t0 + 1000);
  enqueue(paths, 'c.json', { session_id: 'session-1', content: 'one-c' }, t0 + 2000);
  return paths;
}

const enospc = (file: string) => Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', path: file });

describe('faults in the loop', () => {
  it('a SessionFault pauses that session alone (shown, audited); the others flow; /resume <session> finishes its turn without asking again', async () => {
    const paths = seeded();
    const chat = scriptedChat();
    const dir = path.join(paths.dispatch, 'session-2');
    let commits = 0;
    let armed = true;
    const relay = openRelay(paths, {
      chat,
      afterCommitStep: (n) => {
        if (n === 1) commits++;
        if (armed && commits === 2 && n === 3) {
          armed = false;
          throw new SessionFault('session-2', dir, 'is a symlink; the relay does not write through one');
        }
      },
    });
    const got = new Map<string, string[]>();
    await relay.start();
    await until(
      () => (got.get('session-1')?.length ?? 0) === 2,
      'session-1 to get both replies',
      15_000,
      () => ackAll(paths, got),
    );
    const s = relay.snapshot().status;
    expect(s.state).toBe('running');
    expect(s.sessions['session-2'].paused_reason).toBe('fault');
    expect(s.sessions['session-2'].paused_message).toBe('dispatch/session-2: is a symlink; the relay does not write through one');
    expect(got.get('session-2')).toBeUndefined();
    expect(queueNames(paths)).toEqual(['b.json']);
    expect(fs.readFileSync(paths.audit, 'utf8')).toMatch(/"action":"session-pause".*session-2: fault/);

    const r = relay.submit('/resume session-2', 'cli');
    expect(r).toMatchObject({ ok: true, message: 'resumed session-2 (fault)' });
    await until(
      () => (got.get('session-2')?.length ?? 0) === 1 && queueNames(paths).length === 0,
      'session-2 to get its reply',
      15_000,
      () => ackAll(paths, got),
    );
    await relay.stop();
    expect(got.get('session-2')).toEqual(['reply: [session-2]\ntwo-b']);
    expect(chat.requests.map(lastUser).filter((u) => u.endsWith('two-b'))).toHaveLength(1);
  });

  it('a RootFault (disk full) puts the relay in state error naming the file, then it retries by itself and loses nothing', async () => {
    const paths = seeded();
    const chat = scriptedChat();
    let armed = true;
    const states: string[] = [];
    const relay = openRelay(paths, {
      chat,
      faultRetryBaseMs: 200,
      afterCommitStep: (n) => {
        if (armed && n === 1) {
          armed = false;
          throw enospc(paths.conversation);
        }
      },
    });
    relay.on('state:changed', (e) => states.push(`${e.state}${e.message ? `: ${e.message}` : ''}`));
    const got = new Map<string, string[]>();
    await relay.start();
    await until(
      () => [...got.values()].flat().length === 3 && queueNames(paths).length === 0,
      'every reply',
      15_000,
      () => ackAll(paths, got),
    );
    await relay.stop();
    expect(states[0]).toBe('error: disk full: state/conversation.jsonl (ENOSPC)');
    expect(states).toContain('running');
    expect(relay.state()).toBe('running');
    expect(chat.requests).toHaveLength(3);
    expect(got.get('session-1')).toEqual(['reply: [session-1]\none-a', 'reply: [session-1]\none-c']);
  });

  it('the error path cannot throw: with control.json unwritable the pause is kept in memory, and the relay goes on', async () => {
    const paths = seeded();
    const chat = scriptedChat();
    let armed = true;
    const errors: string[] = [];
    const relay = openRelay(paths, {
      chat,
      faultRetryBaseMs: 100,
      afterCommitStep: (n) => {
        if (armed && n === 2) {
          armed = false;
          // Nothing can replace control.json now: a directory stands where it goes.
          fs.rmSync(paths.control, { force: true });
          fs.mkdirSync(paths.control);
          throw enospc(paths.ledger);
        }
      },
    });
    relay.on('log', (e) => e.level === 'error' && errors.push(e.message));
    const got = new Map<string, string[]>();
    await relay.start();
    await until(
      () => relay.state() === 'error' || [...got.values()].flat().length > 0,
      'the fault',
      15_000,
      () => ackAll(paths, got),
    );
    expect(errors.some((m) => m.includes('the pause is kept in memory'))).toBe(true);
    fs.rmdirSync(paths.control);
    await until(
      () => [...got.values()].flat().length === 3 && queueNames(paths).length === 0,
      'every reply',
      15_000,
      () => ackAll(paths, got),
    );
    await relay.stop();
    expect(chat.requests).toHaveLength(3);
  });
});
