import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createAnthropicChat, type ChatRequest } from '../src/adapters/anthropic.js';
import { abortableSleep, callWithRetries } from '../src/engine/call.js';
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

const req: ChatRequest = { model: 'claude-sonnet-4-5', max_tokens: 100, system: 'sys', messages: [{ role: 'user', content: 'hi' }], cacheAt: [] };

test('no abort listener stays on the long-lived signal after calls that succeed, retry, stall or reset', async () => {
  const chat = createAnthropicChat({ apiKey: 'sk-test', baseURL: api.url, maxRetries: 0, timeoutMs: 30_000, idleTimeoutMs: 150 });
  const ac = new AbortController();
  const counts: number[] = [];
  const calls = 12;
  for (let i = 0; i < calls; i++) {
    // Every third call meets a stalled stream (the idle timer fires) then a reset, then succeeds: three attempts, two backoff waits.
    const script: ScriptedReply[] = i % 3 === 0 ? [{ stallAfterHeaders: true, stallMs: 5000 }, { resetMidBody: true, afterText: 'par' }, { text: `ok ${i}` }] : [{ text: `ok ${i}` }];
    api.script(...script);
    const out = await callWithRetries(chat, req, { outerRetries: 3, baseDelayMs: 1, maxDelayMs: 5, signal: ac.signal, onText: () => {}, onAttempt: () => {}, onRetry: () => {}, sleep: abortableSleep });
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
