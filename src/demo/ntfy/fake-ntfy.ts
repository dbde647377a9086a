/**
 * A small ntfy-compatible server on 127.0.0.1 for tests and the demo
 * (node:http only). Implements the parts of https://docs.ntfy.sh that
 * relay-tui uses:
 *
 *  - publish: `POST|PUT /<topic>` (body = message; Title/Priority/Tags/
 *    Actions/Click headers or query params) and JSON `POST|PUT /` with
 *    `{topic, message, ...}`; `GET /<topic>/publish|send|trigger?message=`.
 *  - subscribe: `GET /<topic>[,<topic>...]/json` NDJSON stream with `open`,
 *    `message`, `keepalive` events; `since=all|none|latest|<id>|<unix>|<dur>`
 *    and `poll=1`.
 *  - access control: with `token` set, anonymous requests get 403 and wrong
 *    credentials 401, with ntfy's error JSON.
 *
 * Run standalone: `node dist/demo/ntfy/fake-ntfy-main.js --port 8788 [--token tk_x]`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import {
  HttpError,
  TOPIC_RE,
  errForbidden,
  errNotFound,
  errUnauthorized,
  newId,
  nowSeconds,
  readBody,
  sendError,
  toWire,
  type FakeNtfyMessage,
  type FakeNtfyStore,
} from './fake-ntfy-wire.js';
import { cached, publishFromHeaders, publishFromJson } from './fake-ntfy-publish.js';
export type { FakeNtfyMessage, FakeNtfyStore } from './fake-ntfy-wire.js';

export interface FakeNtfyOptions {
  port?: number;
  /** When set, require `Authorization: Bearer <token>` (403 when missing, 401 when wrong). */
  token?: string;
  /** Respond to publishes with this HTTP status (and ntfy-style error JSON). */
  failWith?: number;
  /** Interval of `keepalive` events on /json streams. Default 30_000. */
  keepaliveMs?: number;
  /** Message cache to reuse (e.g. from a previous instance on the same port). */
  store?: FakeNtfyStore;
  /** Called for every accepted publish (the standalone mode logs with it). */
  onPublish?(m: FakeNtfyMessage): void;
}

export interface FakeNtfy {
  url: string;
  port: number;
  /** Same array as `store.messages`. */
  messages: FakeNtfyMessage[];
  store: FakeNtfyStore;
  /** Number of currently open /json streams. */
  subscriberCount(): number;
  waitFor(pred: (m: FakeNtfyMessage) => boolean, timeoutMs?: number): Promise<FakeNtfyMessage>;
  /** Cut every open /json stream, like a server restart (the cache is kept). */
  dropSubscribers(): void;
  close(): Promise<void>;
}

interface Subscriber {
  topics: Set<string>;
  res: ServerResponse;
  keepalive: ReturnType<typeof setInterval>;
}

interface Waiter {
  pred: (m: FakeNtfyMessage) => boolean;
  resolve: (m: FakeNtfyMessage) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export async function startFakeNtfy(opts: FakeNtfyOptions = {}): Promise<FakeNtfy> {
  const store: FakeNtfyStore = opts.store ?? { messages: [] };
  const keepaliveMs = opts.keepaliveMs ?? 30_000;
  const subscribers = new Set<Subscriber>();
  const waiters = new Set<Waiter>();
  const sockets = new Set<Socket>();

  /** ntfy semantics: no header → 403 on a protected server, bad credentials → 401. */
  function checkAuth(req: IncomingMessage, query: URLSearchParams): string | undefined {
    let auth = req.headers.authorization;
    const qAuth = query.get('auth');
    if (!auth && qAuth) {
      try {
        auth = Buffer.from(qAuth, 'base64url').toString('utf8');
      } catch {
        /* ignore */
      }
    }
    if (opts.token === undefined) return auth;
    if (!auth) throw errForbidden();
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (!m || m[1] !== opts.token) throw errUnauthorized();
    return auth;
  }

  function publish(m: FakeNtfyMessage): void {
    store.messages.push(m);
    const line = `${JSON.stringify(toWire(m))}\n`;
    for (const s of subscribers) if (s.topics.has(m.topic)) s.res.write(line);
    for (const w of [...waiters]) {
      let match = false;
      try {
        match = w.pred(m);
      } catch {
        /* treat a throwing predicate as no match */
      }
      if (match) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(m);
      }
    }
    opts.onPublish?.(m);
  }

  function respondPublished(res: ServerResponse, m: FakeNtfyMessage): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
    res.end(`${JSON.stringify(toWire(m))}\n`);
  }

  function failIfConfigured(): void {
    if (opts.failWith !== undefined) {
      const status = opts.failWith;
      throw new HttpError(status, status * 100 + 1, status >= 500 ? 'internal server error' : `request failed with ${status}`);
    }
  }

  function handleSubscribe(topics: Set<string>, query: URLSearchParams, res: ServerResponse): void {
    const poll = /^(1|true|yes)$/i.test(query.get('poll') ?? query.get('po') ?? '');
    const replay = cached(store.messages, topics, query.get('since') ?? query.get('si'), poll);
    const topicStr = [...topics].join(',');
    res.writeHead(200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-cache',
      'Access-Control-Allow-Origin': '*',
    });
    if (poll) {
      res.end(replay.map((m) => `${JSON.stringify(toWire(m))}\n`).join(''));
      return;
    }
    let out = `${JSON.stringify({ id: newId(), time: nowSeconds(), event: 'open', topic: topicStr })}\n`;
    for (const m of replay) out += `${JSON.stringify(toWire(m))}\n`;
    res.write(out);
    // registered synchronously with the replay, so nothing published in between is lost
    const sub: Subscriber = {
      topics,
      res,
      keepalive: setInterval(() => {
        res.write(`${JSON.stringify({ id: newId(), time: nowSeconds(), event: 'keepalive', topic: topicStr })}\n`);
      }, keepaliveMs),
    };
    subscribers.add(sub);
    const cleanup = (): void => {
      clearInterval(sub.keepalive);
      subscribers.delete(sub);
    };
    res.on('close', cleanup);
    res.on('error', cleanup);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = url.searchParams;
    const method = (req.method ?? 'GET').toUpperCase();
    const parts = url.pathname.split('/').filter(Boolean);

    if (method === 'OPTIONS') {
      res.writeHead(200, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, PUT, POST',
        'Access-Control-Allow-Headers': '*',
      });
      res.end();
      return;
    }
    if (method === 'GET' && url.pathname === '/v1/health') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"healthy":true}\n');
      return;
    }

    // JSON publish: POST|PUT /
    if ((method === 'POST' || method === 'PUT') && parts.length === 0) {
      const body = await readBody(req);
      const auth = checkAuth(req, query);
      failIfConfigured();
      const m = publishFromJson(body, auth);
      publish(m);
      respondPublished(res, m);
      return;
    }

    // Header publish: POST|PUT /<topic>
    if ((method === 'POST' || method === 'PUT') && parts.length === 1 && TOPIC_RE.test(parts[0] ?? '')) {
      const body = await readBody(req);
      const auth = checkAuth(req, query);
      failIfConfigured();
      const m = publishFromHeaders(parts[0] ?? '', req, query, body, auth);
      publish(m);
      respondPublished(res, m);
      return;
    }

    // Webhook-style publish: GET /<topic>/publish|send|trigger
    if (method === 'GET' && parts.length === 2 && TOPIC_RE.test(parts[0] ?? '') && /^(publish|send|trigger)$/.test(parts[1] ?? '')) {
      const auth = checkAuth(req, query);
      failIfConfigured();
      const m = publishFromHeaders(parts[0] ?? '', req, query, '', auth);
      publish(m);
      respondPublished(res, m);
      return;
    }

    // Subscribe: GET /<topic>[,<topic>]/json
    if (method === 'GET' && parts.length === 2 && parts[1] === 'json') {
      const topics = (parts[0] ?? '').split(',');
      if (!topics.every((t) => TOPIC_RE.test(t))) throw errNotFound();
      checkAuth(req, query);
      handleSubscribe(new Set(topics), query, res);
      return;
    }

    throw errNotFound();
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) sendError(res, err);
      else sendError(res, new HttpError(500, 50001, 'internal server error'));
    });
  });
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  function dropSubscribers(): void {
    for (const s of [...subscribers]) {
      clearInterval(s.keepalive);
      subscribers.delete(s);
      s.res.socket?.destroy();
      s.res.destroy();
    }
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      dropSubscribers();
      // reject pending waiters so callers fail fast instead of hanging until their timeout
      for (const w of [...waiters]) {
        clearTimeout(w.timer);
        waiters.delete(w);
        w.reject(new Error('fake ntfy closed'));
      }
      server.close(() => resolve());
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
    });
    return closing;
  }

  function waitFor(pred: (m: FakeNtfyMessage) => boolean, timeoutMs = 5000): Promise<FakeNtfyMessage> {
    const existing = store.messages.find((m) => {
      try {
        return pred(m);
      } catch {
        return false;
      }
    });
    if (existing) return Promise.resolve(existing);
    return new Promise<FakeNtfyMessage>((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`fake ntfy: no matching message within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      waiters.add(w);
    });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    messages: store.messages,
    store,
    subscriberCount: () => subscribers.size,
    waitFor,
    dropSubscribers,
    close,
  };
}
