import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createAnthropicChat } from '../src/adapters/anthropic.js';
import { startFakeApi, type FakeApi, type FakeApiOptions } from '../src/demo/fake-api.js';
import { BUILTIN_PRICES } from '../src/pricing/prices.js';
import { Relay } from '../src/engine/relay.js';
import type { RootPaths } from '../src/protocol/root.js';
import { enqueue, tempRoot, testConfig } from './helpers/inproc.js';

/**
 * The relay chooses each turn's cache lifetime itself (cache.ttl): the real SDK against
 * the fake Messages API, on a fake clock shared by both, and what the requests carried.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// Far past every model's minimum cacheable prefix, so each request has breakpoints.
const SYSTEM = 'You supervise several coding sessions and answer each one briefly. '.repeat(600);

async function drive(
  ttl: 'auto' | '5m' | '1h',
  gapsMs: number[],
  extra = '',
  fakeOpts: FakeApiOptions = {},
): Promise<{ ttls: string[][]; paths: RootPaths; fake: FakeApi }> {
  const clock = { now: Date.parse('2026-05-04T09:00:00Z') };
  const fake: FakeApi = await startFakeApi({ now: () => clock.now, respond: (req) => ({ text: `ok ${req.n}` }), ...fakeOpts });
  cleanups.push(() => fake.close());
  const paths = tempRoot();
  cleanups.push(() => fs.rmSync(paths.root, { recursive: true, force: true }));
  const chat = createAnthropicChat({ apiKey: 'test-key', baseURL: fake.url, maxRetries: 0, timeoutMs: 30_000 });
  const relay = new Relay({
    paths,
    config: testConfig({ system_prompt: SYSTEM, cache: { ttl } }),
    chat,
    notifier: null,
    topic: null,
    now: () => clock.now,
    maintenanceMs: 3_600_000,
    statusMinIntervalMs: 0,
  });
  cleanups.push(() => relay.stop());
  await relay.start();
  for (let i = 0; i <= gapsMs.length; i++) {
    if (i > 0) clock.now += gapsMs[i - 1];
    const done = new Promise<void>((resolve) => {
      const off = relay.on('turn:completed', () => (off(), resolve()));
    });
    enqueue(paths, `${String(i).padStart(3, '0')}.json`, {
      session_id: i % 2 ? 'session-2' : 'session-1',
      content: `step ${i}: tests pass, moving on to the next part of the plan${extra}`,
    });
    await done;
  }
  await relay.stop();
  const ttls = fake.requests.map((r) => {
    const blocks = [
      ...(Array.isArray(r.body.system) ? r.body.system : []),
      ...r.body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])),
    ];
    return blocks.filter((b: any) => b.cache_control).map((b: any) => b.cache_control.ttl ?? '5m');
  });
  return { ttls, paths, fake };
}

describe('cache lifetime wiring', () => {
  it('cache.ttl 1h sends 1-hour breakpoints on every turn, 5m only 5-minute ones', async () => {
    const one = await drive('1h', [60_000, 60_000]);
    expect(one.ttls).toHaveLength(3);
    for (const t of one.ttls) expect(t.length > 0 && t.every((x) => x === '1h')).toBe(true);
    const five = await drive('5m', [60_000, 60_000]);
    for (const t of five.ttls) expect(t.length > 0 && t.every((x) => x === '5m')).toBe(true);
  });

  it('auto follows the gaps on the clock: 20-minute gaps choose 1 hour, 10-second gaps keep 5 minutes', async () => {
    // Each turn adds ~2,000 tokens to a ~10,000-token prefix: with short gaps the dearer 1-hour write of what is added does not pay.
    const log = `\n${'PASS test/unit/parser.test.ts (12 tests) 41 ms\n'.repeat(180)}`;
    const slow = await drive('auto', [20 * 60_000, 20 * 60_000, 20 * 60_000, 20 * 60_000], log);
    expect(slow.ttls.slice(-3).every((t) => t.length > 0 && t.every((x) => x === '1h'))).toBe(true);
    const fast = await drive('auto', Array(6).fill(10_000), log);
    expect(fast.ttls.slice(-3).every((t) => t.length > 0 && t.every((x) => x === '5m'))).toBe(true);
    // 1-hour writes are billed at their own rate in the ledger.
    const billed = fs
      .readFileSync(slow.paths.ledger, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.kind === 'turn');
    expect(billed.some((l) => (l.usage.cache_creation?.ephemeral_1h_input_tokens ?? 0) > 0)).toBe(true);
  });

  it('usage without the 5m/1h split (a gateway): 1-hour writes are priced at the 1-hour rate, and the ledger line says the split was inferred', async () => {
    const run = await drive('1h', [60_000], '', { omitCacheSplit: true });
    expect(run.fake.totals().cacheWrite).toBeGreaterThan(0);
    const billed = fs
      .readFileSync(run.paths.ledger, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.kind === 'turn');
    expect(billed).toHaveLength(2);
    const p = BUILTIN_PRICES['claude-opus-5-5'];
    const M = 1_000_000;
    let written = 0;
    for (const l of billed) {
      const u = l.usage;
      written += u.cache_creation_input_tokens;
      if (u.cache_creation_input_tokens === 0) continue;
      expect(u.cache_split_inferred).toBe('1h');
      expect(u.cache_creation).toEqual({ ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: u.cache_creation_input_tokens });
      const at1h =
        (u.input_tokens * p.input +
          u.output_tokens * p.output +
          u.cache_creation_input_tokens * p.cache_write_1h! +
          u.cache_read_input_tokens * p.cache_read) /
        M;
      expect(l.cost_usd).toBeCloseTo(at1h, 9);
      // What it showed before: every write at the 5-minute rate, less than the API bills for a 1-hour write.
      const at5m = at1h - (u.cache_creation_input_tokens * (p.cache_write_1h! - p.cache_write)) / M;
      expect(l.cost_usd).toBeGreaterThan(at5m);
    }
    expect(written).toBe(run.fake.totals().cacheWrite);
  });
});
