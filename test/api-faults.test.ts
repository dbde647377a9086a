import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatError, createAnthropicChat, type ChatRequest } from '../src/adapters/anthropic.js';
import { abortableSleep, callWithRetries } from '../src/engine/turn/call.js';
import { startFakeApi, type FakeApi } from '../src/demo/fake-api.js';

/** The real SDK against the fake Messages API on 127.0.0.1, with transport faults scripted. */

// A fresh fake per test: a request a timed-out test left in flight must not take the next test's script.
let api: FakeApi;
beforeEach(async () => {
  api = await startFakeApi({ chunkSize: 10 });
});
afterEach(async () => {
  await api.close();
});

const req: ChatRequest = {
  model: 'claude-test',
  max_tokens: 100,
  system: 'sys',
  messages: [{ role: 'user', content: 'hello' }],
  cacheAt: [],
};

function chat(over: { timeoutMs?: number; idleTimeoutMs?: number; baseURL?: string } = {}) {
  return createAnthropicChat({
    apiKey: 'sk-test',
    baseURL: over.baseURL ?? api.url,
    maxRetries: 0,
    timeoutMs: over.timeoutMs ?? 30_000,
    idleTimeoutMs: over.idleTimeoutMs ?? 30_000,
  });
}

async function failure(p: Promise<unknown>): Promise<ChatError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ChatError);
    return err as ChatError;
  }
  throw new Error('expected the call to fail');
}

/** A port on 127.0.0.1 that nothing listens on: connect gets ECONNREFUSED. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('API faults through the real SDK', () => {
  it('a stream that stalls after its headers is aborted by the idle timer and is retryable', async () => {
    api.script({ stallAfterHeaders: true, afterText: 'partial ' });
    const err = await failure(chat({ idleTimeoutMs: 300 }).complete(req));
    expect(err.retryable).toBe(true);
    expect(err.reachedApi).toBe(true);
    expect(err.message).toMatch(/idle: no byte for 0\.3 s \(api\.idle_timeout_s\); aborted/);
    expect(err.message).toContain(api.url);
  });

  it('a stream that keeps trickling past api.timeout_s is cut by the whole-call deadline', async () => {
    // Every delta resets the idle timer, so only the deadline can end this one.
    api.script({ text: 'y'.repeat(400), chunkDelayMs: 50 });
    const err = await failure(chat({ timeoutMs: 400, idleTimeoutMs: 10_000 }).complete(req));
    expect(err.retryable).toBe(true);
    expect(err.type).toBe('timeout');
    expect(err.message).toMatch(/took longer than 0\.4 s \(api\.timeout_s\)/);
  });

  it('a connection reset mid-body is a retryable connection error, and callWithRetries retries it', async () => {
    api.script({ resetMidBody: true, afterText: 'half a rep' });
    const err = await failure(chat().complete(req));
    expect(err.retryable).toBe(true);
    expect(err.reachedApi).toBe(true);
    expect(err.type).toBe('connection_error');
    expect(err.message).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:\d+: connection (reset|closed)/);

    api.script({ resetMidBody: true }, { text: 'second try works' });
    const retries: string[] = [];
    const ac = new AbortController();
    const out = await callWithRetries(chat(), req, {
      outerRetries: 2,
      baseDelayMs: 1,
      maxDelayMs: 5,
      signal: ac.signal,
      onText: () => {},
      onAttempt: () => {},
      onRetry: (i) => retries.push(i.message),
      sleep: abortableSleep,
    });
    expect(out.ok).toBe(true);
    if (out.ok) expect(out.result.text).toBe('second try works');
    expect(retries).toHaveLength(1);
  });

  it('a reply cut at max_tokens comes back with stopReason max_tokens', async () => {
    api.script({ text: 'cut short', stopReason: 'max_tokens' });
    const r = await chat().complete(req);
    expect(r.text).toBe('cut short');
    expect(r.stopReason).toBe('max_tokens');
    api.script({ text: 'complete' });
    expect((await chat().complete(req)).stopReason).toBe('end_turn');
  });

  it('connection refused names the base URL and the cause, and never reached the API', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const err = await failure(chat({ baseURL: url }).complete(req));
    expect(err.reachedApi).toBe(false);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`cannot reach the API at ${url}: connection refused (ECONNREFUSED)`);
    expect(err.message).not.toMatch(/Connection error\.$/);
  });

  it('a DNS failure names the host and never reached the API', async () => {
    const err = await failure(chat({ baseURL: 'http://relay-test.invalid' }).complete(req));
    expect(err.reachedApi).toBe(false);
    expect(err.message).toMatch(
      /^cannot reach the API at http:\/\/relay-test\.invalid: (DNS lookup failed|connect timeout|network unreachable)/,
    );
  });

  it('a call aborted before it was sent did not reach the API', async () => {
    const before = api.requests.length;
    const ac = new AbortController();
    ac.abort();
    const err = await failure(chat().complete(req, { signal: ac.signal }));
    expect(err.reachedApi).toBe(false);
    expect(err.retryable).toBe(false);
    expect(api.requests.length).toBe(before);
  });

  it('an HTTP error still reached the API', async () => {
    api.script({ status: 400, errorType: 'invalid_request_error', message: 'prompt is too long' });
    const err = await failure(chat().complete(req));
    expect(err.reachedApi).toBe(true);
    expect(err.status).toBe(400);
    expect(err.retryable).toBe(false);
  });
});
