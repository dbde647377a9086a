import { asChatFailure, type ChatClient, type ChatFailure, type ChatRequest, type ChatResult } from '../kernel/ports.js';

/**
 * One Messages API call with the relay's outer retries. The SDK already retried
 * (max_retries) with short backoff; this loop adds longer waits so a bad minute at
 * the API does not need the operator, and reports each wait so the UI can show it.
 */

export interface RetryInfo {
  attempt: number;
  of: number;
  message: string;
  delayMs: number;
}

export interface CallOptions {
  outerRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal: AbortSignal;
  onText: (delta: string) => void;
  onAttempt: (attempt: number) => void;
  onRetry: (info: RetryInfo) => void;
  /** The SDK retries inside one attempt (max_retries): shown like the relay's own. */
  onSdkRetry?: (info: RetryInfo) => void;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * aborted + inFlight: stopped while a request was out (it may have been billed);
 * aborted without inFlight: stopped during a backoff wait (nothing outstanding).
 */
export type CallOutcome = { ok: true; result: ChatResult } | { ok: false; error: ChatFailure; aborted: boolean; inFlight: boolean };

export function backoffDelay(
  attempt: number,
  base: number,
  max: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(max, base * 2 ** attempt);
  // Jitter spreads retries from several relays hitting the same overloaded API.
  const jittered = exp * (0.8 + random() * 0.4);
  return Math.round(Math.max(retryAfterMs ?? 0, jittered));
}

export async function callWithRetries(chat: ChatClient, req: ChatRequest, o: CallOptions): Promise<CallOutcome> {
  for (let attempt = 0; ; attempt++) {
    o.onAttempt(attempt);
    try {
      const result = await chat.complete(req, { onText: o.onText, signal: o.signal, onRetry: o.onSdkRetry });
      return { ok: true, result };
    } catch (raw) {
      const error = asChatFailure(raw);
      if (o.signal.aborted) return { ok: false, error, aborted: true, inFlight: error.reachedApi !== false };
      if (!error.retryable || attempt >= o.outerRetries) return { ok: false, error, aborted: false, inFlight: false };
      const delayMs = backoffDelay(attempt, o.baseDelayMs, o.maxDelayMs, error.retryAfterMs, o.random);
      o.onRetry({ attempt: attempt + 1, of: o.outerRetries, message: error.message, delayMs });
      await o.sleep(delayMs, o.signal);
      if (o.signal.aborted) return { ok: false, error, aborted: true, inFlight: false };
    }
  }
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
