// Dollars: one scripted 200-turn conversation (a ~3,000-token system prompt, 3
// sessions, messages of 200-1,500 tokens, replies of 100-600, 20-90 s apart with an
// occasional gap past the 5-minute cache TTL) billed two ways by the fake, whose
// clock is simulated:
//   (b) relay-tui: the real relay in this process, its own requests (system prompt and
//       a moving conversation breakpoint cached), its own summarization;
//   (a) the earlier Python relay's strategy: the very same requests, in the same
//       order at the same simulated times, with cache_control only on the system
//       block, replayed against a second fake with its own cache.
// So the two differ only in what is marked cacheable. Priced with prices.ts.
import fs from 'node:fs';
import path from 'node:path';
import { normaliseUsage, costOf, lookupPrice, type Usage } from '../engine/prices.js';
import { readJsonl } from '../adapters/fs-atomic.js';
import type { LedgerEntry } from '../engine/ledger.js';
import { DEFAULT_SYSTEM_PROMPT } from '../config/schema.js';
import { startFakeApi } from '../demo/fake-api.js';
import { startFakeNtfy } from '../demo/fake-ntfy.js';
import { openRelay } from '../open-relay.js';
import { TAG_RE } from './fakes.js';
import { log, makeRoot, prose, rng, writeEnvelope } from './util.js';

const MODEL = 'claude-opus-4-7';

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
  output: number;
  cacheReadShare: number;
}

export interface DollarsResult {
  turns: number;
  longGaps: number;
  simulatedMinutes: number;
  capTokens: number;
  systemTokens: number;
  a: Bill;
  b: Bill;
  ratio: number;
}

interface Recorded {
  body: any;
  at: number;
  reply: string;
  summary: boolean;
}

function bill(entries: Array<{ usage: Usage; summary: boolean }>, turns: number): Bill {
  const price = lookupPrice(MODEL).price;
  const b: Bill = { turns, summaries: 0, turnCostUsd: 0, summaryCostUsd: 0, totalUsd: 0, perTurnUsd: 0, input: 0, cacheRead: 0, cacheWrite: 0, output: 0, cacheReadShare: 0 };
  for (const e of entries) {
    const cost = costOf(e.usage, price);
    if (e.summary) {
      b.summaries++;
      b.summaryCostUsd += cost;
    } else b.turnCostUsd += cost;
    b.input += e.usage.input_tokens;
    b.cacheRead += e.usage.cache_read_input_tokens;
    b.cacheWrite += e.usage.cache_creation_input_tokens;
    b.output += e.usage.output_tokens;
  }
  b.totalUsd = b.turnCostUsd + b.summaryCostUsd;
  b.perTurnUsd = b.totalUsd / turns;
  b.cacheReadShare = b.cacheRead / (b.input + b.cacheRead + b.cacheWrite);
  return b;
}

/** The body with cache_control on the system block only: the Python relay's requests. */
export function systemOnlyCaching(body: any): any {
  const plain = (content: any) => (Array.isArray(content) ? content.map((b: any) => (b?.type === 'text' ? b.text : '')).join('') : content);
  const system = Array.isArray(body.system) ? body.system.map((b: any) => ({ type: 'text', text: b.text, cache_control: { type: 'ephemeral' } })) : [{ type: 'text', text: body.system, cache_control: { type: 'ephemeral' } }];
  return { model: body.model, max_tokens: body.max_tokens, system, messages: body.messages.map((m: any) => ({ role: m.role, content: plain(m.content) })) };
}

export async function measureDollars(o: { turns: number; capTokens: number; base?: string }): Promise<DollarsResult> {
  const r = rng(2026);
  const sessions = ['api', 'ui', 'infra'];
  // ~3,000 tokens under the fake's tokenizer (4 characters a token).
  const systemPrompt = `${DEFAULT_SYSTEM_PROMPT}\n\nStanding project context:\n${prose(r, 12_000 - DEFAULT_SYSTEM_PROMPT.length - 30)}`;
  const script = Array.from({ length: o.turns }, (_, i) => {
    const longGap = i > 0 && i % 40 === 25;
    return {
      session: sessions[Math.floor(r() * sessions.length)],
      content: prose(r, 4 * (200 + Math.floor(r() * 1300))),
      reply: prose(r, 4 * (100 + Math.floor(r() * 500))),
      gapMs: i === 0 ? 0 : longGap ? (330 + Math.floor(r() * 300)) * 1000 : (20 + Math.floor(r() * 70)) * 1000,
      longGap,
    };
  });

  let simNow = Date.parse('2026-05-04T09:00:00Z');
  const recorded: Recorded[] = [];
  const summaryText = prose(r, 4 * 1000);
  const fakeB = await startFakeApi({
    now: () => simNow,
    respond: (req) => {
      const summary = req.lastUserText.startsWith('[relay]');
      const m = TAG_RE.exec(req.lastUserText);
      const reply = summary ? summaryText : m ? script[Number(m[1])].reply : 'ok';
      recorded.push({ body: req.body, at: simNow, reply, summary });
      return { text: reply };
    },
  });
  fakeB.onRequest(() => void fakeB.requests.splice(0));
  const ntfy = await startFakeNtfy();
  const env = { ANTHROPIC_API_KEY: 'bench-not-a-real-key', ANTHROPIC_BASE_URL: fakeB.url, NTFY_SERVER: ntfy.url, NTFY_TOPIC: 'relay-bench-dollars' };
  const paths = makeRoot({ base: o.base, sessions, env, config: { system_prompt: systemPrompt, history: { cap_tokens: o.capTokens, keep_recent: 10 } } });
  const opened = await openRelay({ root: paths.root, interactive: false, realEnv: {}, envOverrides: env });
  let replayNow = 0;
  let replayIndex = 0;
  const fakeA = await startFakeApi({ now: () => replayNow, respond: () => ({ text: recorded[replayIndex].reply }) });
  fakeA.onRequest(() => void fakeA.requests.splice(0));
  try {
    await opened.relay.start();
    log(`dollars: ${o.turns} scripted turns through the relay (simulated clock)`);
    for (let i = 0; i < o.turns; i++) {
      const t = script[i];
      simNow += t.gapMs;
      const done = new Promise<void>((resolve, reject) => {
        const off = opened.relay.on('dispatch:written', (p) => {
          if (p.session !== t.session) return;
          off();
          clearTimeout(timer);
          resolve();
        });
        const timer = setTimeout(() => reject(new Error(`bench: dollars turn ${i} did not complete`)), 30_000);
      });
      writeEnvelope(paths, t.session, `${t.content} #t${i}#`, { timestamp: new Date(simNow).toISOString() });
      await done;
      fs.unlinkSync(path.join(paths.dispatch, t.session, 'input.txt'));
    }
    await opened.close();
    // Billed calls only (the ledger may also hold other kinds of lines, e.g. reservations).
    const ledger = readJsonl<LedgerEntry & { t?: string }>(paths.ledger).records.filter((e) => !e.t && e.usage && (e.kind === 'turn' || e.kind === 'summary'));
    const b = bill(ledger.map((e) => ({ usage: e.usage, summary: e.kind === 'summary' })), o.turns);
    if (ledger.length !== recorded.length) throw new Error(`bench: the ledger has ${ledger.length} billed calls, the fake saw ${recorded.length}`);

    log(`dollars: replaying ${recorded.length} requests with the system prompt cached only`);
    const aEntries: Array<{ usage: Usage; summary: boolean }> = [];
    for (replayIndex = 0; replayIndex < recorded.length; replayIndex++) {
      const rec = recorded[replayIndex];
      replayNow = rec.at;
      const res = await fetch(`${fakeA.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(systemOnlyCaching(rec.body)) });
      if (!res.ok) throw new Error(`bench: replay ${replayIndex} failed: ${res.status} ${await res.text()}`);
      const msg = (await res.json()) as { usage: Partial<Usage> };
      aEntries.push({ usage: normaliseUsage(msg.usage as any), summary: rec.summary });
    }
    const a = bill(aEntries, o.turns);
    return {
      turns: o.turns,
      longGaps: script.filter((s) => s.longGap).length,
      simulatedMinutes: script.reduce((s, t) => s + t.gapMs, 0) / 60_000,
      capTokens: o.capTokens,
      systemTokens: Math.ceil(systemPrompt.length / 4),
      a,
      b,
      ratio: b.perTurnUsd / a.perTurnUsd,
    };
  } finally {
    await opened.close();
    await fakeA.close();
    await fakeB.close();
    await ntfy.close();
  }
}
