// A supervised day: the sparse 24-hour script (bench/dollars-scripts.ts, 200 turns from 4
// sessions) through the real relay on the simulated clock, every call taking its modelled
// time (fake-api-latency.ts), billed at the default model's prices from the relay's ledger.
// Instrumented per call, to say where the cache writes come from: the breakpoints the
// relay placed, how much of the prompt is new since the previous call, and how much of
// what was written had been in the previous prompt already (a rewrite).
import type { CacheTtlSetting } from '../src/pricing/cache-lifetime.js';
import { answerBatch } from '../src/demo/fake-api-batch.js';
import type { Usage } from '../src/pricing/prices.js';
import type { Evidence } from '../src/protocol/evidence.js';
import { countTokens, promptBlocks, type PromptBlock } from '../src/demo/fake-api-prompt.js';
import { billedCalls, DEFAULT_MODEL, dollarsOf, openBenchRelay, takeReplies, type Dollars } from './bill.js';
import { sparseScript, type Script } from './dollars-scripts.js';
import { TAG_RE } from './fakes.js';
import { log, writeEnvelope } from './util.js';

export interface DayOptions {
  model?: string;
  ttl?: CacheTtlSetting;
  capTokens?: number;
  keepRecent?: number;
  turns?: number;
  /** Relay batching (issue 24 item 3), once its config key exists. */
  batch?: boolean;
  base?: string;
  script?: Script;
  /** Attached to every envelope (issue 27: what the evidence digest costs). */
  evidence?: Evidence;
}

export interface DayCall {
  summary: boolean;
  /** Simulated ms since the day's start when the call went out. */
  atMs: number;
  /** The turn's own new tokens: the first call's whole prompt; then the previous reply and the new message (0 for a summary). */
  ownTokens: number;
  /** Simulated minutes since the previous call's start. */
  gapMin: number;
  blocks: number;
  /** Breakpoints as block indices (0 = the first system block) with their lifetime. */
  breakpoints: string[];
  promptTokens: number;
  /** Tokens after the prefix this prompt shares with the previous call's. */
  newTokens: number;
  usage: Usage;
  /** Written tokens beyond the turn's own new ones. */
  rewritten: number;
}

export interface DayResult {
  label: string;
  model: string;
  turns: number;
  /** The script's system prompt, in the fake's tokens. */
  systemTokens: number;
  simMinutes: number;
  dollars: Dollars;
  /** Dollars scaled to 24 simulated hours. */
  perDayUsd: number;
  calls: DayCall[];
  /**
   * Where the cache writes come from, tokens: each turn's own new tokens (the previous reply
   * and the new message); the rest by what preceded the call: the first call, a summary, a
   * gap since the previous call of over an hour, 5 minutes to an hour, under 5 minutes; and
   * writes by the summary calls themselves.
   */
  writes: {
    ownNew: number;
    firstCall: number;
    afterSummary: number;
    gapOver1h: number;
    gap5mTo1h: number;
    gapUnder5m: number;
    summaryCalls: number;
    total: number;
  };
}

function sharedPrefix(a: PromptBlock[], b: PromptBlock[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i].role === b[i].role && a[i].text === b[i].text) i++;
  return i;
}

export async function measureDay(o: DayOptions, label = 'today'): Promise<DayResult> {
  const model = o.model ?? DEFAULT_MODEL;
  const script = o.script ?? sparseScript(o.turns ?? 200);
  const start = Date.parse('2026-05-04T09:00:00Z');
  let simNow = start;
  const seen: Array<{ body: any; at: number; summary: boolean }> = [];
  const b = await openBenchRelay({
    sessions: script.sessions,
    base: o.base,
    now: () => simNow,
    config: {
      model,
      system_prompt: script.systemPrompt,
      history: { cap_tokens: o.capTokens ?? 60_000, keep_recent: o.keepRecent ?? 4 },
      cache: { ttl: o.ttl ?? 'auto' },
      batch: o.batch ? { max_sessions: 8 } : 'off',
    },
    fake: {
      now: () => simNow,
      latency: { clock: 'simulated', seed: 3, advance: (ms) => void (simNow += ms) },
      respond: (req) => {
        const summary = req.lastUserText.startsWith('[relay]');
        const one = (text: string) => {
          const m = TAG_RE.exec(text);
          return m ? script.turns[Number(m[1])].reply : 'ok';
        };
        seen.push({ body: req.body, at: simNow, summary });
        return { text: summary ? script.summaryText : (answerBatch(req.lastUserText, (p) => one(p.text)) ?? one(req.lastUserText)) };
      },
    },
  });
  b.fake.onRequest(() => void b.fake.requests.splice(0));
  log(
    `day: ${label}: ${script.turns.length} turns, ${model}, ttl ${o.ttl ?? 'auto'}, cap ${o.capTokens ?? 60_000}, keep ${o.keepRecent ?? 4} (simulated clock)`,
  );
  let taken: (s: string) => void = () => {};
  const off = takeReplies(b, (s) => taken(s));
  try {
    for (let i = 0; i < script.turns.length; i++) {
      const t = script.turns[i];
      simNow += t.gapMs;
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`bench: day (${label}) turn ${i} did not complete`)), 30_000);
        taken = (s) => {
          if (s !== t.session) return;
          clearTimeout(timer);
          resolve();
        };
      });
      writeEnvelope(b.paths, t.session, `${t.content} #t${i}#`, {
        timestamp: new Date(simNow).toISOString(),
        ...(o.evidence ? { evidence: o.evidence } : {}),
      });
      await done;
    }
  } finally {
    off();
    await b.close();
  }
  const ledger = billedCalls(b.paths);
  if (ledger.length !== seen.length)
    throw new Error(`bench: day: the ledger has ${ledger.length} billed calls, the fake saw ${seen.length}`);
  const calls: DayCall[] = [];
  const writes: DayResult['writes'] = {
    ownNew: 0,
    firstCall: 0,
    afterSummary: 0,
    gapOver1h: 0,
    gap5mTo1h: 0,
    gapUnder5m: 0,
    summaryCalls: 0,
    total: 0,
  };
  let prev: PromptBlock[] = [];
  let prevAt = start;
  let afterSummary = false;
  for (let k = 0; k < seen.length; k++) {
    const blocks = promptBlocks(seen[k].body);
    const shared = sharedPrefix(prev, blocks);
    const tokens = blocks.map((x) => x.tokens);
    const total = tokens.reduce((a, x) => a + x, 0);
    const sharedTokens = tokens.slice(0, shared).reduce((a, x) => a + x, 0);
    const u = ledger[k].usage;
    const w = u.cache_creation_input_tokens;
    // A turn's own new tokens: the previous reply and the new message (the last two blocks).
    const own =
      k === 0 || seen[k].summary
        ? 0
        : Math.min(
            w,
            tokens.slice(-2).reduce((a, x) => a + x, 0),
          );
    const gapMin = (seen[k].at - prevAt) / 60_000;
    calls.push({
      summary: seen[k].summary,
      atMs: seen[k].at - start,
      ownTokens: seen[k].summary ? 0 : k === 0 ? total : tokens.slice(-2).reduce((a, x) => a + x, 0),
      gapMin,
      blocks: blocks.length,
      breakpoints: blocks.flatMap((x, i) => (x.ttl ? [`${i}:${x.ttl}`] : [])),
      promptTokens: total,
      newTokens: total - sharedTokens,
      usage: u,
      rewritten: w - own,
    });
    writes.total += w;
    writes.ownNew += own;
    const extra = w - own;
    if (k === 0) writes.firstCall += extra;
    else if (seen[k].summary) writes.summaryCalls += extra;
    else if (afterSummary) writes.afterSummary += extra;
    else if (gapMin >= 60) writes.gapOver1h += extra;
    else if (gapMin >= 5) writes.gap5mTo1h += extra;
    else writes.gapUnder5m += extra;
    afterSummary = seen[k].summary;
    // A summary's prompt is never reused: the next turn follows on from the turn before it.
    if (!seen[k].summary) prev = blocks;
    prevAt = seen[k].at;
  }
  const dollars = dollarsOf(ledger, model);
  const simMinutes = (simNow - start) / 60_000;
  return {
    label,
    model,
    turns: script.turns.length,
    systemTokens: countTokens(script.systemPrompt),
    simMinutes,
    dollars,
    perDayUsd: (dollars.totalUsd * 1440) / simMinutes,
    calls,
    writes,
  };
}

/** The levers of issue 24 item 4 that need no engine change, each a day of its own, run side by side (simulated clock). */
export const CONFIG_LEVERS: Array<{ label: string; o: DayOptions }> = [
  { label: 'cache.ttl 1h always', o: { ttl: '1h' } },
  // The defaults before issue 24 (cap 150,000, keep 10), and the caps around today's 60,000.
  { label: 'the old defaults: history.cap_tokens 150,000, keep_recent 10', o: { capTokens: 150_000, keepRecent: 10 } },
  { label: 'history.cap_tokens 80,000 (keep_recent 4)', o: { capTokens: 80_000 } },
  { label: 'history.cap_tokens 40,000 (keep_recent 4)', o: { capTokens: 40_000 } },
  { label: 'keep_recent 10 (cap 60,000)', o: { keepRecent: 10 } },
];

export async function measureDays(o: { base?: string; batch?: boolean }): Promise<{ today: DayResult; levers: DayResult[] }> {
  const [today, ...levers] = await Promise.all([
    measureDay({ base: o.base, batch: o.batch }, o.batch ? 'batch on' : 'today (cache.ttl auto, cap 60,000, keep 4)'),
    ...CONFIG_LEVERS.map((l) => measureDay({ ...l.o, base: o.base, batch: o.batch }, l.label)),
  ]);
  return { today, levers };
}
