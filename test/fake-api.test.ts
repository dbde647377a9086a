import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  OverloadedError,
} from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { countTokens, promptTokens, startFakeApi, type FakeApi, type FakeApiOptions } from '../src/demo/fake-api.js';

const MODEL = 'claude-sonnet-4-6';
const KEY = 'sk-ant-test';

let fake: FakeApi | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts?: FakeApiOptions): Promise<FakeApi> {
  fake = await startFakeApi(opts);
  return fake;
}

function client(f: FakeApi, o: { apiKey?: string; maxRetries?: number; timeout?: number } = {}) {
  return new Anthropic({ apiKey: o.apiKey ?? KEY, baseURL: f.url, maxRetries: o.maxRetries ?? 0, timeout: o.timeout });
}

type Usage = {
  input_tokens: number;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
};

function expectAddsUp(usage: Usage, body: unknown) {
  expect(usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0)).toBe(promptTokens(body));
}

async function rawSse(url: string, body: unknown): Promise<{ event: string; data: any }[]> {
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const text = await res.text();
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .trim()
    .split('\n\n')
    .map((block) => {
      const [ev, data, ...rest] = block.split('\n');
      expect(rest).toEqual([]);
      expect(ev).toMatch(/^event: /);
      expect(data).toMatch(/^data: /);
      return { event: ev.slice('event: '.length), data: JSON.parse(data.slice('data: '.length)) };
    });
}

const BIG_SYSTEM = 'You supervise several coding sessions. '.repeat(130); // 5070 chars → 1268 tokens

describe('fake Anthropic API — basics', () => {
  it('non-streaming create returns text, usage and a request id', async () => {
    const f = await start();
    f.script({ text: 'Hello from the fake.' });
    const params = { model: MODEL, max_tokens: 100, messages: [{ role: 'user' as const, content: 'Say hello' }] };
    const msg = await client(f).messages.create(params);
    expect(msg.type).toBe('message');
    expect(msg.role).toBe('assistant');
    expect(msg.model).toBe(MODEL);
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from the fake.' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.stop_sequence).toBeNull();
    expect(msg.usage).toMatchObject({
      input_tokens: countTokens('Say hello'),
      output_tokens: countTokens('Hello from the fake.'),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
    expect(msg._request_id).toMatch(/^req_/);
    expect(f.requests).toHaveLength(1);
    expect(f.requests[0]).toMatchObject({ n: 1, stream: false, lastUserText: 'Say hello', systemText: '' });
    // SDK 1.x sends the key as a bearer token; the fake accepts either header.
    expect(f.requests[0].headers.authorization ?? f.requests[0].headers['x-api-key']).toMatch(KEY);
  });

  it('streaming yields text deltas and a finalMessage with the same text and usage', async () => {
    const f = await start({ chunkSize: 10 });
    const reply = 'The quick brown fox jumps over the lazy dog, twice over.'; // 56 chars → 6 deltas
    f.script({ text: reply });
    const stream = client(f).messages.stream({
      model: MODEL,
      max_tokens: 200,
      system: [{ type: 'text', text: BIG_SYSTEM, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: '[session-1] status update' }],
    });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas).toHaveLength(6);
    expect(deltas.join('')).toBe(reply);
    expect(final.content).toEqual([{ type: 'text', text: reply }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({
      input_tokens: countTokens('[session-1] status update'),
      cache_creation_input_tokens: countTokens(BIG_SYSTEM),
      cache_read_input_tokens: 0,
      output_tokens: countTokens(reply),
    });
    expect(f.requests[0].stream).toBe(true);
    expect(f.requests[0].systemText).toBe(BIG_SYSTEM);
  });

  it('streams events in the real order and framing', async () => {
    const f = await start({ chunkSize: 4 });
    f.script({ text: 'abcdefghij' });
    const events = await rawSse(f.url, {
      model: MODEL,
      max_tokens: 50,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    expect(events[0].data.message).toMatchObject({
      content: [],
      stop_reason: null,
      usage: { input_tokens: 1, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(events[1].data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(events[3].data).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'abcd' } });
    expect(events[7].data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 3 },
    });
  });

  it('uses the script first (FIFO), then respond, and notifies listeners', async () => {
    const seen: number[] = [];
    const f = await start({ respond: (req) => ({ text: `respond #${req.n}` }) });
    const off = f.onRequest((r) => seen.push(r.n));
    f.script({ text: 'scripted one' }, { text: 'scripted two' });
    const c = client(f);
    const ask = async () => {
      const m = await c.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
      return m.content[0].type === 'text' ? m.content[0].text : '';
    };
    expect(await ask()).toBe('scripted one');
    expect(await ask()).toBe('scripted two');
    expect(await ask()).toBe('respond #3');
    off();
    await ask();
    expect(seen).toEqual([1, 2, 3]);
    expect(f.totals().requests).toBe(4);
  });

  it('default responder names the session, flags NEEDS-JC and summarises', async () => {
    const f = await start();
    const c = client(f);
    const ask = async (content: string) => {
      const m = await c.messages.create({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content }] });
      return m.content[0].type === 'text' ? m.content[0].text : '';
    };
    expect(await ask('[session-1] wrote the parser')).toBe("Reviewed session-1's update (#1). Carry on with the next step.");
    expect(await ask('[session-2] tests pass')).toBe("Reviewed session-2's update (#1). Carry on with the next step.");
    expect(await ask('[session-1] added docs')).toBe("Reviewed session-1's update (#2). Carry on with the next step.");
    expect(await ask('[session-2] stuck, NEEDS-JC-PLEASE')).toMatch(/^\[NEEDS-JC\] .*\?$/);
    expect(await ask('Please summarise the conversation.')).toMatch(/^Summary of the conversation so far: \S/);
  });

  it('cuts an over-long reply at max_tokens', async () => {
    const f = await start();
    f.script({ text: 'x'.repeat(100) });
    const m = await client(f).messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    expect(m.stop_reason).toBe('max_tokens');
    expect(m.usage.output_tokens).toBe(5);
  });
});

describe('fake Anthropic API — errors and retries', () => {
  it('retries two 529s and then succeeds (maxRetries 2)', async () => {
    const f = await start();
    const overloaded = { status: 529, errorType: 'overloaded_error', message: 'Overloaded' };
    f.script(overloaded, overloaded, { text: 'finally' });
    const m = await client(f, { maxRetries: 2 }).messages.create({
      model: MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(m.content).toEqual([{ type: 'text', text: 'finally' }]);
    expect(f.requests).toHaveLength(3);
    expect(f.requests[2].headers['x-stainless-retry-count']).toBe('2');
  });

  it('surfaces a 529 as OverloadedError with the real body shape', async () => {
    const f = await start();
    f.script({ status: 529, errorType: 'overloaded_error', message: 'Overloaded' });
    const err = await client(f)
      .messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverloadedError);
    const e = err as OverloadedError;
    expect(e.status).toBe(529);
    expect(e.type).toBe('overloaded_error');
    expect(e.apiMessage).toBe('Overloaded');
    expect(e.requestID).toMatch(/^req_/);
    expect(e.error).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: e.requestID,
    });
  });

  it('honours retry-after on a 429', async () => {
    const f = await start();
    f.script({ status: 429, errorType: 'rate_limit_error', message: 'Rate limited', retryAfterS: 1 }, { text: 'ok' });
    await client(f, { maxRetries: 1 }).messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
    expect(f.requests).toHaveLength(2);
    // The SDK's own first backoff is at most 500 ms, so a ~1 s gap proves the header was read.
    expect(f.requests[1].receivedAt - f.requests[0].receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('rejects a wrong key with AuthenticationError and accepts the right one', async () => {
    const f = await start({ apiKey: 'right-key' });
    const params = { model: MODEL, max_tokens: 50, messages: [{ role: 'user' as const, content: 'x' }] };
    const err = await client(f, { apiKey: 'wrong-key', maxRetries: 2 })
      .messages.create(params)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as APIError).message).toContain('invalid x-api-key');
    expect((err as APIError).type).toBe('authentication_error');
    expect(f.requests).toHaveLength(1); // 401 is not retried
    await expect(client(f, { apiKey: 'right-key' }).messages.create(params)).resolves.toMatchObject({ type: 'message' });

    // The real API's own header works too.
    const viaHeader = (key: string) =>
      fetch(`${f.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify(params),
      }).then((r) => r.status);
    expect(await viaHeader('right-key')).toBe(200);
    expect(await viaHeader('wrong-key')).toBe(401);
  });

  it('returns 400 invalid_request_error for bad bodies', async () => {
    const f = await start();
    const c = client(f);
    const bad = async (params: any): Promise<APIError> =>
      c.messages.create(params).then(
        () => expect.fail('expected a 400'),
        (e: unknown) => e as APIError,
      );
    const empty = await bad({ model: MODEL, max_tokens: 50, messages: [] });
    expect(empty).toBeInstanceOf(BadRequestError);
    expect(empty.type).toBe('invalid_request_error');
    expect(empty.message).toContain('messages');
    expect((await bad({ model: MODEL, max_tokens: 0, messages: [{ role: 'user', content: 'x' }] })).message).toContain('max_tokens');
    expect((await bad({ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).message).toContain('model');
    expect((await bad({ model: MODEL, max_tokens: 5, messages: [{ role: 'bot', content: 'x' }] })).message).toContain('messages.0.role');
    const five = Array.from({ length: 5 }, (_, i) => ({ type: 'text', text: `b${i}`, cache_control: { type: 'ephemeral' } }));
    expect((await bad({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: five }] })).message).toContain(
      'maximum of 4 blocks with cache_control',
    );

    const res = await fetch(`${f.url}/v1/messages`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { request_id: string };
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(body.request_id).toBe(res.headers.get('request-id'));
  });

  it('rejects the stream with an APIError when an error event arrives mid-stream', async () => {
    const f = await start();
    f.script({ midStreamError: { type: 'overloaded_error', message: 'Overloaded' }, afterText: 'partial answer' });
    const stream = client(f, { maxRetries: 2 }).messages.stream({
      model: MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'x' }],
    });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).type).toBe('overloaded_error');
    expect((err as APIError).message).toContain('Overloaded');
    expect(deltas.join('')).toBe('partial answer');
    expect(f.requests).toHaveLength(1);
  });

  it('hangs on request so SDK timeouts can be tested', async () => {
    const f = await start();
    f.script({ hangMs: 10_000 });
    const err = await client(f, { timeout: 150 })
      .messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('answers 404 not_found_error on unknown routes', async () => {
    const f = await start();
    const res = await fetch(`${f.url}/v1/nope`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
  });
});

describe('fake Anthropic API — prompt caching', () => {
  const userMsg = (text: string, cache = false) => ({
    role: 'user' as const,
    content: [{ type: 'text' as const, text, ...(cache ? { cache_control: { type: 'ephemeral' as const } } : {}) }],
  });

  it('writes a cacheable system block on the first call and reads it on the second', async () => {
    const f = await start();
    const c = client(f);
    const params = {
      model: MODEL,
      max_tokens: 50,
      system: [{ type: 'text' as const, text: BIG_SYSTEM, cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'first question' }],
    };
    const sys = countTokens(BIG_SYSTEM);
    const first = await c.messages.create(params);
    expect(first.usage).toMatchObject({ cache_creation_input_tokens: sys, cache_read_input_tokens: 0 });
    expect(first.usage.input_tokens).toBe(countTokens('first question'));
    const second = await c.messages.create(params);
    expect(second.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: sys });
    expectAddsUp(first.usage, params);
    expectAddsUp(second.usage, params);

    const other = await c.messages.create({ ...params, model: 'claude-opus-4-8' });
    expect(other.usage.cache_read_input_tokens).toBe(0); // the model is part of the key

    const counted = await c.messages.countTokens({ model: MODEL, system: params.system, messages: params.messages });
    expect(counted.input_tokens).toBe(promptTokens(params));
    const t = f.totals();
    expect(t).toEqual({
      input: 3 * countTokens('first question'),
      output: first.usage.output_tokens * 3,
      cacheRead: sys,
      cacheWrite: 2 * sys,
      requests: 3,
    });
  });

  it('each model has its own minimum: the same 1,268-token prompt is cached on Sonnet 4.6, not on Opus 4.7 or Haiku 4.5', async () => {
    const f = await start();
    const c = client(f);
    const params = (model: string) => ({
      model,
      max_tokens: 50,
      system: [{ type: 'text' as const, text: BIG_SYSTEM, cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'q' }],
    });
    const sys = countTokens(BIG_SYSTEM);
    expect((await c.messages.create(params(MODEL))).usage).toMatchObject({ cache_creation_input_tokens: sys });
    for (const model of ['claude-opus-4-7', 'claude-haiku-4-5']) {
      for (let i = 0; i < 2; i++) {
        const m = await c.messages.create(params(model));
        expect(m.usage, model).toMatchObject({ input_tokens: sys + 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
      }
    }
  });

  it('does not cache a prefix below minCacheableTokens', async () => {
    const f = await start();
    const params = {
      model: MODEL,
      max_tokens: 50,
      system: [{ type: 'text' as const, text: 'y'.repeat(4000), cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'q' }],
    };
    for (let i = 0; i < 2; i++) {
      const m = await client(f).messages.create(params);
      expect(m.usage).toMatchObject({ input_tokens: 1001, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    }
  });

  it('a breakpoint moving along the conversation gives a growing cache read', async () => {
    const f = await start();
    const c = client(f);
    const history: { role: 'user' | 'assistant'; content: string }[] = [];
    const reads: number[] = [];
    let previous: unknown;
    for (let turn = 1; turn <= 4; turn++) {
      const body = {
        model: MODEL,
        max_tokens: 100,
        system: BIG_SYSTEM,
        messages: [...history, userMsg(`[session-1] turn ${turn}: ${'details '.repeat(50)}`, true)],
      };
      const m = await c.messages.stream(body).finalMessage();
      expectAddsUp(m.usage, body);
      const read = m.usage.cache_read_input_tokens ?? 0;
      expect(read).toBe(previous === undefined ? 0 : promptTokens(previous));
      expect(m.usage.input_tokens).toBe(0); // everything up to the last block is read or written
      reads.push(read);
      previous = body;
      history.push({ role: 'user', content: (body.messages.at(-1)!.content as { text: string }[])[0].text });
      history.push({ role: 'assistant', content: m.content[0].type === 'text' ? m.content[0].text : '' });
    }
    expect(reads[1]).toBeGreaterThan(0);
    expect(reads[2]).toBeGreaterThan(reads[1]);
    expect(reads[3]).toBeGreaterThan(reads[2]);
  });

  it('only looks back 20 blocks from a breakpoint', async () => {
    const f = await start();
    const c = client(f);
    const base = { model: MODEL, max_tokens: 50, system: BIG_SYSTEM };
    const first = { ...base, messages: [userMsg('start', true)] };
    await c.messages.create(first);
    const many = Array.from({ length: 21 }, (_, i) => ({ type: 'text' as const, text: `note ${i}` }));
    const near = { ...base, messages: [userMsg('start'), { role: 'assistant' as const, content: many.slice(0, 19) }, userMsg('q', true)] };
    expect((await c.messages.create(near)).usage.cache_read_input_tokens).toBe(promptTokens(first));
    const far = { ...base, messages: [userMsg('start'), { role: 'assistant' as const, content: many }, userMsg('q', true)] };
    const m = await c.messages.create(far);
    expect(m.usage.cache_read_input_tokens).toBe(0);
    expect(m.usage.cache_creation_input_tokens).toBe(promptTokens(far));
  });

  it('expires entries after the TTL (per the injected clock) and a read refreshes them', async () => {
    let now = 0;
    const f = await start({ now: () => now, cacheTtlMs: 1000 });
    const c = client(f);
    const params = {
      model: MODEL,
      max_tokens: 50,
      system: [{ type: 'text' as const, text: BIG_SYSTEM, cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'hello' }],
    };
    const sys = countTokens(BIG_SYSTEM);
    const at = async (t: number) => {
      now = t;
      const m = await c.messages.create(params);
      expectAddsUp(m.usage, params);
      return [m.usage.cache_read_input_tokens, m.usage.cache_creation_input_tokens];
    };
    expect(await at(0)).toEqual([0, sys]);
    expect(await at(900)).toEqual([sys, 0]);
    expect(await at(1800)).toEqual([sys, 0]); // alive only because the read at 900 refreshed it
    expect(await at(2800)).toEqual([0, sys]);
  });
});

describe('fake Anthropic API — cache lifetimes', () => {
  const MIN = 60_000;
  const sysBlock = (ttl?: '5m' | '1h') => ({
    type: 'text' as const,
    text: BIG_SYSTEM,
    cache_control: ttl ? { type: 'ephemeral' as const, ttl } : { type: 'ephemeral' as const },
  });
  const userBlock = (text: string, ttl?: '5m' | '1h') => ({
    role: 'user' as const,
    content: [{ type: 'text' as const, text, ...(ttl ? { cache_control: { type: 'ephemeral' as const, ttl } } : {}) }],
  });

  it("a 1h entry lives an hour from its last use on the fake's clock, and the split says which lifetime was written", async () => {
    let now = 0;
    const f = await start({ now: () => now });
    const c = client(f);
    const sys = countTokens(BIG_SYSTEM);
    const call = async (t: number, ttl: '5m' | '1h') => {
      now = t;
      const params = { model: MODEL, max_tokens: 20, system: [sysBlock(ttl)], messages: [userBlock(`lifetime ${ttl}`)] };
      const m = await c.messages.create(params);
      expectAddsUp(m.usage, params);
      return m.usage;
    };
    const w5 = await call(0, '5m');
    expect(w5).toMatchObject({
      cache_creation_input_tokens: sys,
      cache_creation: { ephemeral_5m_input_tokens: sys, ephemeral_1h_input_tokens: 0 },
    });
    const w1 = await call(0, '1h');
    // A different key? No: the lifetime is not part of the prompt, so the 1h call reads the 5m entry.
    expect(w1.cache_read_input_tokens).toBe(sys);
    // Another prefix (its own key), written at 1h and followed for two hours.
    const other = `${BIG_SYSTEM} Second prompt.`;
    const osys = countTokens(other);
    const fresh = async (t: number) => {
      now = t;
      const m = await c.messages.create({
        model: MODEL,
        max_tokens: 20,
        system: [{ ...sysBlock('1h'), text: other }],
        messages: [userBlock('q')],
      });
      return [m.usage.cache_read_input_tokens, m.usage.cache_creation_input_tokens, m.usage.cache_creation?.ephemeral_1h_input_tokens];
    };
    expect(await fresh(0)).toEqual([0, osys, osys]);
    expect(await fresh(20 * MIN)).toEqual([osys, 0, 0]); // read at 20 min: refreshed to 80 min
    expect(await fresh(79 * MIN)).toEqual([osys, 0, 0]);
    expect(await fresh(140 * MIN)).toEqual([0, osys, osys]); // 61 minutes after the last use
    // The 5m entry of the first prompt died long ago.
    expect((await call(140 * MIN, '5m')).cache_read_input_tokens).toBe(0);
  });

  it('a 5m breakpoint does not shorten the 1h entry it reads', async () => {
    let now = 0;
    const f = await start({ now: () => now });
    const c = client(f);
    const sys = countTokens(BIG_SYSTEM);
    await c.messages.create({ model: MODEL, max_tokens: 20, system: [sysBlock('1h')], messages: [userBlock('a')] });
    now = 2 * MIN;
    await c.messages.create({ model: MODEL, max_tokens: 20, system: [sysBlock('5m')], messages: [userBlock('b')] });
    now = 30 * MIN;
    const m = await c.messages.create({ model: MODEL, max_tokens: 20, system: [sysBlock('5m')], messages: [userBlock('c')] });
    expect(m.usage.cache_read_input_tokens).toBe(sys);
  });

  it('mixed lifetimes in one request: writes are split per segment; 1h after 5m is refused like the API', async () => {
    const f = await start({ now: () => 0 });
    const c = client(f);
    const sys = countTokens(BIG_SYSTEM);
    const tail = 'conversation so far. '.repeat(60);
    const params = { model: MODEL, max_tokens: 20, system: [sysBlock('1h')], messages: [userBlock(tail, '5m')] };
    const m = await c.messages.create(params);
    expect(m.usage.cache_creation).toEqual({ ephemeral_1h_input_tokens: sys, ephemeral_5m_input_tokens: countTokens(tail) });
    expectAddsUp(m.usage, params);
    const bad = await c.messages
      .create({ model: MODEL, max_tokens: 20, system: [sysBlock('5m')], messages: [userBlock(tail, '1h')] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).message).toMatch(/"1h\\?" cannot come after one with ttl \\?"5m/);
  });

  it('the lookback reaches a 1h entry 19 blocks back after its 5m successor expired', async () => {
    let now = 0;
    const f = await start({ now: () => now });
    const c = client(f);
    const notes = Array.from({ length: 19 }, (_, i) => ({ type: 'text' as const, text: `note ${i}` }));
    const first = { model: MODEL, max_tokens: 20, system: BIG_SYSTEM, messages: [userBlock('start', '1h')] };
    await c.messages.create(first);
    now = 30 * MIN;
    const later = {
      model: MODEL,
      max_tokens: 20,
      system: BIG_SYSTEM,
      messages: [userBlock('start'), { role: 'assistant' as const, content: notes.slice(0, 18) }, userBlock('q', '5m')],
    };
    const m = await c.messages.create(later);
    expect(m.usage.cache_read_input_tokens).toBe(promptTokens(first));
    expect(m.usage.cache_creation?.ephemeral_5m_input_tokens).toBe(promptTokens(later) - promptTokens(first));
  });
});

describe('fake Anthropic API — shutdown', () => {
  it('close() resolves promptly with a streaming request and a hanging request open', async () => {
    const f = await start({ chunkSize: 5 });
    f.script({ text: 'a long answer that streams slowly', chunkDelayMs: 60_000 }, { hangMs: 60_000 });
    const c = client(f);
    const stream = c.messages.stream({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
    const streamDone = stream.finalMessage().catch((e: unknown) => e);
    await stream.emitted('text');
    const hung = c.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'y' }] }).catch((e: unknown) => e);
    await new Promise<void>((resolve) => {
      if (f.requests.length >= 2) resolve();
      else f.onRequest(() => resolve());
    });
    const t0 = performance.now();
    await f.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await streamDone).toBeInstanceOf(Error);
    expect(await hung).toBeInstanceOf(APIConnectionError);
  });
});
