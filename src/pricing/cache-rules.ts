import type { Usage } from './prices.js';
import { groupDigits } from '../text.js';

/**
 * The Messages API's prompt-caching rules, as the relay needs them to place cache
 * breakpoints only where they can take effect:
 *  - a prefix shorter than the model's minimum is silently not cached (no error,
 *    nothing written, nothing read);
 *  - at most 4 blocks may carry cache_control;
 *  - a breakpoint finds an earlier cache entry only within about 20 blocks before it;
 *  - within one request a 1-hour breakpoint must not come after a 5-minute one.
 * Figures from Anthropic's prompt-caching documentation and model pages (2026).
 */

export type CacheTtl = '5m' | '1h';

export const MAX_BREAKPOINTS = 4;
/** How many block boundaries before a breakpoint the API checks for an earlier entry. */
export const LOOKBACK_BLOCKS = 20;
export const TTL_MS: Record<CacheTtl, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 };

/**
 * Minimum cacheable prompt length in tokens, by model-id prefix (the longest match
 * wins, as for prices). Opus 4.8 lowered Opus's minimum to 1,024; Opus 4.5-4.7 and
 * Haiku 4.5 need 4,096.
 */
const MINIMUMS: Record<string, number> = {
  'claude-opus-5': 512,
  'claude-fable-5': 512,
  'claude-mythos-5': 512,
  'claude-sonnet-5': 1024,
  'claude-opus-4-8': 1024,
  'claude-opus-4-7': 4096,
  'claude-opus-4-6': 4096,
  'claude-opus-4-5': 4096,
  'claude-opus-4-1': 1024,
  'claude-opus-4-0': 1024,
  'claude-sonnet-4-6': 1024,
  'claude-sonnet-4-5': 1024,
  'claude-sonnet-4-0': 1024,
  'claude-3-7-sonnet': 1024,
  'claude-haiku-4-5': 4096,
  'claude-3-5-haiku': 2048,
  'claude-3-haiku': 2048,
};
/** An unknown model is assumed to need the largest minimum, so nothing is promised that may not happen. */
export const LARGEST_MINIMUM = Math.max(...Object.values(MINIMUMS));

export function minCacheableTokens(model: string): number {
  if (MINIMUMS[model] !== undefined) return MINIMUMS[model];
  const key = Object.keys(MINIMUMS)
    .filter((k) => model.startsWith(k))
    .sort((a, b) => b.length - a.length)[0];
  return key ? MINIMUMS[key] : LARGEST_MINIMUM;
}

export interface Breakpoint {
  /** Index into the blocks (0 is the system prompt when there is one). */
  block: number;
  ttl: CacheTtl;
}

export interface LayoutInput {
  /** Estimated tokens of each block, in prompt order (system first). */
  blockTokens: number[];
  /** The model's minimum cacheable prefix. */
  minTokens: number;
  ttl: CacheTtl;
  /** Blocks before this index are the system prompt (0 or 1). */
  systemBlocks: number;
  /** The last block the previous call wrote to the cache, when that prefix is still part of this prompt. */
  cachedThrough?: number;
  /** Mark the end of the prompt for the next call to read (false for a call whose prompt is never reused). */
  writeEnd: boolean;
}

export interface Layout {
  breakpoints: Breakpoint[];
  /** Tokens up to and including the last block (the whole prompt). */
  promptTokens: number;
  /** Tokens up to the last breakpoint: what the next call can read. */
  cachedTokens: number;
  /** Tokens after the previous call's cached prefix: what this call writes when that prefix is warm. */
  addedTokens: number;
  /** The prompt is under the model's minimum: no breakpoint can take effect. */
  belowMinimum: boolean;
}

/**
 * Where the breakpoints go. The end of the prompt is written for the next call; the
 * previous call's prefix is read through the end breakpoint's lookback, or through a
 * breakpoint of its own when this prompt adds LOOKBACK_BLOCKS blocks or more after it;
 * the system prompt gets one (it survives a summary, which replaces everything after
 * it). A breakpoint whose prefix is under the minimum is not placed: it could not
 * take effect and would only use up one of the four.
 */
export function planLayout(i: LayoutInput): Layout {
  const cum: number[] = [];
  let total = 0;
  for (const t of i.blockTokens) cum.push((total += t));
  const last = cum.length - 1;
  const fits = (b: number) => b >= 0 && b <= last && cum[b] >= i.minTokens;
  const chosen = new Set<number>();
  if (i.writeEnd && fits(last)) chosen.add(last);
  const reached = (p: number) => [...chosen].some((b) => b >= p && b - p < LOOKBACK_BLOCKS);
  if (i.cachedThrough !== undefined && fits(i.cachedThrough) && !reached(i.cachedThrough)) chosen.add(i.cachedThrough);
  if (i.systemBlocks > 0 && fits(i.systemBlocks - 1) && chosen.size < MAX_BREAKPOINTS) chosen.add(i.systemBlocks - 1);
  const blocks = [...chosen].sort((a, b) => a - b);
  const through = i.cachedThrough !== undefined && i.cachedThrough <= last ? cum[i.cachedThrough] : 0;
  return {
    breakpoints: blocks.map((block) => ({ block, ttl: i.ttl })),
    promptTokens: total,
    cachedTokens: blocks.length ? cum[blocks[blocks.length - 1]] : 0,
    addedTokens: total - through,
    belowMinimum: total < i.minTokens,
  };
}

/** null when the breakpoints obey the API's rules, else what is wrong (the API answers 400). */
export function layoutError(breakpoints: Breakpoint[]): string | null {
  if (breakpoints.length > MAX_BREAKPOINTS) return `${breakpoints.length} breakpoints (at most ${MAX_BREAKPOINTS})`;
  const sorted = [...breakpoints].sort((a, b) => a.block - b.block);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k].ttl === '1h' && sorted[k - 1].ttl === '5m')
      return `a 1h breakpoint (block ${sorted[k].block}) follows a 5m one (block ${sorted[k - 1].block})`;
  }
  return null;
}

export type CacheOutcome =
  | { kind: 'hit'; readTokens: number; writtenTokens: number }
  | { kind: 'miss'; writtenTokens: number }
  | { kind: 'below-minimum'; promptTokens: number; minimum: number }
  | { kind: 'uncached'; promptTokens: number };

/**
 * What one call's usage says about the cache, so the TUI can tell "cache not possible
 * yet" (the prompt is under the model's minimum, which the API does not report)
 * from a real miss (the prefix was written, not read: it expired or changed).
 */
export function cacheOutcome(model: string, usage: Usage): CacheOutcome {
  const prompt = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens;
  if (usage.cache_read_input_tokens > 0)
    return { kind: 'hit', readTokens: usage.cache_read_input_tokens, writtenTokens: usage.cache_creation_input_tokens };
  if (usage.cache_creation_input_tokens > 0) return { kind: 'miss', writtenTokens: usage.cache_creation_input_tokens };
  const minimum = minCacheableTokens(model);
  if (prompt < minimum) return { kind: 'below-minimum', promptTokens: prompt, minimum };
  return { kind: 'uncached', promptTokens: prompt };
}

/** One line for the UI, e.g. "cache not possible yet (prompt 1,200 tokens, under the model's 4,096-token minimum)". */
export function describeCacheOutcome(o: CacheOutcome): string {
  const n = groupDigits;
  switch (o.kind) {
    case 'hit':
      return `cache hit: ${n(o.readTokens)} tokens read, ${n(o.writtenTokens)} written`;
    case 'miss':
      return `cache miss: ${n(o.writtenTokens)} tokens written (expired or changed prefix)`;
    case 'below-minimum':
      return `cache not possible yet (prompt ${n(o.promptTokens)} tokens, under the model's ${n(o.minimum)}-token minimum)`;
    case 'uncached':
      return `not cached (${n(o.promptTokens)} tokens, no breakpoint)`;
  }
}
