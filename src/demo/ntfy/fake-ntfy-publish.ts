// The fake ntfy's reading of a request: a publish by headers or query (/<topic>), a
// publish by JSON (/), and which cached messages a subscriber's `since` selects.
// Pure functions of the request, kept apart from the server that holds the state.
import type { IncomingMessage } from 'node:http';
import {
  TOPIC_RE,
  errInvalidJson,
  errInvalidPriority,
  errInvalidSince,
  errInvalidTopic,
  newId,
  normalizeActions,
  nowSeconds,
  parseActionsHeader,
  parsePriority,
  parseTags,
  type FakeNtfyMessage,
} from './fake-ntfy-wire.js';

/** Header/query style publish to /<topic>. */
export function publishFromHeaders(
  topic: string,
  req: IncomingMessage,
  query: URLSearchParams,
  body: string,
  auth: string | undefined,
): FakeNtfyMessage {
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
export function publishFromJson(body: string, auth: string | undefined): FakeNtfyMessage {
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
export function cached(messages: FakeNtfyMessage[], topics: Set<string>, since: string | null, poll: boolean): FakeNtfyMessage[] {
  const inTopics = messages.filter((m) => topics.has(m.topic));
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
