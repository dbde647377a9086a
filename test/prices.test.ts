import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import {
  BUILTIN_PRICES,
  costOf,
  lifecycleWarning,
  lookupPrice,
  normaliseUsage,
  priceEntryName,
  PRICE_TABLE,
  type Usage,
} from '../src/pricing/prices.js';
import { projectTurnCost } from '../src/pricing/projection.js';

const M = 1_000_000;
const usage = (u: Partial<Usage>): Usage => ({
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  ...u,
});

/**
 * The published figures, written out here by hand from the pages each entry names
 * (checked 2026-12-01), so a wrong entry in the table fails instead of agreeing with
 * itself: [input, output, 5-minute write, 1-hour write, cache read], USD per MTok.
 */
const PUBLISHED: Record<string, [number, number, number, number, number]> = {
  'claude-fable-5-1': [10, 50, 12.5, 20, 0.25],
  'claude-opus-5-5': [4, 20, 5, 8, 0.2],
  'claude-sonnet-5-5': [2, 10, 2.5, 4, 0.1],
  'claude-haiku-5-5': [0.1, 0.5, 0.125, 0.2, 0.01],
  'claude-mythos-5-1': [10, 50, 12.5, 20, 0.25],
  'claude-mythos-5': [10, 50, 12.5, 20, 1],
  'claude-fable-5': [10, 50, 12.5, 20, 1],
  'claude-opus-5': [5, 25, 6.25, 10, 0.5],
  'claude-sonnet-5': [2, 10, 2.5, 4, 0.2],
  'claude-opus-4-8': [5, 25, 6.25, 10, 0.5],
  'claude-opus-4-7': [5, 25, 6.25, 10, 0.5],
  'claude-opus-4-6': [5, 25, 6.25, 10, 0.5],
  'claude-opus-4-5': [5, 25, 6.25, 10, 0.5],
  'claude-sonnet-4-6': [3, 15, 3.75, 6, 0.3],
  'claude-sonnet-4-5': [3, 15, 3.75, 6, 0.3],
  'claude-sonnet-4-0': [3, 15, 3.75, 6, 0.3],
  'claude-haiku-4-5': [1, 5, 1.25, 2, 0.1],
  'claude-opus-4-1': [15, 75, 18.75, 30, 1.5],
  'claude-opus-4-0': [15, 75, 18.75, 30, 1.5],
  'claude-3-7-sonnet-latest': [3, 15, 3.75, 6, 0.3],
  'claude-3-5-haiku-latest': [0.8, 4, 1, 1.6, 0.08],
  'claude-3-haiku-20240307': [0.25, 1.25, 0.3, 0.5, 0.03],
  'claude-3-opus-latest': [15, 75, 18.75, 30, 1.5],
};
const HAIKU_55_OVER_100K: [number, number, number, number, number] = [0.5, 2.5, 0.625, 1, 0.05];

/** A turn with every kind of token, cache writes split between the 5-minute and 1-hour lifetimes. */
const TURN = usage({
  input_tokens: 1_200,
  output_tokens: 800,
  cache_creation_input_tokens: 5_000,
  cache_creation: { ephemeral_5m_input_tokens: 3_000, ephemeral_1h_input_tokens: 2_000 },
  cache_read_input_tokens: 60_000,
});
const byHand = ([i, o, w5, w1, r]: [number, number, number, number, number], u: Usage) =>
  (u.input_tokens * i +
    u.output_tokens * o +
    (u.cache_creation?.ephemeral_5m_input_tokens ?? u.cache_creation_input_tokens) * w5 +
    (u.cache_creation?.ephemeral_1h_input_tokens ?? 0) * w1 +
    u.cache_read_input_tokens * r) /
  M;

describe('built-in table', () => {
  it('lists exactly the published models, each with its source and the date it was checked', () => {
    expect(PRICE_TABLE.map((e) => e.id).sort()).toEqual(Object.keys(PUBLISHED).sort());
    for (const e of PRICE_TABLE) {
      expect(e.source, e.id).toMatch(/^https:\/\/platform\.claude\.com\/docs\/en\//);
      expect(e.checked, e.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(['current', 'legacy', 'deprecated', 'limited', 'retired']).toContain(e.status);
      // A deprecated model says when it goes and what replaces it, and the replacement is in the table.
      if (e.status === 'deprecated') {
        expect(e.retires, e.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(
          PRICE_TABLE.some((r) => r.id === e.replacement && r.status === 'current'),
          e.id,
        ).toBe(true);
      }
    }
    // Today's lineup, per the models overview.
    expect(
      PRICE_TABLE.filter((e) => e.status === 'current')
        .map((e) => e.id)
        .sort(),
    ).toEqual(['claude-fable-5-1', 'claude-haiku-5-5', 'claude-opus-5-5', 'claude-sonnet-5-5']);
  });

  for (const [model, figures] of Object.entries(PUBLISHED)) {
    it(`${model}: a turn is priced exactly from its usage`, () => {
      const p = lookupPrice(model);
      expect(p).toMatchObject({ known: true, matched: model, origin: 'builtin' });
      expect(costOf(TURN, p.price)).toBeCloseTo(byHand(figures, TURN), 12);
      // Each figure on its own, per million tokens (measured on 10k tokens: a million would be another tier of a tiered model).
      const K = 10_000;
      const one = (u: Partial<Usage>) => (costOf(usage(u), p.price) * M) / K;
      expect(one({ input_tokens: K })).toBeCloseTo(figures[0], 10);
      expect(one({ output_tokens: K })).toBeCloseTo(figures[1], 10);
      expect(one({ cache_creation_input_tokens: K })).toBeCloseTo(figures[2], 10);
      expect(
        one({ cache_creation_input_tokens: K, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: K } }),
      ).toBeCloseTo(figures[3], 10);
      expect(one({ cache_read_input_tokens: K })).toBeCloseTo(figures[4], 10);
    });
  }

  it('cache reads at 0.05x (Opus 5.5, Sonnet 5.5) and 0.025x (Fable 5.1), not the standard 0.1x', () => {
    const ratio = (m: string) => lookupPrice(m).price.cache_read / lookupPrice(m).price.input;
    expect(ratio('claude-opus-5-5')).toBeCloseTo(0.05, 12);
    expect(ratio('claude-sonnet-5-5')).toBeCloseTo(0.05, 12);
    expect(ratio('claude-fable-5-1')).toBeCloseTo(0.025, 12);
    expect(ratio('claude-opus-5')).toBeCloseTo(0.1, 12);
    // A realistic Opus 5.5 turn, long conversation mostly read from the cache: $0.0408.
    expect(costOf(TURN, lookupPrice('claude-opus-5-5').price)).toBeCloseTo(
      (1200 * 4 + 800 * 20 + 3000 * 5 + 2000 * 8 + 60_000 * 0.2) / M,
      12,
    );
    expect(costOf(TURN, lookupPrice('claude-opus-5-5').price)).toBeCloseTo(0.0638, 12);
  });

  it('Haiku 5.5 is tiered by prompt size: over 100k prompt tokens, every token of the request at the higher rates', () => {
    const p = lookupPrice('claude-haiku-5-5');
    // The prompt is input + cache writes + cache reads: exactly 100,000 is still the base tier.
    const at = usage({ input_tokens: 10_000, cache_creation_input_tokens: 20_000, cache_read_input_tokens: 70_000, output_tokens: 2_000 });
    expect(costOf(at, p.price)).toBeCloseTo(byHand(PUBLISHED['claude-haiku-5-5'], at), 12);
    expect(priceEntryName(p, at)).toBe('claude-haiku-5-5');
    const over = { ...at, cache_read_input_tokens: 70_001 };
    expect(costOf(over, p.price)).toBeCloseTo(byHand(HAIKU_55_OVER_100K, over), 12);
    expect(priceEntryName(p, over)).toBe('claude-haiku-5-5 >100k');
    // The 1-hour write of the tier too.
    const w1h = usage({
      input_tokens: 200_000,
      cache_creation_input_tokens: M,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: M },
    });
    expect(costOf(w1h, p.price)).toBeCloseTo((200_000 * 0.5 + M * 1) / M, 12);
  });

  it('zero usage costs nothing; a usage without a split prices writes at the 5-minute rate', () => {
    expect(costOf(usage({}), lookupPrice('claude-haiku-4-5').price)).toBe(0);
    expect(costOf(usage({ cache_creation_input_tokens: M }), lookupPrice('claude-sonnet-5-5').price)).toBeCloseTo(2.5, 10);
  });

  it('BUILTIN_PRICES has every id and alias at its base rates', () => {
    expect(BUILTIN_PRICES['claude-opus-5-5'].cache_read).toBe(0.2);
    expect(BUILTIN_PRICES['claude-sonnet-4-5-20250929'].input).toBe(3);
    expect(BUILTIN_PRICES['claude-haiku-5-5'].tiers).toHaveLength(1);
  });
});

describe('model ids', () => {
  it('a dated snapshot, an alias, -latest and [1m] match their entry', () => {
    expect(lookupPrice('claude-sonnet-4-5-20250929')).toMatchObject({ known: true, matched: 'claude-sonnet-4-5' });
    expect(lookupPrice('claude-opus-4-20250514')).toMatchObject({ known: true, matched: 'claude-opus-4-0' });
    expect(lookupPrice('claude-opus-5-5-20261020')).toMatchObject({ known: true, matched: 'claude-opus-5-5' });
    expect(lookupPrice('claude-sonnet-5-5[1m]')).toMatchObject({ known: true, matched: 'claude-sonnet-5-5' });
    expect(lookupPrice('claude-3-5-haiku-20241022')).toMatchObject({ known: true, matched: 'claude-3-5-haiku-latest' });
  });

  it('a prefix is not a match: claude-opus-5 is not claude-opus-5-5, and claude-opus-5-6 is unknown', () => {
    expect(lookupPrice('claude-opus-5').price.input).toBe(5);
    expect(lookupPrice('claude-opus-5-5').price.input).toBe(4);
    expect(lookupPrice('claude-opus-5-6').known).toBe(false);
  });

  it('an unknown model of a known family: a warning, and the dearest figures of the models still served in that family', () => {
    const p = lookupPrice('claude-opus-6');
    expect(p).toMatchObject({ known: false, origin: 'fallback', matched: 'dearest served claude-opus-*' });
    // Opus 5 / 4.5-4.8 ($5/$25), not the retired Opus 4/4.1 ($15/$75).
    expect(p.price).toMatchObject({ input: 5, output: 25, cache_write: 6.25, cache_write_1h: 10, cache_read: 0.5 });
    expect(p.warning).toMatch(/claude-opus-6 is not in the price table/);
    expect(p.warning).toMatch(/prices: in config\.yaml/);
    expect(p.warning).toMatch(/\$5 in, \$25 out/);
    // Haiku: the dearest of Haiku 4.5 and Haiku 5.5's upper tier.
    expect(lookupPrice('claude-haiku-6').price).toMatchObject({ input: 1, output: 5 });
    expect(priceEntryName(p, TURN)).toBe('dearest served claude-opus-* (unknown model)');
  });

  it('an id of no known family is priced at the dearest figures of every model still served', () => {
    const p = lookupPrice('my-gateway/model-x');
    expect(p.known).toBe(false);
    expect(p.price).toMatchObject({ input: 10, output: 50, cache_write: 12.5, cache_write_1h: 20, cache_read: 1 });
    for (const e of PRICE_TABLE.filter((x) => x.status !== 'retired')) {
      expect(p.price.input).toBeGreaterThanOrEqual(e.input);
      expect(p.price.output).toBeGreaterThanOrEqual(e.output);
    }
  });
});

describe('config overrides', () => {
  const parse = (prices: unknown) => configSchema.parse({ prices }).prices;

  it('replace every figure of a built-in entry', () => {
    const o = parse({ 'claude-opus-5-5': { input: 1, output: 2, cache_write: 3, cache_write_1h: 4, cache_read: 5 } });
    const p = lookupPrice('claude-opus-5-5', o);
    expect(p).toMatchObject({ known: true, origin: 'config', matched: 'claude-opus-5-5' });
    expect(costOf(TURN, p.price)).toBeCloseTo((1200 * 1 + 800 * 2 + 3000 * 3 + 2000 * 4 + 60_000 * 5) / M, 12);
    expect(priceEntryName(p, TURN)).toBe('claude-opus-5-5 (config)');
    // The built-in table itself is untouched.
    expect(lookupPrice('claude-opus-5-5').price.input).toBe(4);
  });

  it("override one figure; the rest stay the built-in ones, and a new input keeps the model's cache ratios", () => {
    const p = lookupPrice('claude-sonnet-5-5', parse({ 'claude-sonnet-5-5': { cache_read: 0.2 } })).price;
    expect(p).toMatchObject({ input: 2, output: 10, cache_write: 2.5, cache_write_1h: 4, cache_read: 0.2 });
    const q = lookupPrice('claude-opus-5-5', parse({ 'claude-opus-5-5': { input: 8 } })).price;
    expect(q.input).toBe(8);
    expect(q.output).toBe(20);
    expect(q.cache_read).toBeCloseTo(0.4, 12); // still 0.05x
    expect(q.cache_write).toBeCloseTo(10, 12);
  });

  it('a dated id picks up an override of its entry; tiers can be overridden or removed', () => {
    expect(lookupPrice('claude-sonnet-4-5-20250929', parse({ 'claude-sonnet-4-5': { input: 2 } })).price.input).toBe(2);
    const flat = lookupPrice('claude-haiku-5-5', parse({ 'claude-haiku-5-5': { tiers: [] } }));
    expect(flat.price.tiers).toBeUndefined();
    const big = usage({ input_tokens: 200_000 });
    expect(costOf(big, flat.price)).toBeCloseTo(0.02, 12);
    const custom = lookupPrice(
      'claude-haiku-5-5',
      parse({ 'claude-haiku-5-5': { tiers: [{ above_tokens: 50_000, input: 1, output: 1, cache_write: 1, cache_read: 1 }] } }),
    );
    expect(costOf(usage({ input_tokens: 60_000 }), custom.price)).toBeCloseTo(0.06, 12);
  });

  it('add a model: input and output are required, cache figures default to the standard multipliers', () => {
    const o = parse({ 'my-proxy-model': { input: 0.5, output: 1 } });
    expect(lookupPrice('my-proxy-model', o)).toMatchObject({
      known: true,
      origin: 'config',
      price: { input: 0.5, output: 1, cache_write: 0.625, cache_write_1h: 1, cache_read: 0.05 },
    });
    // A proxy's own ids under that key.
    expect(lookupPrice('my-proxy-model-2026', o)).toMatchObject({ known: true, matched: 'my-proxy-model' });
    expect(() => parse({ 'my-proxy-model': { input: 0.5 } })).toThrow(/not in the built-in price table, so its output price is required/);
  });

  it('bad figures are config errors', () => {
    expect(() => parse({ 'claude-opus-5-5': { input: -1 } })).toThrow();
    expect(() => parse({ 'claude-opus-5-5': { inptu: 1 } })).toThrow();
    expect(() =>
      parse({
        'claude-haiku-5-5': {
          tiers: [
            { above_tokens: 200, input: 1, output: 1, cache_write: 1, cache_read: 1 },
            { above_tokens: 100, input: 1, output: 1, cache_write: 1, cache_read: 1 },
          ],
        },
      }),
    ).toThrow(/ascending/);
  });
});

describe('the projection uses the same table, at the tier of the projected prompt', () => {
  const base = { maxTokens: 1000, measured: null, userBytes: 300, warmSince: 0, now: 0 };
  it('a small Haiku 5.5 prompt at the base rates, a large one at the >100k rates', () => {
    const price = lookupPrice('claude-haiku-5-5').price;
    const small = projectTurnCost({ ...base, price, historyBytes: 3_000 });
    // 1,100 tokens in at the dearer of input and 5-minute write ($0.125), 1,000 out at $0.50.
    expect(small).toBeCloseTo((((3_000 + 300) / 3) * 0.125) / M + (1000 * 0.5) / M, 12);
    const large = projectTurnCost({ ...base, price, historyBytes: 330_000 });
    expect(large).toBeCloseTo((((330_000 + 300) / 3) * 0.625) / M + (1000 * 2.5) / M, 12);
  });

  it('writes priced at the 1-hour rate when the relay asks for 1-hour caching', () => {
    const price = lookupPrice('claude-opus-5-5').price;
    const five = projectTurnCost({ ...base, price, historyBytes: 2_700 });
    const hour = projectTurnCost({ ...base, price, historyBytes: 2_700, cacheWrite1h: true });
    expect(five).toBeCloseTo((1000 * 5 + 1000 * 20) / M, 12);
    expect(hour).toBeCloseTo((1000 * 8 + 1000 * 20) / M, 12);
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

describe('model lifecycle', () => {
  it('a deprecated model is named with its date before it retires, as retired from that day on, under any of its ids', () => {
    expect(lifecycleWarning('claude-sonnet-4-5', '2026-11-01')).toMatch(
      /^model claude-sonnet-4-5 \(Claude Sonnet 4\.5\) is deprecated and retires on 2026-11-30: set model: .* claude-sonnet-5-5/,
    );
    expect(lifecycleWarning('claude-sonnet-4-5', '2026-11-30')).toMatch(/was retired on 2026-11-30: the API no longer serves it/);
    expect(lifecycleWarning('claude-sonnet-4-5-20250929', '2026-12-02')).toMatch(/^model claude-sonnet-4-5-20250929 .* was retired/);
  });

  it('a current, a legacy or an unknown model has nothing to say', () => {
    for (const m of ['claude-opus-5-5', 'claude-sonnet-4-6', 'claude-opus-9-9', 'my-proxy-model'])
      expect(lifecycleWarning(m, '2026-12-02')).toBeUndefined();
  });
});
