// Dollars of a relay run from its own ledger (the API's usage of every billed call), at one
// model's prices, and the relay root + fake the session-wait and day benches share.
import fs from 'node:fs';
import path from 'node:path';
import { createAnthropicChat } from '../src/adapters/anthropic.js';
import { loadConfig } from '../src/config/load.js';
import { startFakeApi, type FakeApi, type FakeApiOptions } from '../src/demo/fake-api.js';
import type { LedgerEntry } from '../src/engine/journals/ledger.js';
import { Relay } from '../src/engine/relay.js';
import { readJsonl } from '../src/fs/atomic.js';
import { costOf, lookupPrice, type Usage } from '../src/pricing/prices.js';
import { ensureLayout, type RootPaths } from '../src/protocol/root.js';
import { makeRoot } from './util.js';

/** The relay's default model (config.yaml): what "a supervised day" is priced at. */
export const DEFAULT_MODEL = 'claude-opus-5-5';

export interface Dollars {
  calls: number;
  summaries: number;
  totalUsd: number;
  readUsd: number;
  write5mUsd: number;
  write1hUsd: number;
  inputUsd: number;
  outputUsd: number;
  input: number;
  cacheRead: number;
  write5m: number;
  write1h: number;
  output: number;
}

export function billedCalls(paths: RootPaths): Array<{ usage: Usage; summary: boolean }> {
  return readJsonl<LedgerEntry & { t?: string }>(paths.ledger)
    .records.filter((e) => !e.t && e.usage && (e.kind === 'turn' || e.kind === 'summary'))
    .map((e) => ({ usage: e.usage, summary: e.kind === 'summary' }));
}

/** Each part priced on its own (costOf of a usage holding only that part), so the parts add up to the total. */
export function dollarsOf(calls: Array<{ usage: Usage; summary: boolean }>, model: string): Dollars {
  const price = lookupPrice(model).price;
  const zero = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const d: Dollars = {
    calls: 0,
    summaries: 0,
    totalUsd: 0,
    readUsd: 0,
    write5mUsd: 0,
    write1hUsd: 0,
    inputUsd: 0,
    outputUsd: 0,
    input: 0,
    cacheRead: 0,
    write5m: 0,
    write1h: 0,
    output: 0,
  };
  for (const { usage: u, summary } of calls) {
    d.calls++;
    if (summary) d.summaries++;
    const w1h = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
    const w5m = u.cache_creation_input_tokens - w1h;
    const part = (p: Partial<Usage>) => costOf({ ...zero, ...p } as Usage, price);
    d.totalUsd += costOf(u, price);
    d.readUsd += part({ cache_read_input_tokens: u.cache_read_input_tokens });
    d.write5mUsd += part({
      cache_creation_input_tokens: w5m,
      cache_creation: { ephemeral_5m_input_tokens: w5m, ephemeral_1h_input_tokens: 0 },
    });
    d.write1hUsd += part({
      cache_creation_input_tokens: w1h,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: w1h },
    });
    d.inputUsd += part({ input_tokens: u.input_tokens });
    d.outputUsd += part({ output_tokens: u.output_tokens });
    d.input += u.input_tokens;
    d.cacheRead += u.cache_read_input_tokens;
    d.write5m += w5m;
    d.write1h += w1h;
    d.output += u.output_tokens;
  }
  return d;
}

export interface BenchRelay {
  relay: Relay;
  paths: RootPaths;
  fake: FakeApi;
  close(): Promise<void>;
}

/** A relay in this process (the engine as the CLI opens it, the real SDK) against a fake of its own. */
export async function openBenchRelay(o: {
  sessions: string[];
  fake: FakeApiOptions;
  config: Record<string, unknown>;
  now?: () => number;
  base?: string;
}): Promise<BenchRelay> {
  const fake = await startFakeApi(o.fake);
  const env = { ANTHROPIC_API_KEY: 'bench-not-a-real-key', ANTHROPIC_BASE_URL: fake.url };
  const paths = makeRoot({ base: o.base, sessions: o.sessions, env, config: o.config });
  ensureLayout(paths);
  const { config } = loadConfig(paths.config);
  const chat = createAnthropicChat({ apiKey: env.ANTHROPIC_API_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 600_000 });
  const relay = new Relay({ paths, config, chat, notifier: null, topic: null, ...(o.now ? { now: o.now } : {}) });
  await relay.start();
  return {
    relay,
    paths,
    fake,
    async close() {
      await relay.stop();
      await fake.close();
    },
  };
}

/** Resolves with the relay's `dispatch:written` for a session, after taking its reply (as a session's hook would). */
export function takeReplies(b: BenchRelay, onTaken: (session: string) => void): () => void {
  return b.relay.on('dispatch:written', (p) => {
    try {
      fs.unlinkSync(path.join(b.paths.dispatch, p.session, 'input.txt'));
    } catch {
      /* taken already */
    }
    onTaken(p.session);
  });
}
