import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createAnthropicChat, type ChatRequest } from '../src/adapters/anthropic.js';
import { abortableSleep, callWithRetries } from '../src/engine/turn/call.js';
import { startFakeApi, type FakeApi, type ScriptedReply } from '../src/demo/fake-api.js';

/**
 * The relay passes one AbortSignal, alive for the whole process, to every call and every
 * backoff wait: whatever a call hangs on it must come off again, or a long run collects
 * one listener (and what it closes over) per call. The real SDK against the fake API.
 */

let api: FakeApi;
beforeEach(async () => {
  api = await startFakeApi({ chunkSize: 10 });
});
afterEach(async () => {
  await api.close();
});

const req: ChatRequest = {
  model: 'claude-sonnet-4-5',
  max_tokens: 100,
  system: 'sys',
  messages: [{ role: 'user', content: 'hi' }],
  cacheAt: [],
};

test('no abort listener stays on the long-lived signal after calls that succeed, retry, stall or reset', async () => {
  const chat = createAnthropicChat({ apiKey: 'sk-test', baseURL: api.url, maxRetries: 0, timeoutMs: 30_000, idleTimeoutMs: 150 });
  const ac = new AbortController();
  const counts: number[] = [];
  const calls = 12;
  for (let i = 0; i < calls; i++) {
    // Every third call meets a stalled stream (the idle timer fires) then a reset, then succeeds: three attempts, two backoff waits.
    const script: ScriptedReply[] =
      i % 3 === 0
        ? [{ stallAfterHeaders: true, stallMs: 5000 }, { resetMidBody: true, afterText: 'par' }, { text: `ok ${i}` }]
        : [{ text: `ok ${i}` }];
    api.script(...script);
    const out = await callWithRetries(chat, req, {
      outerRetries: 3,
      baseDelayMs: 1,
      maxDelayMs: 5,
      signal: ac.signal,
      onText: () => {},
      onAttempt: () => {},
      onRetry: () => {},
      sleep: abortableSleep,
    });
    expect(out.ok).toBe(true);
    counts.push(getEventListeners(ac.signal, 'abort').length);
  }
  expect(counts).toEqual(new Array(calls).fill(0));
});

test('a backoff wait cut short by the timer or by abort leaves no listener', async () => {
  const ac = new AbortController();
  for (let i = 0; i < 50; i++) await abortableSleep(0, ac.signal);
  expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  const waiting = abortableSleep(60_000, ac.signal);
  expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
  ac.abort();
  await waiting;
  expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
});

test("per-call signals (ours, the SDK's, fetch's) are collected: live AbortSignals stay flat over many calls", async () => {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  if (typeof (v8 as { queryObjects?: unknown }).queryObjects !== 'function') return;
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // The SDK and undici drop their listeners from FinalizationRegistry callbacks: they run on a later task after a collection.
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const live = () =>
    (v8 as unknown as { queryObjects: (c: unknown, o: { format: 'count' }) => number }).queryObjects(AbortSignal, { format: 'count' });
  const chat = createAnthropicChat({ apiKey: 'sk-test', baseURL: api.url, maxRetries: 0, timeoutMs: 30_000, idleTimeoutMs: 30_000 });
  const ac = new AbortController();
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      api.script({ text: `ok ${i}` });
      expect(
        (
          await callWithRetries(chat, req, {
            outerRetries: 0,
            baseDelayMs: 1,
            maxDelayMs: 1,
            signal: ac.signal,
            onText: () => {},
            onAttempt: () => {},
            onRetry: () => {},
            sleep: abortableSleep,
          })
        ).ok,
      ).toBe(true);
    }
  };
  await run(20);
  await settle();
  const before = live();
  expect(before).toBeGreaterThan(0); // ac.signal at least: the count is real
  await run(100);
  await settle();
  // A few may be in flight in the pool; 100 calls leaking one each would be +100.
  expect(live() - before).toBeLessThan(10);
});
