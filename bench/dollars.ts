// Dollars per turn: two scripted conversations (dense-scripts.ts: today's dense one and a
// sparse, long-tailed one) billed four ways by the fake Messages API on a simulated clock:
//   system-only: the earlier Python relay's strategy, cache_control on the system block
//     only: the very requests of the 5m run, replayed at the same simulated times
//     against a fake with its own cache;
//   5m, 1h, auto: the real relay in this process (its requests, breakpoints and
//     summaries), every breakpoint at 5 minutes (today's moving breakpoint), at 1 hour,
//     or chosen before each call by src/pricing/cache-lifetime.ts.
// The lifetime is the relay's own choice (config cache.ttl; engine/turn.ts chooses before
// each turn's call and records after it). Priced with prices.ts.
import fs from 'node:fs';
import path from 'node:path';
import { createAnthropicChat } from '../src/adapters/anthropic.js';
import { readJsonl } from '../src/fs/atomic.js';
import { loadConfig } from '../src/config/load.js';
import { startFakeApi } from '../src/demo/fake-api.js';
import type { CacheTtlSetting } from '../src/pricing/cache-lifetime.js';
import type { LedgerEntry } from '../src/engine/journals/ledger.js';
import { costOf, lookupPrice, normaliseUsage, type Usage } from '../src/pricing/prices.js';
import { Relay } from '../src/engine/relay.js';
import { ensureLayout } from '../src/protocol/root.js';
import { denseScript, sparseScript, type Script } from './dollars-scripts.js';
import { DEFAULT_MODEL } from './bill.js';
import { TAG_RE } from './fakes.js';
import { log, makeRoot, writeEnvelope } from './util.js';

// The model the relay's requests name (set in the root's config below) and the one they are
// priced at: one constant, so the two cannot drift apart again (issue 24: these rows were
// priced at claude-opus-4-7 while the relay, with no model in its config, called the default).
const MODEL = DEFAULT_MODEL;

export type Strategy = 'system-only' | '5m' | '1h' | 'auto';
export const STRATEGIES: Strategy[] = ['system-only', '5m', '1h', 'auto'];

export interface Bill {
  turns: number;
  summaries: number;
  turnCostUsd: number;
  summaryCostUsd: number;
  totalUsd: number;
  perTurnUsd: number;
  input: number;
  cacheRead: number;
  cacheWrite: number;
  cacheWrite1h: number;
  output: number;
  cacheReadShare: number;
  /** Calls whose breakpoints were at 1 hour. */
  calls1h: number;
  calls: number;
}

export interface ScriptResult {
  name: Script['name'];
  description: string;
  turns: number;
  simulatedMinutes: number;
  systemTokens: number;
  bills: Record<Strategy, Bill>;
  /** The cheapest of the three fixed strategies, and auto over it. */
  bestFixed: Strategy;
  autoOverBest: number;
  /** auto over today's (5m moving breakpoint). */
  autoOver5m: number;
}

export interface DollarsResult {
  capTokens: number;
  model: string;
  scripts: ScriptResult[];
}

interface Recorded {
  body: any;
  at: number;
  reply: string;
  summary: boolean;
}

function bill(entries: Array<{ usage: Usage; summary: boolean; ttl1h: boolean }>, turns: number): Bill {
  const price = lookupPrice(MODEL).price;
  const b: Bill = {
    turns,
    summaries: 0,
    turnCostUsd: 0,
    summaryCostUsd: 0,
    totalUsd: 0,
    perTurnUsd: 0,
    input: 0,
    cacheRead: 0,
    cacheWrite: 0,
    cacheWrite1h: 0,
    output: 0,
    cacheReadShare: 0,
    calls1h: 0,
    calls: 0,
  };
  for (const e of entries) {
    const cost = costOf(e.usage, price);
    if (e.summary) {
      b.summaries++;
      b.summaryCostUsd += cost;
    } else b.turnCostUsd += cost;
    b.calls++;
    if (e.ttl1h) b.calls1h++;
    b.input += e.usage.input_tokens;
    b.cacheRead += e.usage.cache_read_input_tokens;
    b.cacheWrite += e.usage.cache_creation_input_tokens;
    b.cacheWrite1h += e.usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
    b.output += e.usage.output_tokens;
  }
  b.totalUsd = b.turnCostUsd + b.summaryCostUsd;
  b.perTurnUsd = b.totalUsd / turns;
  b.cacheReadShare = b.cacheRead / Math.max(1, b.input + b.cacheRead + b.cacheWrite);
  return b;
}

const has1h = (body: any): boolean => JSON.stringify(body).includes('"ttl":"1h"');

/** The body with cache_control on the system block only: the Python relay's requests. */
export function systemOnlyCaching(body: any): any {
  const plain = (content: any) => (Array.isArray(content) ? content.map((b: any) => (b?.type === 'text' ? b.text : '')).join('') : content);
  const system = Array.isArray(body.system)
    ? body.system.map((b: any) => ({ type: 'text', text: b.text, cache_control: { type: 'ephemeral' } }))
    : [{ type: 'text', text: body.system, cache_control: { type: 'ephemeral' } }];
  return {
    model: body.model,
    max_tokens: body.max_tokens,
    system,
    messages: body.messages.map((m: any) => ({ role: m.role, content: plain(m.content) })),
  };
}

async function runRelay(
  script: Script,
  setting: CacheTtlSetting,
  capTokens: number,
  base?: string,
): Promise<{ bill: Bill; recorded: Recorded[] }> {
  let simNow = Date.parse('2026-05-04T09:00:00Z');
  const recorded: Recorded[] = [];
  const fake = await startFakeApi({
    now: () => simNow,
    respond: (req) => {
      const summary = req.lastUserText.startsWith('[relay]');
      const m = TAG_RE.exec(req.lastUserText);
      const reply = summary ? script.summaryText : m ? script.turns[Number(m[1])].reply : 'ok';
      recorded.push({ body: req.body, at: simNow, reply, summary });
      return { text: reply };
    },
  });
  fake.onRequest(() => void fake.requests.splice(0));
  const env = { ANTHROPIC_API_KEY: 'bench-not-a-real-key', ANTHROPIC_BASE_URL: fake.url };
  const paths = makeRoot({
    base,
    sessions: script.sessions,
    env,
    config: {
      model: MODEL,
      system_prompt: script.systemPrompt,
      history: { cap_tokens: capTokens, keep_recent: 10 },
      cache: { ttl: setting },
    },
  });
  ensureLayout(paths);
  const { config } = loadConfig(paths.config);
  // The relay chooses each call's lifetime itself from config cache.ttl (engine/turn.ts), on the simulated clock.
  const chat = createAnthropicChat({ apiKey: env.ANTHROPIC_API_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 60_000 });
  const relay = new Relay({ paths, config, chat, notifier: null, topic: null, now: () => simNow });
  try {
    await relay.start();
    for (let i = 0; i < script.turns.length; i++) {
      const t = script.turns[i];
      simNow += t.gapMs;
      const done = new Promise<void>((resolve, reject) => {
        const off = relay.on('dispatch:written', (p) => {
          if (p.session !== t.session) return;
          off();
          clearTimeout(timer);
          resolve();
        });
        const timer = setTimeout(() => reject(new Error(`bench: dollars (${script.name}, ${setting}) turn ${i} did not complete`)), 30_000);
      });
      writeEnvelope(paths, t.session, `${t.content} #t${i}#`, { timestamp: new Date(simNow).toISOString() });
      await done;
      fs.unlinkSync(path.join(paths.dispatch, t.session, 'input.txt'));
    }
    await relay.stop();
    // Billed calls only (the ledger may also hold other kinds of lines, e.g. reservations).
    const ledger = readJsonl<LedgerEntry & { t?: string }>(paths.ledger).records.filter(
      (e) => !e.t && e.usage && (e.kind === 'turn' || e.kind === 'summary'),
    );
    if (ledger.length !== recorded.length)
      throw new Error(`bench: the ledger has ${ledger.length} billed calls, the fake saw ${recorded.length}`);
    const other = recorded.find((r) => r.body?.model !== MODEL);
    if (other) throw new Error(`bench: dollars: the relay called ${other.body?.model}, the bill is at ${MODEL}'s prices`);
    const entries = ledger.map((e, k) => ({ usage: e.usage, summary: e.kind === 'summary', ttl1h: has1h(recorded[k].body) }));
    return { bill: bill(entries, script.turns.length), recorded };
  } finally {
    await relay.stop();
    await fake.close();
  }
}

async function replaySystemOnly(recorded: Recorded[], turns: number): Promise<Bill> {
  let replayNow = 0;
  let k = 0;
  const fake = await startFakeApi({ now: () => replayNow, respond: () => ({ text: recorded[k].reply }) });
  fake.onRequest(() => void fake.requests.splice(0));
  try {
    const entries: Array<{ usage: Usage; summary: boolean; ttl1h: boolean }> = [];
    for (k = 0; k < recorded.length; k++) {
      const rec = recorded[k];
      replayNow = rec.at;
      const res = await fetch(`${fake.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(systemOnlyCaching(rec.body)),
      });
      if (!res.ok) throw new Error(`bench: replay ${k} failed: ${res.status} ${await res.text()}`);
      const msg = (await res.json()) as { usage: Partial<Usage> };
      entries.push({ usage: normaliseUsage(msg.usage as any), summary: rec.summary, ttl1h: false });
    }
    return bill(entries, turns);
  } finally {
    await fake.close();
  }
}

async function measureScript(script: Script, capTokens: number, base?: string): Promise<ScriptResult> {
  const bills = {} as Record<Strategy, Bill>;
  let recorded5m: Recorded[] = [];
  for (const s of ['5m', '1h', 'auto'] as const) {
    log(`dollars: ${script.name} script, ${script.turns.length} turns through the relay, cache lifetime ${s} (simulated clock)`);
    const run = await runRelay(script, s, capTokens, base);
    bills[s] = run.bill;
    if (s === '5m') recorded5m = run.recorded;
  }
  log(`dollars: ${script.name} script, replaying ${recorded5m.length} requests with the system prompt cached only`);
  bills['system-only'] = await replaySystemOnly(recorded5m, script.turns.length);
  const fixed: Strategy[] = ['system-only', '5m', '1h'];
  const bestFixed = fixed.reduce((a, b) => (bills[b].perTurnUsd < bills[a].perTurnUsd ? b : a));
  return {
    name: script.name,
    description: script.description,
    turns: script.turns.length,
    simulatedMinutes: script.turns.reduce((s, t) => s + t.gapMs, 0) / 60_000,
    systemTokens: Math.ceil(script.systemPrompt.length / 4),
    bills,
    bestFixed,
    autoOverBest: bills.auto.perTurnUsd / bills[bestFixed].perTurnUsd,
    autoOver5m: bills.auto.perTurnUsd / bills['5m'].perTurnUsd,
  };
}

function tmpfs(): string | undefined {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}

export async function measureDollars(o: { turns: number; sparseTurns?: number; capTokens: number; base?: string }): Promise<DollarsResult> {
  const scripts = [denseScript(o.turns), sparseScript(o.sparseTurns ?? Math.max(200, o.turns))];
  // Dollars do not depend on the disk: roots on tmpfs when there is one, so six relay runs take seconds, not minutes.
  const base = o.base ?? tmpfs();
  const out: ScriptResult[] = [];
  for (const s of scripts) out.push(await measureScript(s, o.capTokens, base));
  return { capTokens: o.capTokens, model: MODEL, scripts: out };
}
