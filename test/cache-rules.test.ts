import { describe, expect, it } from 'vitest';
import {
  cacheOutcome,
  describeCacheOutcome,
  LARGEST_MINIMUM,
  layoutError,
  LOOKBACK_BLOCKS,
  MAX_BREAKPOINTS,
  minCacheableTokens,
  planLayout,
  type LayoutInput,
} from '../src/pricing/cache-rules.js';

const usage = (input: number, write: number, read: number) => ({
  input_tokens: input,
  output_tokens: 10,
  cache_creation_input_tokens: write,
  cache_read_input_tokens: read,
});

describe('minimum cacheable prompt length per model', () => {
  it.each([
    ['claude-opus-4-8', 1024],
    ['claude-opus-4-7', 4096],
    ['claude-opus-4-6', 4096],
    ['claude-opus-4-5-20251101', 4096],
    ['claude-opus-4-1', 1024],
    ['claude-sonnet-4-6', 1024],
    ['claude-sonnet-4-5-20250929', 1024],
    ['claude-haiku-4-5', 4096],
    ['claude-3-5-haiku-20241022', 2048],
    ['claude-opus-5', 512],
  ])('%s: %i tokens', (model, n) => expect(minCacheableTokens(model)).toBe(n));

  it('an unknown model is assumed to need the largest minimum (nothing promised that may not happen)', () => {
    expect(minCacheableTokens('my-proxy-model')).toBe(LARGEST_MINIMUM);
    expect(LARGEST_MINIMUM).toBe(4096);
  });
});

describe('planLayout: one rule each', () => {
  // System prompt of 5,000 tokens, then messages of 500 each.
  const base = (over: Partial<LayoutInput> = {}): LayoutInput => ({
    blockTokens: [5000, ...Array.from({ length: 9 }, () => 500)],
    minTokens: 1024,
    ttl: '5m',
    systemBlocks: 1,
    cachedThrough: 7,
    writeEnd: true,
    ...over,
  });

  it('the end of the prompt is written; the previous prefix is read through its lookback; the system prompt is marked', () => {
    const l = planLayout(base());
    expect(l.breakpoints.map((b) => b.block)).toEqual([0, 9]);
    expect(l.promptTokens).toBe(9500);
    expect(l.cachedTokens).toBe(9500);
    expect(l.addedTokens).toBe(1000); // blocks 8 and 9
    expect(l.belowMinimum).toBe(false);
  });

  it('a turn that adds LOOKBACK_BLOCKS blocks or more gets a second breakpoint on the previous prefix', () => {
    const blocks = [5000, ...Array.from({ length: 5 + LOOKBACK_BLOCKS }, () => 100)];
    const last = blocks.length - 1;
    const near = planLayout(base({ blockTokens: blocks, cachedThrough: last - (LOOKBACK_BLOCKS - 1) }));
    expect(near.breakpoints.map((b) => b.block)).toEqual([0, last]);
    const far = planLayout(base({ blockTokens: blocks, cachedThrough: last - LOOKBACK_BLOCKS }));
    expect(far.breakpoints.map((b) => b.block)).toEqual([0, last - LOOKBACK_BLOCKS, last]);
  });

  it('never more than four breakpoints, and one lifetime for all of them (a longer one never follows a shorter)', () => {
    for (const ttl of ['5m', '1h'] as const) {
      for (let blocks = 2; blocks < 70; blocks += 7) {
        for (let through = 0; through < blocks; through += 3) {
          const l = planLayout(
            base({ ttl, blockTokens: [2000, ...Array.from({ length: blocks - 1 }, () => 300)], cachedThrough: through }),
          );
          expect(l.breakpoints.length).toBeLessThanOrEqual(MAX_BREAKPOINTS);
          expect(layoutError(l.breakpoints)).toBeNull();
          expect(new Set(l.breakpoints.map((b) => b.ttl))).toEqual(new Set([ttl]));
        }
      }
    }
    expect(
      layoutError([
        { block: 0, ttl: '5m' },
        { block: 3, ttl: '1h' },
      ]),
    ).toMatch(/1h breakpoint \(block 3\) follows a 5m one/);
    expect(
      layoutError([
        { block: 0, ttl: '1h' },
        { block: 3, ttl: '5m' },
      ]),
    ).toBeNull();
    expect(layoutError([0, 1, 2, 3, 4].map((block) => ({ block, ttl: '5m' as const })))).toMatch(/at most 4/);
  });

  it('no breakpoint where the prefix is under the minimum', () => {
    const small = planLayout(base({ blockTokens: [300, 200, 200], cachedThrough: 1, minTokens: 1024 }));
    expect(small.breakpoints).toEqual([]);
    expect(small.belowMinimum).toBe(true);
    // A short system prompt is skipped, the conversation that passes the minimum is marked.
    const grown = planLayout(base({ blockTokens: [300, 400, 400], cachedThrough: undefined, minTokens: 1024 }));
    expect(grown.breakpoints.map((b) => b.block)).toEqual([2]);
    expect(grown.belowMinimum).toBe(false);
    // The previous prefix under the minimum: nothing there to read, so no second breakpoint for it.
    const blocks = [300, ...Array.from({ length: 30 }, () => 100)];
    const l = planLayout(base({ blockTokens: blocks, cachedThrough: 2, minTokens: 1024 }));
    expect(l.breakpoints.map((b) => b.block)).toEqual([30]);
  });

  it('a call whose prompt is never reused writes no end breakpoint, only reads', () => {
    const l = planLayout(base({ writeEnd: false }));
    expect(l.breakpoints.map((b) => b.block)).toEqual([0, 7]);
    expect(l.cachedTokens).toBe(8500);
  });
});

describe('cacheOutcome: "not possible yet" is not a miss', () => {
  it('tells a prompt under the minimum from a real miss, a hit and an unmarked prompt', () => {
    const below = cacheOutcome('claude-opus-4-7', usage(1200, 0, 0));
    expect(below).toEqual({ kind: 'below-minimum', promptTokens: 1200, minimum: 4096 });
    expect(describeCacheOutcome(below)).toBe("cache not possible yet (prompt 1,200 tokens, under the model's 4,096-token minimum)");
    // The same 1,200 tokens on Opus 4.8 could have been cached: nothing cached is not a "not yet" there.
    expect(cacheOutcome('claude-opus-4-8', usage(1200, 0, 0)).kind).toBe('uncached');
    expect(cacheOutcome('claude-opus-4-7', usage(0, 9000, 0))).toEqual({ kind: 'miss', writtenTokens: 9000 });
    expect(describeCacheOutcome(cacheOutcome('claude-opus-4-7', usage(0, 9000, 0)))).toMatch(/^cache miss: 9,000 tokens written/);
    expect(cacheOutcome('claude-opus-4-7', usage(0, 800, 20_000))).toEqual({ kind: 'hit', readTokens: 20_000, writtenTokens: 800 });
  });
});
