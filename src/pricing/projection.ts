import type { Price } from './price-schema.js';
import { ratesFor } from './prices.js';

/**
 * The projected cost of the next call, made BEFORE it: what every money limit is
 * checked against. It must be an upper bound of what the call is then billed, or a
 * budget could be crossed by the very call it was meant to stop. Pure, so it is
 * tested directly against the fake API's billing (test/ledger-property.test.ts).
 *
 * How the API bills a turn (conversation.ts puts cache breakpoints on the previous
 * user message and the new one): the prefix up to the previous user message is read
 * from the cache if it is still there (5-minute TTL, and only past a model-dependent
 * minimum size), everything after it (the previous reply and the new message) is
 * written to the cache, and the reply is billed as output, at most max_tokens.
 *
 * The bound:
 *  - tokens not measured by the API are counted at one per 3 UTF-8 bytes (the API
 *    and the fake count about 4 characters a token for English text);
 *  - the cached prefix is priced at the cache-read rate only when it is certainly
 *    still cached: the last successful turn call STARTED less than the TTL ago
 *    (minus a margin), no summary replaced the prefix since, and the prefix is past
 *    the largest minimum cacheable size; otherwise every input token is priced at
 *    the dearer of the input and cache-write rates;
 *  - the reply is priced at max_tokens;
 *  - a model priced by prompt size (tiers) is priced at the tier of the projected
 *    prompt (history + new message), which is itself an upper bound, so the tier
 *    chosen is never cheaper than the one the API then bills;
 *  - when the turn must first summarize, the summary call (its reply at its own
 *    max_tokens) and the turn that follows it on a fresh, uncached prefix are both
 *    included: one guard check covers everything one turn may spend.
 */

export const CACHE_TTL_MS = 5 * 60_000;
/** The TTL counts from when the API processed the call; ours from when we started it, minus this. */
export const CACHE_MARGIN_MS = 30_000;
/** No model caches a prefix shorter than this (the fake: 1024; some models: 4096). */
export const MIN_CACHEABLE_TOKENS = 4096;
/**
 * Unmeasured text is counted at one token per this many UTF-8 bytes: English runs at
 * about 4 characters a token, code at about 3, and CJK text (3 bytes a character) at
 * about one character a token, so bytes / 3 stays above all of them.
 */
export const BYTES_PER_TOKEN = 3;

export const tokensFor = (bytes: number): number => Math.ceil(bytes / BYTES_PER_TOKEN);

export interface CallShape {
  /** Tokens before the new message (system prompt + messages so far). */
  historyTokens: number;
  /** Of those, the tokens after the last cache breakpoint that was written (the previous reply). */
  tailTokens: number;
  newTokens: number;
  maxOutputTokens: number;
  /** The prefix (historyTokens - tailTokens) is certainly in the cache. */
  warm: boolean;
  /** The request writes 1-hour cache entries (dearer than 5-minute ones). */
  cacheWrite1h?: boolean;
}

/** USD, an upper bound of what one call of this shape is billed. */
export function callCostBound(c: CallShape, price: Price): number {
  const p = ratesFor(price, c.historyTokens + c.newTokens).rates;
  const uncached = Math.max(p.input, p.cache_write, c.cacheWrite1h ? (p.cache_write_1h ?? p.input * 2) : 0);
  const cachedPrefix = c.warm ? Math.max(0, c.historyTokens - c.tailTokens) : 0;
  const written = c.historyTokens - cachedPrefix + c.newTokens;
  return (cachedPrefix * p.cache_read + written * uncached + c.maxOutputTokens * p.output) / 1_000_000;
}

export interface TurnProjectionInput {
  price: Price;
  maxTokens: number;
  /**
   * The conversation as the API last measured it: the last turn's prompt plus reply
   * tokens, and the reply's tokens. null when no turn was measured on the current
   * prefix (none yet, or none since a summary replaced the history).
   */
  measured: { historyTokens: number; replyTokens: number } | null;
  /** UTF-8 bytes of what the next request holds before the new message (system + messages); used only when nothing is measured. */
  historyBytes: number;
  /** UTF-8 bytes of the new user message, label included. */
  userBytes: number;
  /** When the last successful turn call started (ms), 0 if none since start or since a summary. */
  warmSince: number;
  now: number;
  /** The relay asks for 1-hour cache writes (cache.ttl 1h, or auto choosing it). */
  cacheWrite1h?: boolean;
  /** Present when this turn must summarize first. */
  summary?: {
    /** UTF-8 bytes of the summarization request's own user message. */
    promptBytes: number;
    maxTokens: number;
    /** UTF-8 bytes of what the history holds after the summary, its text aside: system prompt, the summary's wrapper, the kept turns. */
    afterBytes: number;
  };
}

export function projectTurnCost(i: TurnProjectionInput): number {
  const history = i.measured ? i.measured.historyTokens : tokensFor(i.historyBytes);
  const tail = i.measured ? Math.min(i.measured.replyTokens, history) : history;
  const warm =
    !!i.measured && i.warmSince > 0 && i.now - i.warmSince < CACHE_TTL_MS - CACHE_MARGIN_MS && history - tail >= MIN_CACHEABLE_TOKENS;
  const userTokens = tokensFor(i.userBytes);
  if (!i.summary) {
    return callCostBound(
      { historyTokens: history, tailTokens: tail, newTokens: userTokens, maxOutputTokens: i.maxTokens, warm, cacheWrite1h: i.cacheWrite1h },
      i.price,
    );
  }
  const s = i.summary;
  const summaryCall = callCostBound(
    {
      historyTokens: history,
      tailTokens: tail,
      newTokens: tokensFor(s.promptBytes),
      maxOutputTokens: s.maxTokens,
      warm,
      cacheWrite1h: i.cacheWrite1h,
    },
    i.price,
  );
  const after = tokensFor(s.afterBytes) + s.maxTokens;
  const turnCall = callCostBound(
    {
      historyTokens: after,
      tailTokens: after,
      newTokens: userTokens,
      maxOutputTokens: i.maxTokens,
      warm: false,
      cacheWrite1h: i.cacheWrite1h,
    },
    i.price,
  );
  return summaryCall + turnCall;
}
