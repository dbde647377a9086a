import { describe, expect, it } from 'vitest';
import {
  chooseTtl,
  gapShares,
  HALF_LIFE_GAPS,
  MAX_GAPS,
  TtlChooser,
  writePrice,
  type CacheTtlSetting,
} from '../src/pricing/cache-lifetime.js';
import { costOf, lookupPrice, normaliseUsage } from '../src/pricing/prices.js';

const OPUS = lookupPrice('claude-opus-4-7').price; // $5 in, 1.25x / 2x write, 0.1x read
const MIN = 4096;
const S = 1000;
const MIN_ = 60 * S;
const gaps = (spec: Array<[number, number]>) => spec.flatMap(([n, ms]) => Array.from({ length: n }, () => ms));

describe('chooseTtl: gap history and prefix size -> lifetime', () => {
  // [what, gaps, prefix tokens, added tokens, setting, expected]
  const CASES: Array<[string, number[], number, number, CacheTtlSetting, '5m' | '1h']> = [
    ['no history yet, first call (everything is new)', [], 6000, 6000, 'auto', '5m'],
    ['dense traffic: every gap under a minute', gaps([[40, 45 * S]]), 80_000, 1500, 'auto', '5m'],
    [
      'sparse traffic: gaps of 6-30 minutes',
      gaps([
        [10, 2 * MIN_],
        [10, 12 * MIN_],
        [10, 30 * MIN_],
      ]),
      80_000,
      1500,
      'auto',
      '1h',
    ],
    [
      'one recent 10-minute gap among short ones, large prefix',
      [...gaps([[30, 40 * S]]), 10 * MIN_, ...gaps([[3, 40 * S]])],
      120_000,
      1000,
      'auto',
      '1h',
    ],
    [
      'the same history but a small prefix: the 2x write on each turn outweighs one rare miss',
      [...gaps([[30, 40 * S]]), 10 * MIN_, ...gaps([[3, 40 * S]])],
      8000,
      1500,
      'auto',
      '5m',
    ],
    ['gaps all past an hour: nothing survives either lifetime, 5m writes cheaper', gaps([[20, 90 * MIN_]]), 80_000, 1500, 'auto', '5m'],
    ['gaps of 6-10 minutes', gaps([[20, 7 * MIN_]]), 20_000, 1500, 'auto', '1h'],
    ['config 5m wins over sparse traffic', gaps([[20, 12 * MIN_]]), 80_000, 1500, '5m', '5m'],
    ['config 1h wins over dense traffic', gaps([[20, 30 * S]]), 80_000, 1500, '1h', '1h'],
    ['under the minimum: nothing can be cached, keep the default', gaps([[20, 12 * MIN_]]), 3000, 500, 'auto', '5m'],
  ];
  for (const [what, g, prefix, added, setting, want] of CASES) {
    it(`${what} -> ${want}`, () => {
      const d = chooseTtl({ gapsMs: g, prefixTokens: prefix, addedTokens: added, price: OPUS, setting, minTokens: MIN });
      expect(d.ttl).toBe(want);
      if (setting === 'auto' && prefix >= MIN) expect(d.ttl === '1h').toBe(d.cost1h < d.cost5m);
    });
  }

  it('the break-even: 1h exactly when (w5m - r)·P(5m..1h) > (w1h - w5m)·(P(>1h) + Δ/X)', () => {
    // Sweep the share of 6-minute gaps (the rest 30 s) and the prefix size; the rule in the README must match the code.
    for (const mids of [0, 1, 2, 3, 5, 8, 13]) {
      for (const X of [5000, 20_000, 60_000, 150_000]) {
        const g = [...gaps([[30 - mids, 30 * S]]), ...gaps([[mids, 6 * MIN_]])];
        const sh = gapShares(g);
        const D = 1500;
        const r = OPUS.cache_read;
        const w5 = OPUS.cache_write;
        const w1 = writePrice(OPUS, '1h');
        const lhs = (w5 - r) * sh.mid;
        const rhs = (w1 - w5) * (sh.long + D / X);
        const d = chooseTtl({ gapsMs: g, prefixTokens: X, addedTokens: D, price: OPUS, setting: 'auto', minTokens: MIN });
        expect(d.ttl, `mids ${mids} X ${X}`).toBe(lhs > rhs ? '1h' : '5m');
      }
    }
  });

  it("uses the model's own prices: a cheap 1h write (price override) tips the choice", () => {
    const g = gaps([
      [30, 40 * S],
      [1, 10 * MIN_],
    ]);
    const base = { gapsMs: g, prefixTokens: 8000, addedTokens: 1500, setting: 'auto' as const, minTokens: MIN };
    expect(chooseTtl({ ...base, price: OPUS }).ttl).toBe('5m');
    expect(chooseTtl({ ...base, price: { ...OPUS, cache_write_1h: OPUS.cache_write * 1.01 } }).ttl).toBe('1h');
  });

  it('newer gaps weigh more: traffic that turned sparse is followed', () => {
    const old = gaps([[40, 30 * S]]);
    const recent = gaps([[8, 15 * MIN_]]);
    const after = gapShares([...old, ...recent]);
    const before = gapShares([...recent, ...old]);
    expect(after.mid).toBeGreaterThan(before.mid);
    // The newest eight of 48 gaps carry over a quarter of the weight (a sixth if all weighed the same).
    expect(after.mid).toBeGreaterThan(0.25);
    expect(HALF_LIFE_GAPS).toBeGreaterThan(4);
    const s = gapShares([]);
    expect(s.short + s.mid + s.long).toBeCloseTo(1, 12);
    expect(s.weight).toBe(0);
  });
});

describe('TtlChooser: the call times behind the gaps', () => {
  const chooser = (setting: CacheTtlSetting = 'auto') => new TtlChooser({ setting: () => setting, price: () => OPUS });

  it('counts the gap that ends with this call, records each call, keeps a bounded history', () => {
    const c = chooser();
    expect(c.gaps(1000)).toEqual([]);
    c.record(0, '5m');
    expect(c.gaps(7 * MIN_)).toEqual([7 * MIN_]);
    c.record(7 * MIN_, '1h');
    c.record(8 * MIN_, '1h');
    expect(c.gaps(20 * MIN_)).toEqual([7 * MIN_, MIN_, 12 * MIN_]);
    expect(c.last).toBe('1h');
    for (let i = 0; i < 500; i++) c.record(9 * MIN_ + i * S, '5m');
    expect(c.gaps(10_000 * S).length).toBeLessThanOrEqual(MAX_GAPS);
  });

  it('seed() restores the history after a restart (unordered, bad values dropped)', () => {
    const c = chooser();
    c.seed([20 * MIN_, 0, Number.NaN, 10 * MIN_]);
    expect(c.gaps(30 * MIN_)).toEqual([10 * MIN_, 10 * MIN_, 10 * MIN_]);
    expect(c.choose(30 * MIN_, 80_000, 1500, MIN).ttl).toBe('1h');
  });

  it('follows the config each time it is asked (a reload changes it)', () => {
    let setting: CacheTtlSetting = 'auto';
    const c = new TtlChooser({ setting: () => setting, price: () => OPUS });
    c.seed([0, 10 * MIN_, 20 * MIN_]);
    expect(c.choose(30 * MIN_, 80_000, 1500, MIN)).toMatchObject({ ttl: '1h', reason: 'expected-cost' });
    setting = '5m';
    expect(c.choose(30 * MIN_, 80_000, 1500, MIN)).toMatchObject({ ttl: '5m', reason: 'config' });
  });
});

describe('the usage split by lifetime is priced at each rate', () => {
  it('5m and 1h writes at their own prices, the rest as input, output and read', () => {
    const M = 1_000_000;
    const raw = {
      input_tokens: 100,
      output_tokens: 200,
      cache_creation_input_tokens: 3 * M,
      cache_read_input_tokens: M,
      cache_creation: { ephemeral_5m_input_tokens: M, ephemeral_1h_input_tokens: 2 * M },
    };
    const u = normaliseUsage(raw);
    const want = (100 * 5 + 200 * 25) / M + 1 * 6.25 + 2 * 10 + 1 * 0.5;
    expect(costOf(u, OPUS)).toBeCloseTo(want, 9);
    expect(writePrice(OPUS, '1h')).toBe(10);
    expect(writePrice(OPUS, '5m')).toBe(6.25);
    // Without a split every write is billed at the 5-minute rate, as the API does by default.
    const { cache_creation: _split, ...noSplit } = raw;
    expect(costOf(normaliseUsage(noSplit), OPUS)).toBeCloseTo((100 * 5 + 200 * 25) / M + 3 * 6.25 + 0.5, 9);
    // Without a split but with the lifetime the request asked for: every write at that lifetime's rate, marked inferred.
    const inferred = normaliseUsage(noSplit, '1h');
    expect(inferred.cache_split_inferred).toBe('1h');
    expect(costOf(inferred, OPUS)).toBeCloseTo((100 * 5 + 200 * 25) / M + 3 * 10 + 0.5, 9);
    expect(normaliseUsage(raw, '1h').cache_split_inferred).toBeUndefined();
  });
});
