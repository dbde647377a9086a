/**
 * The SDK retries a failed request itself (max_retries) before the relay's own retries
 * see anything: without this, status.json says `running` with no retry shown while the
 * API answers 529 for several seconds. The SDK's client takes a `fetch`; this one
 * passes every request through and, when a response (or a connection failure) is one
 * the SDK will retry, reports it the moment it is known, with the wait the SDK will
 * take (retry-after, or its own backoff). The relay makes one call at a time, so the
 * call being made is the one a retry belongs to.
 */

export interface SdkRetry {
  /** 1-based: the SDK's first retry is attempt 1. */
  attempt: number;
  /** The SDK's max_retries. */
  of: number;
  message: string;
  /** The SDK's wait before it sends again (its own backoff is an estimate: it adds jitter). */
  delayMs: number;
}

type Fetch = typeof fetch;

export interface SdkRetryWatch {
  fetch: Fetch;
  /** The call about to be made: its retries go to onRetry until the returned function ends it. */
  begin(onRetry: ((r: SdkRetry) => void) | undefined): () => void;
}

/** The SDK's rule (client.js shouldRetry), for a response it got. */
function sdkRetries(res: Response): boolean {
  const header = res.headers.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return res.status === 408 || res.status === 409 || res.status === 429 || res.status >= 500;
}

function waitMs(headers: Headers | null, retriesSoFar: number): number {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const after = headers?.get('retry-after');
  if (after != null && Number.isFinite(Number(after)) && Number(after) > 0) return Number(after) * 1000;
  return Math.min(500 * 2 ** retriesSoFar, 8000);
}

/** "529 overloaded_error: Overloaded", as toChatError words the same failure. */
async function describe(res: Response): Promise<string> {
  try {
    const body = JSON.parse((await res.clone().text()).slice(0, 64 * 1024)) as { error?: { type?: string; message?: string } };
    if (body.error?.message) return `${res.status} ${body.error.type ?? 'error'}: ${body.error.message}`;
  } catch {
    /* not JSON: the status line says enough */
  }
  return `${res.status} ${res.statusText || 'error'}`;
}

export function watchSdkRetries(maxRetries: number, base: Fetch = fetch): SdkRetryWatch {
  let current: { sent: number; onRetry: ((r: SdkRetry) => void) | undefined } | null = null;
  const report = (c: NonNullable<typeof current>, message: string, delayMs: number) => {
    try {
      c.onRetry?.({ attempt: c.sent, of: maxRetries, message, delayMs });
    } catch {
      /* a view's problem must not fail the request */
    }
  };
  const watched: Fetch = async (input, init) => {
    const c = current;
    if (c) c.sent++;
    const willRetry = () => !!c && c.sent <= maxRetries && !init?.signal?.aborted;
    let res: Response;
    try {
      res = await base(input, init);
    } catch (err) {
      if (c && willRetry()) report(c, `cannot reach the API: ${(err as Error)?.message ?? err}`, waitMs(null, c.sent - 1));
      throw err;
    }
    if (c && !res.ok && willRetry() && sdkRetries(res)) report(c, await describe(res), waitMs(res.headers, c.sent - 1));
    return res;
  };
  return {
    fetch: watched,
    begin(onRetry) {
      const mine = { sent: 0, onRetry };
      current = mine;
      return () => {
        if (current === mine) current = null;
      };
    },
  };
}
