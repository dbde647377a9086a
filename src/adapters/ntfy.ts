/**
 * ntfy adapter (https://docs.ntfy.sh): a publisher for operator pings and a
 * resilient subscriber for the reply topic. Dependency-free (global fetch).
 *
 * Wire format used:
 *  - publish: `POST {server}/` with a JSON body `{topic, message, title,
 *    priority (1-5), tags, actions, click}` (JSON publishing sidesteps the
 *    header-encoding limits for non-ASCII titles).
 *  - subscribe: `GET {server}/{topic}/json[?since=...]`, an NDJSON stream of
 *    `open` / `keepalive` / `message` / `poll_request` events.
 */

export interface NtfyAction {
  action: 'http' | 'view';
  label: string;
  url: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  clear?: boolean;
}

export interface NtfyMessage {
  title?: string;
  message: string;
  priority?: 1 | 2 | 3 | 4 | 5 | 'min' | 'low' | 'default' | 'high' | 'urgent';
  tags?: string[];
  actions?: NtfyAction[];
  click?: string;
}

export interface NtfyOptions {
  server: string;
  topic: string;
  token?: string;
  /** Publish request timeout; for the subscriber, the time allowed until response headers arrive. Default 4000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface PublishResult {
  ok: boolean;
  status?: number;
  error?: string;
  id?: string;
}

export interface ReceivedMessage {
  id: string;
  time: number;
  topic: string;
  message: string;
  title?: string;
}

export interface SubscribeState {
  connected: boolean;
  error?: string;
  retryInMs?: number;
}

export interface SubscribeOptions extends NtfyOptions {
  /** Where to start the first connection: a message id, a unix time (seconds), or 'all'. */
  since?: string;
  onMessage(m: ReceivedMessage): void;
  onState?(s: SubscribeState): void;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Treat the stream as dead after this much silence (ntfy keepalive is 45 s). Default 150_000. */
  idleTimeoutMs?: number;
}

export interface Subscription {
  close(): void;
  lastId(): string | undefined;
}

const DEFAULT_TIMEOUT_MS = 4000;
const DEFAULT_IDLE_TIMEOUT_MS = 150_000;
const DEFAULT_BACKOFF_INITIAL_MS = 500;
const DEFAULT_BACKOFF_MAX_MS = 30_000;
const MAX_ERROR_TEXT = 300;
const SEEN_IDS_LIMIT = 512;

const PRIORITY_NAMES: Record<string, 1 | 2 | 3 | 4 | 5> = {
  min: 1,
  low: 2,
  default: 3,
  high: 4,
  urgent: 5,
  max: 5,
};

/** Map a priority (number or ntfy name) to ntfy's numeric 1-5, or undefined. */
export function priorityToNumber(p: NtfyMessage['priority'] | string | number | undefined): 1 | 2 | 3 | 4 | 5 | undefined {
  if (p === undefined || p === null) return undefined;
  if (typeof p === 'number') {
    return Number.isInteger(p) && p >= 1 && p <= 5 ? (p as 1 | 2 | 3 | 4 | 5) : undefined;
  }
  const s = String(p).trim().toLowerCase();
  if (/^[1-5]$/.test(s)) return Number(s) as 1 | 2 | 3 | 4 | 5;
  return PRIORITY_NAMES[s];
}

function baseUrl(server: string): string {
  return server.replace(/\/+$/, '');
}

function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Remove the token (and anything shaped like a Bearer credential) from a string meant for logs/UI. */
function redact(text: string, token: string | undefined): string {
  let out = text;
  if (token) out = out.split(token).join('***');
  out = out.replace(/Bearer\s+\S+/gi, 'Bearer ***');
  return out.length > MAX_ERROR_TEXT ? `${out.slice(0, MAX_ERROR_TEXT)}…` : out;
}

function describeError(err: unknown, timeoutMs?: number): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: string; message?: string; cause?: unknown };
    if (e.name === 'TimeoutError') return timeoutMs !== undefined ? `timeout after ${timeoutMs} ms` : 'timeout';
    if (e.name === 'AbortError') return 'aborted';
    let msg = e.message || e.name || 'error';
    const cause = e.cause as { code?: string; message?: string } | undefined;
    if (cause && typeof cause === 'object') {
      const detail = cause.message || cause.code;
      if (detail && !msg.includes(detail)) msg += `: ${detail}`;
    }
    return msg;
  }
  return String(err);
}

/** Extract ntfy's `{"error": "..."}` text from an error body, or fall back to the raw text. */
function serverErrorText(status: number, body: string): string {
  const trimmed = body.trim();
  try {
    const parsed = JSON.parse(trimmed) as { error?: unknown };
    if (parsed && typeof parsed.error === 'string') return `HTTP ${status}: ${parsed.error}`;
  } catch {
    /* not JSON */
  }
  return trimmed ? `HTTP ${status}: ${trimmed}` : `HTTP ${status}`;
}

// ---------------------------------------------------------------------------
// Publisher
// ---------------------------------------------------------------------------

export function createPublisher(opts: NtfyOptions): { publish(msg: NtfyMessage): Promise<PublishResult> } {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const url = `${baseUrl(opts.server)}/`;

  async function publish(msg: NtfyMessage): Promise<PublishResult> {
    try {
      const body: Record<string, unknown> = { topic: opts.topic, message: msg.message };
      if (msg.title !== undefined) body.title = msg.title;
      const prio = priorityToNumber(msg.priority);
      if (prio !== undefined) body.priority = prio;
      if (msg.tags && msg.tags.length) body.tags = msg.tags;
      if (msg.actions && msg.actions.length) body.actions = msg.actions;
      if (msg.click !== undefined) body.click = msg.click;

      const signal = AbortSignal.timeout(timeoutMs);
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...authHeaders(opts.token) },
        body: JSON.stringify(body),
        signal,
      });
      const text = await res.text(); // still bounded by `signal`
      if (!res.ok) {
        return { ok: false, status: res.status, error: redact(serverErrorText(res.status, text), opts.token) };
      }
      let id: string | undefined;
      try {
        const parsed = JSON.parse(text) as { id?: unknown };
        if (parsed && typeof parsed.id === 'string') id = parsed.id;
      } catch {
        /* a 2xx without JSON is still a success */
      }
      return id !== undefined ? { ok: true, status: res.status, id } : { ok: true, status: res.status };
    } catch (err) {
      return { ok: false, error: redact(describeError(err, timeoutMs), opts.token) };
    }
  }

  return { publish };
}

// ---------------------------------------------------------------------------
// Subscriber
// ---------------------------------------------------------------------------

/** Abort reason used by the subscriber's connect/idle watchdog. */
class WatchdogError extends Error {
  override name = 'WatchdogError';
}

interface WireEvent {
  id?: unknown;
  time?: unknown;
  event?: unknown;
  topic?: unknown;
  message?: unknown;
  title?: unknown;
}

export function subscribe(opts: SubscribeOptions): Subscription {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const connectTimeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const initialBackoff = Math.max(1, opts.backoff?.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS);
  const maxBackoff = Math.max(initialBackoff, opts.backoff?.maxMs ?? DEFAULT_BACKOFF_MAX_MS);

  let closed = false;
  let lastId: string | undefined;
  /** server time of the first `open` event; used as `since` if we reconnect before any message arrived. */
  let firstOpenTime: number | undefined;
  let backoff = initialBackoff;
  let controller: AbortController | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  let connected = false;
  const seen = new Set<string>();

  const emitState = (s: SubscribeState): void => {
    if (closed || !opts.onState) return;
    try {
      opts.onState(s);
    } catch {
      /* a throwing listener must not kill the loop */
    }
  };

  const clearWatchdog = (): void => {
    if (watchdog !== undefined) clearTimeout(watchdog);
    watchdog = undefined;
  };

  const armWatchdog = (ms: number, reason: string, ctl: AbortController): void => {
    clearWatchdog();
    watchdog = setTimeout(() => {
      watchdog = undefined;
      ctl.abort(new WatchdogError(reason));
    }, ms);
  };

  const sinceParam = (): string | undefined => {
    if (lastId !== undefined) return lastId;
    if (opts.since !== undefined && opts.since !== '') return opts.since;
    if (firstOpenTime !== undefined) return String(firstOpenTime);
    return undefined;
  };

  const remember = (id: string): void => {
    seen.add(id);
    if (seen.size > SEEN_IDS_LIMIT) {
      const oldest = seen.values().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
  };

  const handleLine = (line: string): void => {
    const trimmed = line.trim();
    if (!trimmed) return;
    let ev: WireEvent;
    try {
      ev = JSON.parse(trimmed) as WireEvent;
    } catch {
      return; // ignore garbage lines
    }
    if (!ev || typeof ev !== 'object') return;
    if (ev.event === 'open') {
      if (firstOpenTime === undefined && typeof ev.time === 'number') firstOpenTime = ev.time;
      backoff = initialBackoff;
      if (!connected) {
        connected = true;
        emitState({ connected: true });
      }
      return;
    }
    if (ev.event !== 'message') return; // keepalive, poll_request, ...
    if (typeof ev.id !== 'string') return;
    if (seen.has(ev.id)) return; // replay overlap (e.g. server lost its cache)
    remember(ev.id);
    lastId = ev.id;
    const m: ReceivedMessage = {
      id: ev.id,
      time: typeof ev.time === 'number' ? ev.time : Math.floor(Date.now() / 1000),
      topic: typeof ev.topic === 'string' ? ev.topic : opts.topic,
      message: typeof ev.message === 'string' ? ev.message : '',
    };
    if (typeof ev.title === 'string') m.title = ev.title;
    try {
      opts.onMessage(m);
    } catch {
      /* a throwing handler must not kill the stream */
    }
  };

  const scheduleReconnect = (error: string | undefined): void => {
    if (closed) return;
    const delay = backoff;
    backoff = Math.min(backoff * 2, maxBackoff);
    connected = false;
    emitState(error !== undefined ? { connected: false, error, retryInMs: delay } : { connected: false, retryInMs: delay });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const ctl = new AbortController();
    controller = ctl;
    const since = sinceParam();
    const url = `${baseUrl(opts.server)}/${encodeURIComponent(opts.topic)}/json${since !== undefined ? `?since=${encodeURIComponent(since)}` : ''}`;
    let error: string | undefined;
    armWatchdog(connectTimeoutMs, `no response within ${connectTimeoutMs} ms`, ctl);
    try {
      const res = await doFetch(url, { method: 'GET', headers: authHeaders(opts.token), signal: ctl.signal });
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        error = serverErrorText(res.status, text);
      } else {
        armWatchdog(idleTimeoutMs, `stream idle for ${idleTimeoutMs} ms`, ctl);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = '';
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            armWatchdog(idleTimeoutMs, `stream idle for ${idleTimeoutMs} ms`, ctl);
            buf += decoder.decode(value, { stream: true });
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              handleLine(line);
              if (closed) return;
            }
          }
          buf += decoder.decode();
          if (buf) handleLine(buf);
          error = 'stream ended';
        } finally {
          reader.cancel().catch(() => {});
        }
      }
    } catch (err) {
      const reason = ctl.signal.reason;
      error = reason instanceof WatchdogError ? reason.message : describeError(err);
    } finally {
      clearWatchdog();
      if (controller === ctl) controller = undefined;
    }
    if (closed) return;
    scheduleReconnect(redact(error ?? 'disconnected', opts.token));
  };

  void connect();

  return {
    close(): void {
      if (closed) return;
      closed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      clearWatchdog();
      controller?.abort();
      controller = undefined;
    },
    lastId(): string | undefined {
      return lastId;
    },
  };
}
