import { describe, expect, it } from 'vitest';
import { BUILTIN_PRICES, costOf, lookupPrice, normaliseUsage, type Usage } from '../src/engine/prices.js';

const M = 1_000_000;
const usage = (u: Partial<Usage>): Usage => ({
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  ...u,
});

/** Cost of one million tokens of one kind, for a model id. */
function perMillion(model: string, field: keyof Usage, overrides = {}): number {
  return costOf(usage({ [field]: M }), lookupPrice(model, overrides).price);
}

const TABLE: Array<[string, number, number]> = [
  ['claude-opus-4-5', 5, 25],
  ['claude-opus-4-6', 5, 25],
  ['claude-opus-4-7', 5, 25],
  ['claude-opus-4-8', 5, 25],
  ['claude-sonnet-4-5', 3, 15],
  ['claude-sonnet-4-6', 3, 15],
  ['claude-haiku-4-5', 1, 5],
  // Older models still served, priced as Anthropic lists them.
  ['claude-opus-4-0', 15, 75],
  ['claude-opus-4-1', 15, 75],
  ['claude-sonnet-4-0', 3, 15],
];

describe('built-in table', () => {
  for (const [model, input, output] of TABLE) {
    it(`${model}: $${input} in, $${output} out, cache write 1.25x, cache read 0.1x`, () => {
      const p = lookupPrice(model);
      expect(p.known).toBe(true);
      expect(p.matched).toBe(model);
      expect(perMillion(model, 'input_tokens')).toBeCloseTo(input, 10);
      expect(perMillion(model, 'output_tokens')).toBeCloseTo(output, 10);
      expect(perMillion(model, 'cache_creation_input_tokens')).toBeCloseTo(input * 1.25, 10);
      expect(perMillion(model, 'cache_read_input_tokens')).toBeCloseTo(input * 0.1, 10);
    });
  }

  it('has no entries beyond the documented ones', () => {
    expect(Object.keys(BUILTIN_PRICES).sort()).toEqual(TABLE.map((r) => r[0]).sort());
  });

  it('sums every usage field of a realistic turn', () => {
    // Opus: 1200 in, 800 out, 5000 cache write, 100000 cache read.
    const cost = costOf(
      usage({ input_tokens: 1200, output_tokens: 800, cache_creation_input_tokens: 5000, cache_read_input_tokens: 100_000 }),
      lookupPrice('claude-opus-4-7').price,
    );
    const expected = (1200 * 5 + 800 * 25 + 5000 * 6.25 + 100_000 * 0.5) / M;
    expect(cost).toBeCloseTo(expected, 12);
    expect(cost).toBeCloseTo(0.10725, 12);
  });

  it('zero usage costs nothing', () => {
    expect(costOf(usage({}), lookupPrice('claude-haiku-4-5').price)).toBe(0);
  });
});

describe('model ids', () => {
  it('a dated id matches its family', () => {
    const p = lookupPrice('claude-sonnet-4-5-20250929');
    expect(p.known).toBe(true);
    expect(p.matched).toBe('claude-sonnet-4-5');
    expect(perMillion('claude-sonnet-4-5-20250929', 'input_tokens')).toBeCloseTo(3, 10);
    expect(perMillion('claude-haiku-4-5-20251001', 'output_tokens')).toBeCloseTo(5, 10);
  });

  it('the longest matching key wins', () => {
    const overrides = { claude: { input: 100, output: 100, cache_write: 100, cache_read: 100 } };
    const p = lookupPrice('claude-haiku-4-5-20251001', overrides);
    expect(p.matched).toBe('claude-haiku-4-5');
    expect(p.price.input).toBe(1);
  });

  it('an unknown model is known:false and priced as the most expensive', () => {
    const p = lookupPrice('claude-mystery-9');
    expect(p.known).toBe(false);
    expect(p.price.input).toBe(15);
    expect(p.price.output).toBe(75);
    for (const price of Object.values(BUILTIN_PRICES)) {
      expect(p.price.input).toBeGreaterThanOrEqual(price.input);
      expect(p.price.output).toBeGreaterThanOrEqual(price.output);
    }
  });

  it('an unknown model is priced as the most expensive entry including overrides', () => {
    const overrides = { 'claude-ultra-1': { input: 50, output: 250, cache_write: 62.5, cache_read: 5 } };
    const p = lookupPrice('something-else', overrides);
    expect(p.known).toBe(false);
    expect(p.matched).toBe('claude-ultra-1');
    expect(perMillion('something-else', 'output_tokens', overrides)).toBeCloseTo(250, 10);
  });
});

describe('config overrides', () => {
  it('replace a built-in price', () => {
    const overrides = { 'claude-opus-4-7': { input: 1, output: 2, cache_write: 3, cache_read: 4 } };
    const p = lookupPrice('claude-opus-4-7', overrides);
    expect(p.known).toBe(true);
    expect(p.price).toEqual(overrides['claude-opus-4-7']);
    expect(costOf(usage({ input_tokens: M, output_tokens: M, cache_creation_input_tokens: M, cache_read_input_tokens: M }), p.price)).toBeCloseTo(10, 10);
    // The built-in table itself is untouched.
    expect(BUILTIN_PRICES['claude-opus-4-7'].input).toBe(5);
  });

  it('add a new model, also matched by prefix', () => {
    const overrides = { 'my-proxy-model': { input: 0.5, output: 1, cache_write: 0.6, cache_read: 0.05 } };
    expect(lookupPrice('my-proxy-model', overrides)).toMatchObject({ known: true, matched: 'my-proxy-model' });
    expect(lookupPrice('my-proxy-model-2026', overrides)).toMatchObject({ known: true, matched: 'my-proxy-model' });
    expect(perMillion('my-proxy-model', 'cache_read_input_tokens', overrides)).toBeCloseTo(0.05, 10);
  });

  it('a dated id picks up an override of its family', () => {
    const overrides = { 'claude-sonnet-4-5': { input: 2, output: 10, cache_write: 2.5, cache_read: 0.2 } };
    expect(perMillion('claude-sonnet-4-5-20250929', 'input_tokens', overrides)).toBeCloseTo(2, 10);
  });
});

describe('normaliseUsage', () => {
  it('fills missing and null fields with 0', () => {
    expect(normaliseUsage(undefined)).toEqual(usage({}));
    expect(normaliseUsage({ input_tokens: 3, output_tokens: null, cache_read_input_tokens: 7 })).toEqual(
      usage({ input_tokens: 3, cache_read_input_tokens: 7 }),
    );
  });
});
