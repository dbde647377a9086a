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
 * Run standalone: `node dist/demo/fake-ntfy.js --port 8788 [--token tk_x]`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

export interface FakeNtfyMessage {
  id: string;
  time: number;
  topic: string;
  message: string;
  title?: string;
  priority?: number;
  tags?: string[];
  actions?: any[];
  click?: string;
  /** The Authorization header seen on the publish request (fake-only; never sent to subscribers). */
  auth?: string;
}

/** Message cache that survives close()/restart: pass `fake.store` back into startFakeNtfy. */
export interface FakeNtfyStore {
  messages: FakeNtfyMessage[];
}

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

const TOPIC_RE = /^[-_A-Za-z0-9]{1,64}$/;
const MESSAGE_EXPIRY_S = 12 * 3600;
const MAX_BODY_BYTES = 1024 * 1024;
const ACTION_TYPES = new Set(['view', 'http', 'broadcast', 'copy']);

class HttpError extends Error {
  constructor(
    readonly http: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const errInvalidPriority = () => new HttpError(400, 40007, 'invalid priority');
const errInvalidJson = () => new HttpError(400, 40017, 'invalid request: request body must be message JSON');
const errInvalidTopic = () => new HttpError(400, 40009, 'invalid request: topic invalid');
const errInvalidActions = (why: string) => new HttpError(400, 40018, `invalid request: actions invalid, ${why}`);
const errInvalidSince = () => new HttpError(400, 40008, 'invalid since parameter');
const errNotFound = () => new HttpError(404, 40401, 'page not found');
const errUnauthorized = () => new HttpError(401, 40101, 'unauthorized');
const errForbidden = () => new HttpError(403, 40301, 'forbidden');
const errTooLarge = () => new HttpError(413, 41301, 'request entity too large');

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function newId(): string {
  const bytes = randomBytes(12);
  let s = '';
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return s;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function parsePriority(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (s === '') return undefined;
  const named: Record<string, number> = { min: 1, low: 2, default: 3, high: 4, urgent: 5, max: 5 };
  if (s in named) return named[s];
  if (/^[1-5]$/.test(s)) return Number(s);
  throw errInvalidPriority();
}

function parseTags(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const tags = v
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return tags.length ? tags : undefined;
}

/** Split on `sep` outside of single/double quotes; quotes are kept for the caller to strip. */
function splitQuoted(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined;
      cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

const ACTION_KEYS = new Set(['action', 'label', 'url', 'method', 'body', 'clear', 'intent', 'value']);

/** Parse ntfy's short action format: `action, label, url[, key=value...]; ...`. */
export function parseSimpleActions(header: string): any[] {
  const actions: any[] = [];
  for (const section of splitQuoted(header, ';')) {
    if (!section.trim()) continue;
    const action: any = {};
    const positional: string[] = [];
    for (const part of splitQuoted(section, ',')) {
      if (!part.trim()) continue;
      const m = /^\s*([A-Za-z][\w.-]*)\s*=(.*)$/s.exec(part);
      const key = m?.[1]?.toLowerCase();
      if (m && key && (ACTION_KEYS.has(key) || key.startsWith('headers.') || key.startsWith('extras.'))) {
        const value = unquote(m[2] ?? '');
        const origKey = m[1] ?? '';
        if (key.startsWith('headers.')) (action.headers ??= {})[origKey.slice('headers.'.length)] = value;
        else if (key.startsWith('extras.')) (action.extras ??= {})[origKey.slice('extras.'.length)] = value;
        else if (key === 'clear') action.clear = /^(1|true|yes)$/i.test(value);
        else action[key] = value;
      } else {
        positional.push(unquote(part));
      }
    }
    // positional order: action, label, then url (view/http) or value (copy)
    const order = ['action', 'label'];
    for (const value of positional) {
      const key = order.shift() ?? (action.action === 'copy' ? 'value' : action.action === 'broadcast' ? undefined : 'url');
      if (key === undefined || action[key] !== undefined) throw errInvalidActions(`unexpected value '${value}'`);
      action[key] = value;
    }
    actions.push(action);
  }
  return actions;
}

function normalizeActions(raw: unknown): any[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw errInvalidActions('expected a list');
  if (raw.length === 0) return undefined;
  if (raw.length > 3) throw errInvalidActions('too many actions, only 3 allowed');
  return raw.map((a) => {
    if (!a || typeof a !== 'object') throw errInvalidActions('action must be an object');
    const action = { id: newId().slice(0, 10), ...(a as Record<string, unknown>) } as any;
    action.action = String(action.action ?? '').toLowerCase();
    if (!ACTION_TYPES.has(action.action)) throw errInvalidActions(`action '${action.action}' unknown`);
    if (typeof action.label !== 'string' || !action.label) throw errInvalidActions('parameter label is required');
    if ((action.action === 'view' || action.action === 'http') && (typeof action.url !== 'string' || !action.url)) {
      throw errInvalidActions('parameter url is required');
    }
    if (action.action === 'http' && !action.method) action.method = 'POST';
    return action;
  });
}

function parseActionsHeader(v: string | undefined): any[] | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const t = v.trim();
  if (t.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw errInvalidActions('invalid JSON');
    }
    return normalizeActions(parsed);
  }
  return normalizeActions(parseSimpleActions(t));
}

/** The message as ntfy sends it over the wire (no fake-only fields). */
function toWire(m: FakeNtfyMessage): Record<string, unknown> {
  const w: Record<string, unknown> = {
    id: m.id,
    time: m.time,
    expires: m.time + MESSAGE_EXPIRY_S,
    event: 'message',
    topic: m.topic,
    message: m.message,
  };
  if (m.title !== undefined) w.title = m.title;
  if (m.priority !== undefined) w.priority = m.priority;
  if (m.tags !== undefined) w.tags = m.tags;
  if (m.click !== undefined) w.click = m.click;
  if (m.actions !== undefined) w.actions = m.actions;
  return w;
}

function sendError(res: ServerResponse, e: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ code: e.code, http: e.http, error: e.message, link: 'https://ntfy.sh/docs/publish/' });
  res.writeHead(e.http, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
  res.end(`${body}\n`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(errTooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
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

  /** Header/query style publish to /<topic>. */
  function publishFromHeaders(topic: string, req: IncomingMessage, query: URLSearchParams, body: string, auth: string | undefined): FakeNtfyMessage {
    const param = (...names: string[]): string | undefined => {
      for (const n of names) {
        const h = req.headers[n.toLowerCase()];
        if (typeof h === 'string') return h;
        if (Array.isArray(h) && h.length) return h.join(', ');
      }
      for (const n of names) {
        const q = query.get(n.toLowerCase());
        if (q !== null) return q;
      }
      return undefined;
    };
    let message = body !== '' ? body : (param('X-Message', 'Message', 'm') ?? '');
    if (message.trim() === '') message = 'triggered';
    const m: FakeNtfyMessage = { id: newId(), time: nowSeconds(), topic, message };
    const title = param('X-Title', 'Title', 't', 'ti');
    if (title !== undefined && title !== '') m.title = title;
    const priority = parsePriority(param('X-Priority', 'Priority', 'prio', 'p'));
    if (priority !== undefined) m.priority = priority;
    const tags = parseTags(param('X-Tags', 'Tags', 'Tag', 'ta'));
    if (tags !== undefined) m.tags = tags;
    const actions = parseActionsHeader(param('X-Actions', 'Actions', 'Action'));
    if (actions !== undefined) m.actions = actions;
    const click = param('X-Click', 'Click');
    if (click !== undefined && click !== '') m.click = click;
    if (auth !== undefined) m.auth = auth;
    return m;
  }

  /** JSON publish to / (ntfy is strict about field types here). */
  function publishFromJson(body: string, auth: string | undefined): FakeNtfyMessage {
    let j: any;
    try {
      j = JSON.parse(body);
    } catch {
      throw errInvalidJson();
    }
    if (!j || typeof j !== 'object' || Array.isArray(j)) throw errInvalidJson();
    const str = (v: unknown): string | undefined => {
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw errInvalidJson();
      return v;
    };
    const topic = str(j.topic);
    if (!topic || !TOPIC_RE.test(topic)) throw errInvalidTopic();
    let message = str(j.message) ?? '';
    if (message.trim() === '') message = 'triggered';
    const m: FakeNtfyMessage = { id: newId(), time: nowSeconds(), topic, message };
    const title = str(j.title);
    if (title) m.title = title;
    if (j.priority !== undefined && j.priority !== null) {
      if (typeof j.priority !== 'number' || !Number.isInteger(j.priority)) throw errInvalidJson();
      if (j.priority !== 0) {
        if (j.priority < 1 || j.priority > 5) throw errInvalidPriority();
        m.priority = j.priority;
      }
    }
    if (j.tags !== undefined && j.tags !== null) {
      if (!Array.isArray(j.tags) || j.tags.some((t: unknown) => typeof t !== 'string')) throw errInvalidJson();
      if (j.tags.length) m.tags = j.tags;
    }
    const actions = normalizeActions(j.actions);
    if (actions !== undefined) m.actions = actions;
    const click = str(j.click);
    if (click) m.click = click;
    if (auth !== undefined) m.auth = auth;
    return m;
  }

  /** Cached messages for `topics` selected by ntfy's `since` parameter. */
  function cached(topics: Set<string>, since: string | null, poll: boolean): FakeNtfyMessage[] {
    const inTopics = store.messages.filter((m) => topics.has(m.topic));
    const s = since ?? (poll ? 'all' : 'none');
    if (s === 'none' || s === '') return [];
    if (s === 'all') return inTopics;
    if (s === 'latest') return inTopics.slice(-1);
    if (/^\d+$/.test(s)) {
      const t = Number(s);
      return inTopics.filter((m) => m.time >= t);
    }
    const dur = /^(\d+)(s|m|h|d)$/.exec(s);
    if (dur) {
      const mult = { s: 1, m: 60, h: 3600, d: 86400 }[dur[2] as 's' | 'm' | 'h' | 'd'];
      const t = nowSeconds() - Number(dur[1]) * mult;
      return inTopics.filter((m) => m.time >= t);
    }
    if (/^[A-Za-z0-9]{1,64}$/.test(s)) {
      const idx = inTopics.findIndex((m) => m.id === s);
      return idx >= 0 ? inTopics.slice(idx + 1) : inTopics; // unknown id → everything, like ntfy
    }
    throw errInvalidSince();
  }

  function handleSubscribe(topics: Set<string>, query: URLSearchParams, res: ServerResponse): void {
    const poll = /^(1|true|yes)$/i.test(query.get('poll') ?? query.get('po') ?? '');
    const replay = cached(topics, query.get('since') ?? query.get('si'), poll);
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

// ---------------------------------------------------------------------------
// Standalone: node dist/demo/fake-ntfy.js --port 8788 [--token tk_x] [--keepalive-ms 30000]
// ---------------------------------------------------------------------------

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

async function main(argv: string[]): Promise<void> {
  const portArg = argValue(argv, '--port');
  const keepaliveArg = argValue(argv, '--keepalive-ms');
  const fake = await startFakeNtfy({
    port: portArg !== undefined ? Number(portArg) : 8788,
    token: argValue(argv, '--token'),
    keepaliveMs: keepaliveArg !== undefined ? Number(keepaliveArg) : undefined,
    onPublish: (m) => {
      const extra = [m.title && `title=${JSON.stringify(m.title)}`, m.priority && `p=${m.priority}`, m.actions && `actions=${m.actions.length}`]
        .filter(Boolean)
        .join(' ');
      process.stdout.write(`[fake-ntfy] ${m.topic} ${m.id}: ${JSON.stringify(m.message)}${extra ? ` ${extra}` : ''}\n`);
    },
  });
  process.stdout.write(`fake ntfy listening on ${fake.url}\n`);
  const shutdown = (): void => {
    void fake.close().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`fake ntfy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
