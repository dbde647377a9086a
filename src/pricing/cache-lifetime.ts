import type { Price } from './price-schema.js';
import { TTL_MS, type CacheTtl } from './cache-rules.js';

/**
 * The cache lifetime of each call, chosen by expected cost.
 *
 * Keeping a prefix of X tokens in the cache with lifetime L costs, per call, X·r when
 * the next call comes within L (it is read) and X·w_L when it does not (it is written
 * again), plus w_L for the Δ tokens each turn adds. So lifetime L costs
 *     X·(p_L·r + (1 − p_L)·w_L) + Δ·w_L,
 * with p_L the chance that the next gap between calls is shorter than L, estimated
 * from the recent gaps. The relay takes the cheaper of 5 m and 1 h. Written out, 1 h
 * wins when
 *     (w_5m − r)·P(5 min ≤ gap < 1 h)  >  (w_1h − w_5m)·(P(gap ≥ 1 h) + Δ/X),
 * i.e. with the usual multipliers (1.25, 2 and 0.1 × input) when the share of gaps
 * between five minutes and an hour exceeds 0.65 × (the share past an hour + Δ/X).
 */

export type CacheTtlSetting = 'auto' | CacheTtl;

export interface GapShares {
  /** Shares of gaps under 5 minutes, from 5 minutes to an hour, and past an hour (they sum to 1). */
  short: number;
  mid: number;
  long: number;
  /** The weight of evidence behind them (decayed gap count, prior excluded). */
  weight: number;
}

export interface TtlDecision {
  ttl: CacheTtl;
  reason: 'config' | 'below-minimum' | 'expected-cost';
  /** Expected cost per call, in input-token units × USD per million (comparable, not a bill). */
  cost5m: number;
  cost1h: number;
  shares: GapShares;
}

/** Newer gaps weigh more: the weight halves every HALF_LIFE gaps, so a change of traffic is followed within a few dozen calls. */
export const HALF_LIFE_GAPS = 24;
/** Gaps kept (older ones weigh under 2% and are dropped). */
export const MAX_GAPS = 96;
/**
 * Pseudo-gaps per class before any evidence (Jeffreys' prior): with no history every
 * class is as likely, and a class never seen in n gaps keeps about 1/(2n) of the odds.
 */
const PRIOR = 0.5;

/** The recent gaps (ms, oldest first) as decayed, smoothed shares of the three classes the lifetimes care about. */
export function gapShares(gapsMs: readonly number[]): GapShares {
  let short = 0;
  let mid = 0;
  let long = 0;
  const n = gapsMs.length;
  for (let k = 0; k < n; k++) {
    const g = gapsMs[k];
    const w = Math.pow(0.5, (n - 1 - k) / HALF_LIFE_GAPS);
    if (g < TTL_MS['5m']) short += w;
    else if (g < TTL_MS['1h']) mid += w;
    else long += w;
  }
  const weight = short + mid + long;
  const total = weight + 3 * PRIOR;
  return { short: (short + PRIOR) / total, mid: (mid + PRIOR) / total, long: (long + PRIOR) / total, weight };
}

export function writePrice(price: Price, ttl: CacheTtl): number {
  return ttl === '1h' ? (price.cache_write_1h ?? price.input * 2) : price.cache_write;
}

export interface TtlInput {
  /** Recent gaps between calls, ms, oldest first; the gap that ends with this call included. */
  gapsMs: readonly number[];
  /** Tokens this call leaves in the cache for the next one (through its last breakpoint). */
  prefixTokens: number;
  /** Tokens this call adds to what the previous call cached (written even on a hit). */
  addedTokens: number;
  price: Price;
  setting: CacheTtlSetting;
  /** The model's minimum cacheable prefix. */
  minTokens: number;
}

/** The lifetime for this call's breakpoints. Pure: the same history, sizes, prices and setting give the same answer. */
export function chooseTtl(i: TtlInput): TtlDecision {
  const shares = gapShares(i.gapsMs);
  const X = Math.max(0, i.prefixTokens);
  const D = Math.max(0, Math.min(i.addedTokens, X));
  const r = i.price.cache_read;
  const cost = (ttl: CacheTtl) => {
    const p = ttl === '1h' ? shares.short + shares.mid : shares.short;
    const w = writePrice(i.price, ttl);
    return X * (p * r + (1 - p) * w) + D * w;
  };
  const cost5m = cost('5m');
  const cost1h = cost('1h');
  if (i.setting !== 'auto') return { ttl: i.setting, reason: 'config', cost5m, cost1h, shares };
  // Nothing is cached either way; the default lifetime keeps the request as it always was.
  if (X < i.minTokens) return { ttl: '5m', reason: 'below-minimum', cost5m, cost1h, shares };
  return { ttl: cost1h < cost5m ? '1h' : '5m', reason: 'expected-cost', cost5m, cost1h, shares };
}

export interface TtlChooserOptions {
  setting: () => CacheTtlSetting;
  price: () => Price;
}

/**
 * The small stateful part: the start times of recent calls. The engine asks it before
 * each turn's call (choose) and tells it when a turn's call was made (record); seed()
 * restores the history from the conversation's turn times after a restart.
 */
export class TtlChooser {
  private times: number[] = [];
  private lastTtl: CacheTtl | undefined;

  constructor(private readonly o: TtlChooserOptions) {}

  /** Call times (ms) of past turns, any order; keeps the most recent. */
  seed(times: readonly number[]): void {
    const ok = times.filter((t) => Number.isFinite(t)).sort((a, b) => a - b);
    this.times = [...this.times, ...ok].sort((a, b) => a - b).slice(-(MAX_GAPS + 1));
  }

  /** The gaps between recorded calls, and the one from the last of them to `now`. */
  gaps(now: number): number[] {
    const t = this.times;
    const out: number[] = [];
    for (let k = 1; k < t.length; k++) out.push(t[k] - t[k - 1]);
    if (t.length && now >= t[t.length - 1]) out.push(now - t[t.length - 1]);
    return out.slice(-MAX_GAPS);
  }

  choose(now: number, prefixTokens: number, addedTokens: number, minTokens: number): TtlDecision {
    return chooseTtl({ gapsMs: this.gaps(now), prefixTokens, addedTokens, price: this.o.price(), setting: this.o.setting(), minTokens });
  }

  /** After a turn's call: `at` is when it started (the API's TTL counts from about then). */
  record(at: number, ttl: CacheTtl): void {
    this.times.push(at);
    if (this.times.length > MAX_GAPS + 1) this.times.splice(0, this.times.length - (MAX_GAPS + 1));
    this.lastTtl = ttl;
  }

  /** The lifetime of the last recorded call (for a call that only reads, like a summary). */
  get last(): CacheTtl {
    return this.lastTtl ?? '5m';
  }
}
