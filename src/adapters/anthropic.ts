import type Anthropic from '@anthropic-ai/sdk';
import { normaliseUsage, type Usage } from '../pricing/prices.js';
import { watchSdkRetries, type SdkRetry } from './sdk-retries.js';
import { routeSdkNotices } from './sdk-warnings.js';

/**
 * The relay's only door to the Messages API. The engine speaks ChatRequest/ChatResult
 * and ChatError; tests and the demo point the real SDK at a local fake through
 * baseURL, so streaming, retries and error bodies are exercised for real.
 */

type Sdk = typeof import('@anthropic-ai/sdk').default;

/**
 * Importing the SDK takes longer than the rest of start-up together (see
 * BENCHMARKS.md), so it is loaded by the first call, not at start. Until then no
 * error can be one of its classes, which is all toChatError needs to know.
 */
let sdk: Sdk | undefined;
let sdkLoading: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  sdkLoading ??= import('@anthropic-ai/sdk').then((m) => (sdk = m.default));
  return sdkLoading;
}

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  max_tokens: number;
  system: string;
  messages: ChatMessage[];
  /** Indexes into messages whose content gets a cache breakpoint. */
  cacheAt: number[];
  /** The system prompt gets a breakpoint too (default true; false when it is under the model's minimum). */
  cacheSystem?: boolean;
  /** The breakpoints' lifetime (default 5m, sent without a ttl). */
  cacheTtl?: '5m' | '1h';
}

export interface ChatResult {
  text: string;
  usage: Usage;
  /** The API's stop_reason: 'max_tokens' means the reply was cut (the engine marks it truncated). */
  stopReason: string | null;
  model: string;
  requestId: string | null;
  /** Billed to an account that does not pay per token (the claude-code backend on a subscription): the cost is notional. */
  notional?: boolean;
}

export class ChatError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly type?: string,
    readonly retryAfterMs?: number,
    /**
     * False only when the request certainly never reached the API (connection refused,
     * DNS, TLS handshake, aborted before it was sent): nothing can have been billed, so
     * the ledger may release the turn's reservation. True when in doubt.
     */
    readonly reachedApi: boolean = true,
  ) {
    super(message);
  }
}

export interface ChatCallOptions {
  onText?: (delta: string) => void;
  signal?: AbortSignal;
  /** The SDK is about to retry this call itself (sdk-retries.ts). */
  onRetry?: (r: SdkRetry) => void;
}

export interface ChatClient {
  complete(req: ChatRequest, opts?: ChatCallOptions): Promise<ChatResult>;
}

export interface AnthropicChatOptions {
  apiKey: string;
  baseURL?: string;
  maxRetries: number;
  /** The whole call, streaming included (the SDK's own timeout covers only the wait for headers). */
  timeoutMs: number;
  /** No byte of the stream for this long: abort, and fail as a retryable connection error. Default 60 s. */
  idleTimeoutMs?: number;
  /** Where the SDK's own notices go (once each), e.g. that the model is deprecated: the relay's log. */
  onNotice?: (text: string) => void;
}

const secs = (ms: number) => +(ms / 1000).toFixed(1);

export const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const DEFAULT_IDLE_MS = 60_000;

/** System prompt and the chosen messages carry cache_control: a cached prefix that moves with the conversation. */
export function toApiBody(req: ChatRequest): Anthropic.MessageCreateParamsNonStreaming {
  const marked = new Set(req.cacheAt);
  const cc = req.cacheTtl === '1h' ? { type: 'ephemeral' as const, ttl: '1h' as const } : { type: 'ephemeral' as const };
  return {
    model: req.model,
    max_tokens: req.max_tokens,
    system: [{ type: 'text', text: req.system, ...(req.cacheSystem === false ? {} : { cache_control: cc }) }],
    messages: req.messages.map((m, i) =>
      marked.has(i)
        ? { role: m.role, content: [{ type: 'text' as const, text: m.content, cache_control: cc }] }
        : { role: m.role, content: m.content },
    ),
  };
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const s = Number(headers?.get('retry-after'));
  if (Number.isFinite(s) && s >= 0 && headers?.get('retry-after') != null) return s * 1000;
  return undefined;
}

interface Cause {
  code?: string;
  message: string;
}

function causes(err: unknown): Cause[] {
  const out: Cause[] = [];
  type Chained = { code?: unknown; message?: unknown; cause?: unknown };
  for (let e = err as Chained | undefined, n = 0; e && n < 8; e = e.cause as Chained | undefined, n++) {
    out.push({ code: typeof e.code === 'string' ? e.code : undefined, message: String(e.message ?? e) });
  }
  return out;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$|HOSTNAME_MISMATCH|ERR_OSSL)/;

/**
 * What a failure below HTTP was, read from the error's cause chain (undici puts the
 * socket's errno there): a name a human knows, whether the request can have reached
 * the API, and whether trying again makes sense.
 */
function transportCause(err: unknown): { what: string; reachedApi: boolean; retryable: boolean } | undefined {
  for (const c of causes(err)) {
    const code = c.code ?? '';
    if (code === 'ECONNREFUSED') return { what: 'connection refused (ECONNREFUSED)', reachedApi: false, retryable: true };
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL')
      return { what: `DNS lookup failed (${code})`, reachedApi: false, retryable: true };
    if (TLS_CODE.test(code)) return { what: `TLS failed before the request was sent (${code})`, reachedApi: false, retryable: false };
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT')
      return { what: `connect timeout (${code})`, reachedApi: false, retryable: true };
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENETDOWN')
      return { what: `network unreachable (${code})`, reachedApi: false, retryable: true };
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
      return { what: `connection reset (${code}: ${c.message})`, reachedApi: true, retryable: true };
    }
    if (/^bad port$/i.test(c.message)) return { what: 'bad port in the base URL', reachedApi: false, retryable: false };
  }
  // undici's body reader fails with a bare "terminated" when the socket closes mid-body.
  if (causes(err).some((c) => /^terminated$/.test(c.message)))
    return { what: 'connection closed in the middle of the reply', reachedApi: true, retryable: true };
  return undefined;
}

export function toChatError(err: unknown, baseURL: string = DEFAULT_BASE_URL): ChatError {
  if (err instanceof ChatError) return err;
  if (sdk && err instanceof sdk.APIUserAbortError) return new ChatError('request aborted', false, undefined, 'aborted');
  if (sdk && err instanceof sdk.APIConnectionTimeoutError) {
    return new ChatError(`no response from ${baseURL}: timeout waiting for the response headers`, true, undefined, 'timeout');
  }
  const transport = transportCause(err);
  if (transport && !(sdk && err instanceof sdk.APIError && err.status !== undefined)) {
    return new ChatError(
      `cannot reach the API at ${baseURL}: ${transport.what}`,
      transport.retryable,
      undefined,
      'connection_error',
      undefined,
      transport.reachedApi,
    );
  }
  if (sdk && err instanceof sdk.APIConnectionError) {
    const detail = causes(err)
      .slice(1)
      .map((c) => c.message)
      .filter((m) => m && !/^fetch failed$/.test(m))
      .join(': ');
    return new ChatError(`cannot reach the API at ${baseURL}: ${detail || err.message}`, true, undefined, 'connection_error');
  }
  if (sdk && err instanceof sdk.APIError) {
    const status = err.status;
    // The API's error body: {"type":"error","error":{"type":...,"message":...}}.
    const body = (err.error as { error?: { type?: string; message?: string } } | undefined)?.error;
    const type = err.type ?? body?.type ?? undefined;
    const apiMessage = err.apiMessage ?? body?.message ?? err.message;
    // An error event inside a 200 stream has no status; overloaded/api errors there are transient.
    const retryable =
      status === undefined
        ? type === 'overloaded_error' || type === 'api_error' || type === 'rate_limit_error'
        : status === 408 || status === 409 || status === 429 || status >= 500;
    const label = status ? `${status} ${type ?? 'error'}` : (type ?? 'error');
    return new ChatError(`${label}: ${apiMessage}`, retryable, status, type ?? undefined, retryAfterMs(err.headers as Headers | undefined));
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ChatError(message, false);
}

/**
 * The SDK's `timeout` bounds the wait for response headers, not a stream that stalls
 * after them; so each call gets its own controller with two timers: a whole-call
 * deadline (timeoutMs) and an idle timer (no stream event for idleTimeoutMs) reset by
 * every event, ping included. Either aborts the request and fails it as a retryable
 * error that says which timer fired.
 */
export function createAnthropicChat(opts: AnthropicChatOptions): ChatClient {
  let client: Anthropic | undefined;
  const base = (opts.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  routeSdkNotices(opts.onNotice);
  const retries = watchSdkRetries(opts.maxRetries);
  return {
    async complete(req, callOpts = {}) {
      const ac = new AbortController();
      let fired: 'deadline' | 'idle' | undefined;
      let deadline: NodeJS.Timeout | undefined;
      let idle: NodeJS.Timeout | undefined;
      const outer = callOpts.signal;
      const endRetries = retries.begin(callOpts.onRetry);
      const onOuter = () => ac.abort();
      const bump = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          fired = 'idle';
          ac.abort();
        }, idleMs);
      };
      try {
        client ??= new (await loadSdk())({
          apiKey: opts.apiKey,
          baseURL: opts.baseURL,
          maxRetries: opts.maxRetries,
          timeout: opts.timeoutMs,
          fetch: retries.fetch,
        });
        if (outer?.aborted) throw new ChatError('request aborted before it was sent', false, undefined, 'aborted', undefined, false);
        outer?.addEventListener('abort', onOuter, { once: true });
        deadline = setTimeout(() => {
          fired = 'deadline';
          ac.abort();
        }, opts.timeoutMs);
        bump();
        const stream = client.messages.stream(toApiBody(req), { signal: ac.signal });
        stream.on('connect', bump);
        stream.on('streamEvent', bump);
        if (callOpts.onText) stream.on('text', (delta) => callOpts.onText!(delta));
        const msg = await stream.finalMessage();
        const text = msg.content
          .filter((b): b is Anthropic.TextBlock => b.type === 'text')
          .map((b) => b.text)
          .join('');
        return {
          text,
          // No split in the usage: the writes are priced at the lifetime this request asked for.
          usage: normaliseUsage(msg.usage as Parameters<typeof normaliseUsage>[0], req.cacheTtl ?? '5m'),
          stopReason: msg.stop_reason ?? null,
          model: msg.model,
          requestId: (stream as { request_id?: string | null }).request_id ?? null,
        };
      } catch (err) {
        if (fired === 'idle') {
          throw new ChatError(
            `stream from ${base} idle: no byte for ${secs(idleMs)} s (api.idle_timeout_s); aborted`,
            true,
            undefined,
            'connection_error',
          );
        }
        if (fired === 'deadline') {
          throw new ChatError(
            `call to ${base} took longer than ${secs(opts.timeoutMs)} s (api.timeout_s); aborted`,
            true,
            undefined,
            'timeout',
          );
        }
        throw toChatError(err, base);
      } finally {
        endRetries();
        clearTimeout(deadline);
        clearTimeout(idle);
        outer?.removeEventListener('abort', onOuter);
      }
    },
  };
}
