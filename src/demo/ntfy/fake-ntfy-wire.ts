/**
 * ntfy's wire format as the fake server speaks it: error bodies with ntfy's codes, the
 * Priority/Tags/Actions headers (simple and JSON forms), the message JSON a subscriber
 * reads, and a bounded body reader. Kept apart from the server (fake-ntfy.ts) so each
 * reads on its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

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

export const TOPIC_RE = /^[-_A-Za-z0-9]{1,64}$/;
export const MESSAGE_EXPIRY_S = 12 * 3600;
export const MAX_BODY_BYTES = 1024 * 1024;
export const ACTION_TYPES = new Set(['view', 'http', 'broadcast', 'copy']);

export class HttpError extends Error {
  constructor(
    readonly http: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const errInvalidPriority = () => new HttpError(400, 40007, 'invalid priority');
export const errInvalidJson = () => new HttpError(400, 40017, 'invalid request: request body must be message JSON');
export const errInvalidTopic = () => new HttpError(400, 40009, 'invalid request: topic invalid');
export const errInvalidActions = (why: string) => new HttpError(400, 40018, `invalid request: actions invalid, ${why}`);
export const errInvalidSince = () => new HttpError(400, 40008, 'invalid since parameter');
export const errNotFound = () => new HttpError(404, 40401, 'page not found');
export const errUnauthorized = () => new HttpError(401, 40101, 'unauthorized');
export const errForbidden = () => new HttpError(403, 40301, 'forbidden');
export const errTooLarge = () => new HttpError(413, 41301, 'request entity too large');

export const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export function newId(): string {
  const bytes = randomBytes(12);
  let s = '';
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return s;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function parsePriority(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (s === '') return undefined;
  const named: Record<string, number> = { min: 1, low: 2, default: 3, high: 4, urgent: 5, max: 5 };
  if (s in named) return named[s];
  if (/^[1-5]$/.test(s)) return Number(s);
  throw errInvalidPriority();
}

export function parseTags(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const tags = v
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return tags.length ? tags : undefined;
}

/** Split on `sep` outside of single/double quotes; quotes are kept for the caller to strip. */
export function splitQuoted(s: string, sep: string): string[] {
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

export function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

export const ACTION_KEYS = new Set(['action', 'label', 'url', 'method', 'body', 'clear', 'intent', 'value']);

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

export function normalizeActions(raw: unknown): any[] | undefined {
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

export function parseActionsHeader(v: string | undefined): any[] | undefined {
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
export function toWire(m: FakeNtfyMessage): Record<string, unknown> {
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

export function sendError(res: ServerResponse, e: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ code: e.code, http: e.http, error: e.message, link: 'https://ntfy.sh/docs/publish/' });
  res.writeHead(e.http, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
  res.end(`${body}\n`);
}

export function readBody(req: IncomingMessage): Promise<string> {
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
