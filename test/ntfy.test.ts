import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublisher, subscribe, type ReceivedMessage, type SubscribeState } from '../src/adapters/ntfy.js';
import { startFakeNtfy, type FakeNtfy } from '../src/demo/ntfy/fake-ntfy.js';

const TOKEN = 'tk_s3cr3tT0kenValue';

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function fake(opts: Parameters<typeof startFakeNtfy>[0] = {}): Promise<FakeNtfy> {
  const f = await startFakeNtfy(opts);
  cleanups.push(() => f.close());
  return f;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A raw server with a custom handler (for "never answers" / echoing error bodies). */
async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Event-driven recorder for a subscription: wait on conditions, no sleeps. */
function recorder() {
  const msgs: ReceivedMessage[] = [];
  const states: SubscribeState[] = [];
  const urls: string[] = [];
  let checks: Array<() => void> = [];
  const notify = (): void => {
    const cs = checks;
    checks = [];
    for (const c of cs) c();
  };
  const until = (cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (cond()) return resolve();
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(
          new Error(`timed out waiting for ${what}; states=${JSON.stringify(states)} msgs=${msgs.length} urls=${JSON.stringify(urls)}`),
        );
      }, timeoutMs);
      const check = (): void => {
        if (done) return;
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else checks.push(check);
      };
      checks.push(check);
    });
  const fetchRec: typeof fetch = (input, init) => {
    urls.push(String(input));
    notify();
    return fetch(input, init);
  };
  return {
    msgs,
    states,
    urls,
    fetch: fetchRec,
    onMessage: (m: ReceivedMessage) => {
      msgs.push(m);
      notify();
    },
    onState: (s: SubscribeState) => {
      states.push(s);
      notify();
    },
    until,
    connects: () => states.filter((s) => s.connected).length,
    disconnects: () => states.filter((s) => !s.connected).length,
    waitMsgs: (n: number) => until(() => msgs.length >= n, `${n} messages`),
    waitConnects: (n: number) => until(() => states.filter((s) => s.connected).length >= n, `${n} connects`),
    waitDisconnects: (n: number) => until(() => states.filter((s) => !s.connected).length >= n, `${n} disconnects`),
  };
}

/** Bounded wait used only to assert that nothing (more) happens. */
const quietPeriod = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// publisher
// ---------------------------------------------------------------------------

describe('ntfy publisher', () => {
  it('publishes JSON with title, priority, tags, actions and click', async () => {
    const f = await fake();
    const pub = createPublisher({ server: `${f.url}/`, topic: 'relay-ops' });
    const res = await pub.publish({
      title: 'Überprüfung nötig ✓ — session #2',
      message: 'Claude asks: may I run `rm -rf build`?\nline two',
      priority: 'high',
      tags: ['warning', 'robot'],
      click: 'https://example.com/session/2',
      actions: [
        {
          action: 'http',
          label: 'Approve',
          url: `${f.url}/relay-replies`,
          method: 'POST',
          body: 'approve s2',
          headers: { 'X-Title': 'reply' },
          clear: true,
        },
        { action: 'view', label: 'Open', url: 'https://example.com/?a=b' },
      ],
    });
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(res.id).toMatch(/^[A-Za-z0-9]+$/);

    const m = await f.waitFor((x) => x.id === res.id);
    expect(m.topic).toBe('relay-ops');
    expect(m.title).toBe('Überprüfung nötig ✓ — session #2');
    expect(m.message).toBe('Claude asks: may I run `rm -rf build`?\nline two');
    expect(m.priority).toBe(4);
    expect(m.tags).toEqual(['warning', 'robot']);
    expect(m.click).toBe('https://example.com/session/2');
    expect(m.auth).toBeUndefined();
    expect(m.actions).toHaveLength(2);
    expect(m.actions![0]).toMatchObject({
      action: 'http',
      label: 'Approve',
      url: `${f.url}/relay-replies`,
      method: 'POST',
      body: 'approve s2',
      headers: { 'X-Title': 'reply' },
      clear: true,
    });
    expect(m.actions![1]).toMatchObject({ action: 'view', label: 'Open', url: 'https://example.com/?a=b' });
  });

  it('maps every priority name to ntfy numbers and omits absent fields', async () => {
    const f = await fake();
    const pub = createPublisher({ server: f.url, topic: 't1' });
    const names = ['min', 'low', 'default', 'high', 'urgent'] as const;
    for (const [i, p] of names.entries()) {
      const r = await pub.publish({ message: `p ${p}`, priority: p });
      expect(r.ok).toBe(true);
      expect((await f.waitFor((m) => m.id === r.id)).priority).toBe(i + 1);
    }
    const r = await pub.publish({ message: 'plain', priority: 2 });
    const m = await f.waitFor((x) => x.id === r.id);
    expect(m).toMatchObject({ priority: 2, message: 'plain' });
    expect(m.title).toBeUndefined();
    expect(m.tags).toBeUndefined();
    expect(m.actions).toBeUndefined();
  });

  it('sends the token as Bearer and the fake requires it when configured', async () => {
    const f = await fake({ token: TOKEN });
    const good = await createPublisher({ server: f.url, topic: 'sec', token: TOKEN }).publish({ message: 'hi' });
    expect(good.ok).toBe(true);
    expect((await f.waitFor((m) => m.id === good.id)).auth).toBe(`Bearer ${TOKEN}`);

    const anon = await createPublisher({ server: f.url, topic: 'sec' }).publish({ message: 'anon' });
    expect(anon).toMatchObject({ ok: false, status: 403 });
    expect(anon.error).toContain('forbidden');

    const wrongToken = 'tk_wrong_but_still_secret';
    const wrong = await createPublisher({ server: f.url, topic: 'sec', token: wrongToken }).publish({ message: 'x' });
    expect(wrong).toMatchObject({ ok: false, status: 401 });
    expect(wrong.error).toContain('unauthorized');
    expect(wrong.error).not.toContain(wrongToken);
    expect(f.messages.map((m) => m.message)).toEqual(['hi']);
  });

  it('resolves ok:false with status and server error text on a 500', async () => {
    const f = await fake({ failWith: 500 });
    const res = await createPublisher({ server: f.url, topic: 't', token: TOKEN, timeoutMs: 1000 }).publish({ message: 'x' });
    expect(res.ok).toBe(false);
    expect(res.status).toBe(500);
    expect(res.error).toContain('internal server error');
    expect(res.error).not.toContain(TOKEN);
    expect(f.messages).toHaveLength(0);
  });

  it('never leaks the token even if the server echoes it back', async () => {
    const { url } = await rawServer((req, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 40000, http: 400, error: `bad header ${req.headers.authorization}` }));
    });
    const res = await createPublisher({ server: url, topic: 't', token: TOKEN }).publish({ message: 'x' });
    expect(res).toMatchObject({ ok: false, status: 400 });
    expect(res.error).toContain('bad header');
    expect(res.error).not.toContain(TOKEN);
  });

  it('resolves ok:false for an unreachable server without throwing', async () => {
    const port = await closedPort();
    const started = Date.now();
    const res = await createPublisher({ server: `http://127.0.0.1:${port}`, topic: 't', token: TOKEN, timeoutMs: 500 }).publish({
      message: 'x',
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(res.ok).toBe(false);
    expect(res.status).toBeUndefined();
    expect(res.error).toBeTruthy();
    expect(res.error).not.toContain(TOKEN);
  });

  it('resolves ok:false within the timeout when the server never answers', async () => {
    let seen = 0;
    const { url } = await rawServer(() => {
      seen++; // accept and never respond
    });
    const started = Date.now();
    const res = await createPublisher({ server: url, topic: 't', token: TOKEN, timeoutMs: 200 }).publish({ message: 'x' });
    const elapsed = Date.now() - started;
    expect(seen).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1500);
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/timeout/i);
    expect(res.error).not.toContain(TOKEN);
  });

  it('resolves ok:false when a custom fetch throws', async () => {
    const boom: typeof fetch = () => {
      throw new Error(`synchronous failure with ${TOKEN}`);
    };
    const res = await createPublisher({ server: 'http://127.0.0.1:9', topic: 't', token: TOKEN, fetch: boom }).publish({ message: 'x' });
    expect(res.ok).toBe(false);
    expect(res.error).toContain('synchronous failure');
    expect(res.error).not.toContain(TOKEN);
  });
});

// ---------------------------------------------------------------------------
// fake server: header-style publishing and polling
// ---------------------------------------------------------------------------

describe('fake ntfy', () => {
  it('parses header-style publishes (Title/Priority/Tags/Actions/Click)', async () => {
    const f = await fake();
    const r = await fetch(`${f.url}/hdr-topic`, {
      method: 'POST',
      headers: {
        Title: 'Build done',
        Priority: 'urgent',
        Tags: 'tada, white_check_mark',
        Click: 'https://example.com/build',
        Actions:
          'http, Approve, https://relay.example/reply, method=PUT, body=\'{"ok":1, "v":"a;b"}\', headers.X-Reply=yes, clear=true; ' +
          'view, Open page, https://example.com/?a=b&c=d',
      },
      body: 'The build finished',
    });
    expect(r.status).toBe(200);
    const wire = (await r.json()) as Record<string, unknown>;
    expect(wire).toMatchObject({ event: 'message', topic: 'hdr-topic', message: 'The build finished', title: 'Build done', priority: 5 });
    expect(typeof wire.id).toBe('string');
    expect(wire.expires).toBe((wire.time as number) + 12 * 3600);
    expect(wire).not.toHaveProperty('auth');

    const m = await f.waitFor((x) => x.id === wire.id);
    expect(m.tags).toEqual(['tada', 'white_check_mark']);
    expect(m.click).toBe('https://example.com/build');
    expect(m.actions).toHaveLength(2);
    expect(m.actions![0]).toMatchObject({
      action: 'http',
      label: 'Approve',
      url: 'https://relay.example/reply',
      method: 'PUT',
      body: '{"ok":1, "v":"a;b"}',
      headers: { 'X-Reply': 'yes' },
      clear: true,
    });
    expect(m.actions![1]).toMatchObject({ action: 'view', label: 'Open page', url: 'https://example.com/?a=b&c=d' });
  });

  it('accepts X- headers, p=, JSON Actions, PUT and rejects bad input like ntfy', async () => {
    const f = await fake();
    const r1 = await fetch(`${f.url}/t2?p=2`, {
      method: 'PUT',
      headers: { 'X-Title': 'x-title', Actions: JSON.stringify([{ action: 'http', label: 'Go', url: 'https://x.example' }]) },
      body: 'put body',
    });
    expect(r1.status).toBe(200);
    const m1 = await f.waitFor((m) => m.message === 'put body');
    expect(m1).toMatchObject({ topic: 't2', title: 'x-title', priority: 2 });
    expect(m1.actions![0]).toMatchObject({ action: 'http', label: 'Go', url: 'https://x.example', method: 'POST' });

    const bad = await fetch(`${f.url}/t2`, { method: 'POST', headers: { Priority: 'extreme' }, body: 'x' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ http: 400, error: 'invalid priority' });

    const badJson = await fetch(`${f.url}/`, { method: 'POST', body: '{"topic":"t2","priority":"high"}' });
    expect(badJson.status).toBe(400);

    const badTopic = await fetch(`${f.url}/`, { method: 'POST', body: '{"topic":"no spaces allowed","message":"x"}' });
    expect(badTopic.status).toBe(400);

    const empty = await fetch(`${f.url}/t3`, { method: 'POST' });
    expect(((await empty.json()) as { message: string }).message).toBe('triggered');
  });

  it('serves since=all|<id>|<unix> and poll=1', async () => {
    const f = await fake();
    const pub = createPublisher({ server: f.url, topic: 'poll-t' });
    const a = await pub.publish({ message: 'a' });
    const b = await pub.publish({ message: 'b' });
    const c = await pub.publish({ message: 'c' });
    await createPublisher({ server: f.url, topic: 'other' }).publish({ message: 'elsewhere' });

    const poll = async (q: string) => {
      const r = await fetch(`${f.url}/poll-t/json?poll=1${q}`);
      const lines = (await r.text()).trim().split('\n').filter(Boolean);
      return lines.map((l) => JSON.parse(l) as { event: string; message: string; id: string });
    };
    expect((await poll('')).map((e) => e.message)).toEqual(['a', 'b', 'c']);
    expect((await poll('&since=all')).map((e) => e.message)).toEqual(['a', 'b', 'c']);
    expect((await poll(`&since=${a.id}`)).map((e) => e.message)).toEqual(['b', 'c']);
    expect((await poll(`&since=${c.id}`)).map((e) => e.message)).toEqual([]);
    expect((await poll(`&since=${Math.floor(Date.now() / 1000) - 60}`)).map((e) => e.message)).toEqual(['a', 'b', 'c']);
    expect((await poll(`&since=${Math.floor(Date.now() / 1000) + 60}`)).map((e) => e.message)).toEqual([]);
    expect((await poll('&since=latest')).map((e) => e.id)).toEqual([c.id]);
    expect(b.ok).toBe(true);
  });

  it('waitFor resolves for future messages and rejects after its timeout', async () => {
    const f = await fake();
    const pending = f.waitFor((m) => m.message === 'later', 2000);
    await createPublisher({ server: f.url, topic: 'w' }).publish({ message: 'later' });
    expect((await pending).topic).toBe('w');
    await expect(f.waitFor((m) => m.message === 'never', 50)).rejects.toThrow(/no matching message/);
  });
});

// ---------------------------------------------------------------------------
// subscriber
// ---------------------------------------------------------------------------

describe('ntfy subscriber', () => {
  it('receives messages live, only for event=message, and tracks lastId', async () => {
    const f = await fake({ keepaliveMs: 20 }); // plenty of keepalives interleaved
    const rec = recorder();
    const sub = subscribe({ server: f.url, topic: 'replies', onMessage: rec.onMessage, onState: rec.onState, fetch: rec.fetch });
    cleanups.push(() => sub.close());
    await rec.waitConnects(1);
    expect(sub.lastId()).toBeUndefined();
    expect(rec.urls[0]).toBe(`${f.url}/replies/json`);

    const pub = createPublisher({ server: f.url, topic: 'replies' });
    const r1 = await pub.publish({ message: 'approve s1', title: 'reply' });
    await createPublisher({ server: f.url, topic: 'not-mine' }).publish({ message: 'ignored' });
    const r2 = await pub.publish({ message: 'deny s2 — ✗' });
    await rec.waitMsgs(2);

    expect(rec.msgs.map((m) => [m.id, m.message, m.topic])).toEqual([
      [r1.id, 'approve s1', 'replies'],
      [r2.id, 'deny s2 — ✗', 'replies'],
    ]);
    expect(rec.msgs[0]!.title).toBe('reply');
    expect(rec.msgs[1]!.title).toBeUndefined();
    expect(typeof rec.msgs[0]!.time).toBe('number');
    expect(sub.lastId()).toBe(r2.id);
    expect(rec.disconnects()).toBe(0);
  });

  it('resumes with since=<lastId> after dropSubscribers() without duplicates or gaps', async () => {
    const f = await fake();
    const rec = recorder();
    const sub = subscribe({
      server: f.url,
      topic: 'replies',
      onMessage: rec.onMessage,
      onState: rec.onState,
      fetch: rec.fetch,
      backoff: { initialMs: 200, maxMs: 400 },
    });
    cleanups.push(() => sub.close());
    await rec.waitConnects(1);
    const pub = createPublisher({ server: f.url, topic: 'replies' });
    const m1 = await pub.publish({ message: 'one' });
    await rec.waitMsgs(1);

    f.dropSubscribers();
    await rec.waitDisconnects(1);
    const down = rec.states.find((s) => !s.connected)!;
    expect(down.retryInMs).toBe(200);
    expect(down.error).toBeTruthy();
    // published while the subscriber is disconnected (the retry timer is still pending)
    const m2 = await pub.publish({ message: 'two' });
    const m3 = await pub.publish({ message: 'three' });
    expect(rec.connects()).toBe(1);

    await rec.waitConnects(2);
    const m4 = await pub.publish({ message: 'four' });
    await rec.waitMsgs(4);
    await quietPeriod(100);

    expect(rec.msgs.map((m) => m.id)).toEqual([m1.id, m2.id, m3.id, m4.id]);
    expect(rec.urls).toHaveLength(2);
    expect(rec.urls[1]).toBe(`${f.url}/replies/json?since=${m1.id}`);
    expect(sub.lastId()).toBe(m4.id);
  });

  it('resumes from the first open time when dropped before any message arrived', async () => {
    const f = await fake();
    const rec = recorder();
    const sub = subscribe({
      server: f.url,
      topic: 'replies',
      onMessage: rec.onMessage,
      onState: rec.onState,
      fetch: rec.fetch,
      backoff: { initialMs: 100 },
    });
    cleanups.push(() => sub.close());
    await rec.waitConnects(1);
    f.dropSubscribers();
    await rec.waitDisconnects(1);
    const m = await createPublisher({ server: f.url, topic: 'replies' }).publish({ message: 'while away' });
    await rec.waitMsgs(1);
    expect(rec.msgs[0]!.id).toBe(m.id);
    expect(rec.urls[1]).toMatch(/\/replies\/json\?since=\d+$/);
  });

  it('survives the server being closed and restarted on the same port', async () => {
    const f1 = await startFakeNtfy();
    cleanups.push(() => f1.close());
    const port = f1.port;
    const rec = recorder();
    const sub = subscribe({
      server: f1.url,
      topic: 'replies',
      token: TOKEN,
      onMessage: rec.onMessage,
      onState: rec.onState,
      fetch: rec.fetch,
      backoff: { initialMs: 50, maxMs: 150 },
    });
    cleanups.push(() => sub.close());
    await rec.waitConnects(1);
    const m1 = await createPublisher({ server: f1.url, topic: 'replies' }).publish({ message: 'before restart' });
    await rec.waitMsgs(1);

    await f1.close();
    await rec.waitDisconnects(2); // stream cut, then at least one refused reconnect
    const refused = rec.states.filter((s) => !s.connected);
    expect(refused.every((s) => s.error && !s.error.includes(TOKEN))).toBe(true);
    // backoff grows but is capped
    expect(refused.map((s) => s.retryInMs)).toEqual(refused.map((_, i) => Math.min(50 * 2 ** i, 150)));

    const f2 = await fake({ port, store: f1.store });
    expect(f2.url).toBe(f1.url);
    const m2 = await createPublisher({ server: f2.url, topic: 'replies' }).publish({ message: 'after restart' });
    await rec.waitMsgs(2);
    await rec.waitConnects(2);
    const m3 = await createPublisher({ server: f2.url, topic: 'replies' }).publish({ message: 'live again' });
    await rec.waitMsgs(3);
    await quietPeriod(100);
    expect(rec.msgs.map((m) => m.id)).toEqual([m1.id, m2.id, m3.id]);
    expect(rec.urls.slice(1).every((u) => u.endsWith(`?since=${m1.id}`))).toBe(true);
  });

  it('replays the cache with since=all and starts after a given id', async () => {
    const f = await fake();
    const pub = createPublisher({ server: f.url, topic: 'replies' });
    const a = await pub.publish({ message: 'a' });
    const b = await pub.publish({ message: 'b' });

    const all = recorder();
    const s1 = subscribe({ server: f.url, topic: 'replies', since: 'all', onMessage: all.onMessage, onState: all.onState });
    cleanups.push(() => s1.close());
    const fromA = recorder();
    const s2 = subscribe({ server: f.url, topic: 'replies', since: a.id, onMessage: fromA.onMessage, onState: fromA.onState });
    cleanups.push(() => s2.close());
    const none = recorder();
    const s3 = subscribe({ server: f.url, topic: 'replies', onMessage: none.onMessage, onState: none.onState });
    cleanups.push(() => s3.close());

    await all.waitMsgs(2);
    await fromA.waitMsgs(1);
    await none.waitConnects(1);
    const c = await pub.publish({ message: 'c' });
    await all.waitMsgs(3);
    await fromA.waitMsgs(2);
    await none.waitMsgs(1);
    await quietPeriod(50);

    expect(all.msgs.map((m) => m.id)).toEqual([a.id, b.id, c.id]);
    expect(fromA.msgs.map((m) => m.id)).toEqual([b.id, c.id]);
    expect(none.msgs.map((m) => m.id)).toEqual([c.id]);
  });

  it('sends the token and reports auth failures without leaking it', async () => {
    const f = await fake({ token: TOKEN });
    const ok = recorder();
    const s1 = subscribe({ server: f.url, topic: 'replies', token: TOKEN, onMessage: ok.onMessage, onState: ok.onState });
    cleanups.push(() => s1.close());
    await ok.waitConnects(1);

    const bad = recorder();
    const wrongToken = 'tk_wrong_secret_value';
    const s2 = subscribe({
      server: f.url,
      topic: 'replies',
      token: wrongToken,
      onMessage: bad.onMessage,
      onState: bad.onState,
      backoff: { initialMs: 1000 },
    });
    cleanups.push(() => s2.close());
    await bad.waitDisconnects(1);
    expect(bad.states[0]).toMatchObject({ connected: false, retryInMs: 1000 });
    expect(bad.states[0]!.error).toContain('401');
    expect(bad.states[0]!.error).not.toContain(wrongToken);

    const r = await createPublisher({ server: f.url, topic: 'replies', token: TOKEN }).publish({ message: 'authed' });
    await ok.waitMsgs(1);
    expect(ok.msgs[0]!.id).toBe(r.id);
    expect(bad.msgs).toHaveLength(0);
  });

  it('treats a silent stream as dead (idle watchdog) but not one with keepalives', async () => {
    const silent = await fake({ keepaliveMs: 60_000 });
    const rec = recorder();
    const sub = subscribe({
      server: silent.url,
      topic: 'replies',
      idleTimeoutMs: 150,
      backoff: { initialMs: 20 },
      onMessage: rec.onMessage,
      onState: rec.onState,
    });
    cleanups.push(() => sub.close());
    await rec.waitConnects(1);
    await rec.waitDisconnects(1);
    expect(rec.states.find((s) => !s.connected)!.error).toMatch(/idle/);
    await rec.waitConnects(2); // reconnected

    const chatty = await fake({ keepaliveMs: 30 });
    const rec2 = recorder();
    const sub2 = subscribe({ server: chatty.url, topic: 'replies', idleTimeoutMs: 150, onMessage: rec2.onMessage, onState: rec2.onState });
    cleanups.push(() => sub2.close());
    await rec2.waitConnects(1);
    await quietPeriod(400);
    expect(rec2.disconnects()).toBe(0);
  });

  it('times out a server that never sends response headers and retries', async () => {
    let hits = 0;
    const { url } = await rawServer(() => {
      hits++;
    });
    const rec = recorder();
    const sub = subscribe({
      server: url,
      topic: 'replies',
      timeoutMs: 100,
      backoff: { initialMs: 20 },
      onMessage: rec.onMessage,
      onState: rec.onState,
    });
    cleanups.push(() => sub.close());
    await rec.waitDisconnects(2);
    expect(rec.states[0]!.error).toMatch(/no response/);
    expect(hits).toBeGreaterThanOrEqual(2);
  });

  it('close() stops the stream, retries and callbacks', async () => {
    const f = await fake();
    const rec = recorder();
    const sub = subscribe({ server: f.url, topic: 'replies', onMessage: rec.onMessage, onState: rec.onState, fetch: rec.fetch });
    await rec.waitConnects(1);
    expect(f.subscriberCount()).toBe(1);
    sub.close();
    sub.close(); // idempotent
    // the server notices the client going away
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const tick = (): void => {
        if (f.subscriberCount() === 0) resolve();
        else if (Date.now() - t0 > 2000) reject(new Error('subscriber still connected'));
        else setImmediate(tick);
      };
      tick();
    });
    await createPublisher({ server: f.url, topic: 'replies' }).publish({ message: 'after close' });
    await quietPeriod(100);
    expect(rec.msgs).toHaveLength(0);
    expect(rec.states.filter((s) => !s.connected)).toHaveLength(0);
    expect(rec.urls).toHaveLength(1);

    // closing while in backoff against a dead server: no further attempts
    const port = await closedPort();
    const rec2 = recorder();
    const sub2 = subscribe({
      server: `http://127.0.0.1:${port}`,
      topic: 'replies',
      backoff: { initialMs: 10, maxMs: 10 },
      onMessage: rec2.onMessage,
      onState: rec2.onState,
      fetch: rec2.fetch,
    });
    await rec2.waitDisconnects(2);
    sub2.close();
    const attempts = rec2.urls.length;
    const states = rec2.states.length;
    await quietPeriod(100);
    expect(rec2.urls.length).toBe(attempts);
    expect(rec2.states.length).toBe(states);
  });
});
