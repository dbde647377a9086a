import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMIT_STEPS } from '../src/engine/turn/commit.js';
import { Ledger } from '../src/engine/journals/ledger.js';
import type { Relay } from '../src/engine/relay.js';
import type { RootPaths } from '../src/protocol/root.js';
import { ackAll, enqueue, lastUser, openRelay, queueNames, scriptedChat, testConfig, tempRoot, until } from './helpers/inproc.js';

/**
 * Exactly once, in process: a crash (a throw) after each numbered commit step in
 * turn, then the relay reopened on the same root. Whatever step the crash followed:
 * one reply per envelope, to the session that spoke; no second API request for a
 * turn whose reply was recorded; guard counters counted once; each billed call in
 * the ledger once.
 */

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

const ENVELOPES = [
  ['a.json', 'session-1', 'first from one'],
  ['b.json', 'session-2', 'first from two'],
  ['c.json', 'session-1', 'second from one'],
] as const;

function seed(paths: RootPaths): void {
  const t0 = Date.now() - 60_000;
  ENVELOPES.forEach(([name, session, content], i) => enqueue(paths, name, { session_id: session, content }, t0 + i * 1000));
}

// One by one: three calls. Batched: a.json and b.json (two sessions waiting) in one call,
// committed as two records step by step, then c.json alone.
const MODES = [
  ['one by one', 'off'],
  ['batched', { max_sessions: 8 }],
] as const;

/** What the ledger holds after the restart: billed lines, and calls counted at their projection. */
function ledgerAfter(batched: boolean, record: 1 | 2, step: number): { turns: number; unsettled: number } {
  if (!batched) return step === 1 ? { turns: 2, unsettled: 1 } : { turns: 3, unsettled: 0 };
  // Batched: a.json's line does not settle the call's reservation, b.json's (the last) does.
  if (record === 2) return step === 1 ? { turns: 1, unsettled: 1 } : { turns: 3, unsettled: 0 };
  // The crash after a.json's step 1 or 2: b.json's ledger line was never written; its reply,
  // recorded or not (then asked again with c.json), is billed by the reservation counted whole.
  return step <= 2 ? { turns: 2, unsettled: 1 } : { turns: 3, unsettled: 0 };
}

const CASES = MODES.flatMap(([mode, batch]) =>
  (batch === 'off' ? ([2] as const) : ([1, 2] as const)).map((record) => ({ mode, batch, record })),
);

describe.each(CASES)('commit ($mode, crash in record $record of 2): a crash after each step, then a restart', ({ batch, record }) => {
  const config = testConfig({ batch });
  for (let step = 1; step <= COMMIT_STEPS.length; step++) {
    it(`after step ${step} (${COMMIT_STEPS[step - 1]})`, async () => {
      const paths = tempRoot();
      roots.push(paths.root);
      seed(paths);
      const chat = scriptedChat();
      const got = new Map<string, string[]>();
      let seen = 0;
      // The record-th record (a.json or b.json) crashes right after `step`. Batched, the two
      // go through the steps together: every step before `step` is done for both.
      const crashing = openRelay(paths, {
        chat,
        config,
        afterCommitStep: (n) => {
          if (n === step && ++seen === record) throw new Error(`injected crash after step ${n}`);
        },
      });
      await crashing.start();
      await until(
        () => crashing.state() === 'error',
        'the injected crash to stop the relay',
        15_000,
        () => ackAll(paths, got),
      );
      await crashing.stop();
      // The crash stopped the loop before c.json.
      expect(chat.requests.map(lastUser).some((u) => u.includes('second from one'))).toBe(false);
      if (batch !== 'off') expect(chat.requests).toHaveLength(1);

      const relay: Relay = openRelay(paths, { chat, config });
      await relay.start();
      await until(
        () =>
          queueNames(paths).length === 0 &&
          [...got.values()].flat().length >= 3 &&
          relay.snapshot().status.sessions['session-1']?.pending === 0,
        'every reply delivered',
        15_000,
        () => ackAll(paths, got),
      );
      ackAll(paths, got);
      const status = relay.snapshot().status;
      await relay.stop();

      // One reply per envelope, delivered to the session that spoke, in order.
      expect(got.get('session-1')).toEqual(['reply: [session-1]\nfirst from one', 'reply: [session-1]\nsecond from one']);
      expect(got.get('session-2')).toEqual(['reply: [session-2]\nfirst from two']);
      // The crashed turn's reply was recorded (step >= 1): never asked again.
      const asked = chat.requests.map(lastUser);
      // Batched, a crash after a.json's first step left b.json unrecorded: it is asked again (with c.json).
      const again = batch !== 'off' && record === 1 && step === 1;
      for (const [, , content] of ENVELOPES)
        expect(
          asked.filter((u) => u.includes(content)),
          content,
        ).toHaveLength(again && content === 'first from two' ? 2 : 1);
      expect(asked).toHaveLength(batch === 'off' ? 3 : 2);
      expect(status.state).toBe('running');
      // Guard counters: each automatic turn counted exactly once.
      expect(status.sessions['session-1'].auto_turns).toBe(2);
      expect(status.sessions['session-2'].auto_turns).toBe(1);
      // Ledger: each billed call once, either settled or (crash between steps 1 and 2) at its projected cost.
      const ledger = new Ledger(paths.ledger, { readOnly: true });
      const want = ledgerAfter(batch !== 'off', record, step);
      expect(ledger.unsettled.length).toBe(want.unsettled);
      expect(ledger.total.turns).toBe(want.turns);
      const history = relay.historyPage({ beforeSeq: null, limit: Number.MAX_SAFE_INTEGER }).turns;
      expect(history.map((t) => t.seq)).toEqual([1, 2, 3]);
    });
  }
});

describe('commit: order', () => {
  it('start-up takes envelopes oldest first (mtime, then name), whatever order the directory lists them in', async () => {
    const paths = tempRoot();
    roots.push(paths.root);
    const t0 = Date.now() - 60_000;
    // Names sort the other way round from their age.
    for (let i = 0; i < 6; i++) enqueue(paths, `${9 - i}.json`, { session_id: 'session-1', content: `n${i}` }, t0 + i * 1000);
    enqueue(paths, 'a-tie.json', { session_id: 'session-2', content: 'tie-a' }, t0 + 10_000);
    enqueue(paths, 'b-tie.json', { session_id: 'session-2', content: 'tie-b' }, t0 + 10_000);
    const chat = scriptedChat();
    const relay = openRelay(paths, { chat, config: testConfig({ batch: 'off', guardrails: { max_auto_turns: 0, repeat_threshold: 0 } }) });
    const got = new Map<string, string[]>();
    await relay.start();
    await until(
      () => queueNames(paths).length === 0,
      'the queue to drain',
      15_000,
      () => ackAll(paths, got),
    );
    await relay.stop();
    expect(chat.requests.map((r) => lastUser(r).split('\n')[1])).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'tie-a', 'tie-b']);
  });
});

describe("commit: a hook's turn and status.json", () => {
  it('the chain count is on disk when the reply is delivered, not up to 250 ms later', async () => {
    const paths = tempRoot();
    roots.push(paths.root);
    enqueue(paths, 'h1.json', { session_id: 'session-1', content: 'step 1 done', source: 'hook' });
    const chat = scriptedChat();
    const onDisk: number[] = [];
    // The relay's own interval: the in-process helper's 0 writes every change at once and would hide it.
    const relay = openRelay(paths, {
      chat,
      statusMinIntervalMs: 250,
      afterCommitStep: (_n, name) => {
        if (name !== 'deliver') return;
        const status = JSON.parse(fs.readFileSync(paths.status, 'utf8'));
        onDisk.push(status.sessions['session-1']?.hook_chain ?? 0);
      },
    });
    await relay.start();
    await until(() => onDisk.length === 1, 'the reply delivered', 15_000);
    await relay.stop();
    // The session's next Stop hook reads this (hook-chain.ts): a stale 0 would let one turn past hooks.max_chain.
    expect(onDisk).toEqual([1]);
  });
});
