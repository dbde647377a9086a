import type Anthropic from '@anthropic-ai/sdk';
import { normaliseUsage, type Usage } from '../engine/prices.js';

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
}

export interface ChatResult {
  text: string;
  usage: Usage;
  stopReason: string | null;
  model: string;
  requestId: string | null;
}

export class ChatError extends Error {
  /** false: the request never reached the API (not billed); set by the adapter when it knows. */
  reachedApi?: boolean;
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly type?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface ChatCallOptions {
  onText?: (delta: string) => void;
  signal?: AbortSignal;
}

export interface ChatClient {
  complete(req: ChatRequest, opts?: ChatCallOptions): Promise<ChatResult>;
}

export interface AnthropicChatOptions {
  apiKey: string;
  baseURL?: string;
  maxRetries: number;
  timeoutMs: number;
}

/** System prompt and the chosen messages carry cache_control: a cached prefix that moves with the conversation. */
export function toApiBody(req: ChatRequest): Anthropic.MessageCreateParamsNonStreaming {
  const marked = new Set(req.cacheAt);
  return {
    model: req.model,
    max_tokens: req.max_tokens,
    system: [{ type: 'text', text: req.system, cache_control: { type: 'ephemeral' } }],
    messages: req.messages.map((m, i) =>
      marked.has(i)
        ? { role: m.role, content: [{ type: 'text' as const, text: m.content, cache_control: { type: 'ephemeral' as const } }] }
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

export function toChatError(err: unknown): ChatError {
  if (err instanceof ChatError) return err;
  if (sdk && err instanceof sdk.APIUserAbortError) return new ChatError('request aborted', false, undefined, 'aborted');
  if (sdk && err instanceof sdk.APIConnectionError) {
    return new ChatError(`connection error: ${err.message}`, true, undefined, 'connection_error');
  }
  if (sdk && err instanceof sdk.APIError) {
    const status = err.status;
    const type = err.type ?? (err.error as any)?.error?.type ?? undefined;
    const apiMessage = err.apiMessage ?? (err.error as any)?.error?.message ?? err.message;
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

export function createAnthropicChat(opts: AnthropicChatOptions): ChatClient {
  let client: Anthropic | undefined;
  return {
    async complete(req, callOpts = {}) {
      try {
        client ??= new (await loadSdk())({
          apiKey: opts.apiKey,
          baseURL: opts.baseURL,
          maxRetries: opts.maxRetries,
          timeout: opts.timeoutMs,
        });
        const stream = client.messages.stream(toApiBody(req), { signal: callOpts.signal });
        if (callOpts.onText) stream.on('text', (delta) => callOpts.onText!(delta));
        const msg = await stream.finalMessage();
        const text = msg.content
          .filter((b): b is Anthropic.TextBlock => b.type === 'text')
          .map((b) => b.text)
          .join('');
        return {
          text,
          usage: normaliseUsage(msg.usage as any),
          stopReason: msg.stop_reason ?? null,
          model: msg.model,
          requestId: (stream as any).request_id ?? null,
        };
      } catch (err) {
        throw toChatError(err);
      }
    },
  };
}
