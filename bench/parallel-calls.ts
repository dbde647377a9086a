// The design the relay does not have, measured without changing it (issue 24): one call per
// session as soon as its envelope arrives, several out at once, each the shared conversation
// (system prompt + every exchange completed so far) + that session's one message. A serial
// relay cannot beat the bound of serial-bound.ts; this is what concurrency buys and costs.
//
// Bench-only: no relay loop, no mailboxes, no commit steps (their share of a wait is row 9a's,
// under 1%). What is real: the SDK through the relay's own adapter (streaming), the request
// and its breakpoints as the relay builds them (engine/journals/conversation.ts request(), the
// TtlChooser with the root's cache.ttl, requestBase), the label as the relay writes it, and
// the fake's latency model and prompt cache. A call's exchange joins the shared history when
// its reply is complete, in the order they complete; calls already out do not see it.
//   waits   real clock, every modelled time × scale (as rows 9): arrival → reply complete;
//   dollars the simulated clock (as rows 10): calls go out at the script's arrival times,
//           each ends at its modelled time, the fake's cache on that clock; and again with
//           every burst's sessions arriving at once, as rows 10 run the relay.
// `sharedBreakpoint` adds one breakpoint where the shared history ends, so the calls of a
// burst can read what the first of them wrote (the relay places none there: serially the
// previous call's new message is always within the lookback).
import path from 'node:path';
import { createAnthropicChat, type ChatClient } from '../src/adapters/anthropic.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { startFakeApi, type FakeApi, type FakeRequest } from '../src/demo/fake-api.js';
import type { LatencyOptions } from '../src/demo/fake-api-latency.js';
import { countTokens } from '../src/demo/fake-api-prompt.js';
import { Conversation, labelFor } from '../src/engine/journals/conversation.js';
import { requestBase } from '../src/engine/turn/projection.js';
import { TtlChooser } from '../src/pricing/cache-lifetime.js';
import type { CacheTtl } from '../src/pricing/cache-rules.js';
import { costOf, lookupPrice, type Usage } from '../src/pricing/prices.js';
import { ensureLayout, type RootPaths } from '../src/protocol/root.js';
import { DEFAULT_MODEL, dollarsOf, type Dollars } from './bill.js';
import { TAG_RE } from './fakes.js';
import type { BurstScript, BurstTurn } from './session-wait-scripts.js';
import { log, makeRoot, now, sleep } from './util.js';

export interface ParallelOptions {
  scale: number;
  seed?: number;
  base?: string;
  sharedBreakpoint?: boolean;
}

export interface ParallelRun {
  script: string;
  sessions: number;
  turns: number;
  scale: number;
  sharedBreakpoint: boolean;
  /** Real clock, divided by scale: arrival → reply complete, ms. */
  waitsMs: number[];
  /** Each call's modelled time on the real clock, unscaled, ms. */
  callMs: number[];
  /** The most calls out at once on the real clock. */
  maxInFlight: number;
  seconds: number;
  /** Simulated clock, the script's arrival times. */
  dollars: Dollars;
  /** The waits the simulated clock models (each call's modelled time: a call starts at its arrival), ms. */
  simWaitsMs: number[];
  simMinutes: number;
  /** Simulated clock, every session of a burst arriving at its start (as rows 10 run the relay). */
  dollarsAtOnce: Dollars;
  /** The largest shared history a call was sent with (tokens) and the cap a relay would summarize at. */
  historyTokensMax: number;
  capTokens: number;
}

const configOf = { model: DEFAULT_MODEL, history: { cap_tokens: 60_000, keep_recent: 4 }, batch: 'off' };

/** The shared conversation and the calls on it: the relay's request builder, without its loop. */
class Parallel {
  readonly conversation: Conversation;
  readonly ttl: TtlChooser;
  readonly calls: Array<{ usage: Usage; summary: boolean }> = [];
  inFlight = 0;
  maxInFlight = 0;
  historyTokensMax = 0;
  private readonly price;

  constructor(
    private readonly paths: RootPaths,
    readonly config: Config,
    private readonly chat: ChatClient,
    private readonly clock: () => number,
    private readonly shared: boolean,
  ) {
    this.conversation = new Conversation(paths.conversation, path.join(paths.state, 'archive'));
    this.price = lookupPrice(config.model).price;
    this.ttl = new TtlChooser({ setting: () => config.cache.ttl, price: () => this.price });
  }

  /** Sends one session's call on the history as it is now; `commit` adds its exchange to the history. */
  async call(t: BurstTurn, tag: number): Promise<{ commit: (at: number) => void }> {
    const user = `${labelFor(t.session, { registered: true })}\n${t.content} #t${tag}#`;
    const at = this.clock();
    let chosen = '5m' as CacheTtl;
    const req = this.conversation.request(user, requestBase(this.config), {
      ttl: (s) => (chosen = this.ttl.choose(at, s.prefixTokens, s.addedTokens, s.minTokens).ttl),
    });
    this.ttl.record(at, chosen);
    const history = req.messages.length - 2;
    if (this.shared && history >= 0 && !req.cacheAt.includes(history)) req.cacheAt = [...req.cacheAt, history].sort((a, b) => a - b);
    const tokens = countTokens(req.system) + req.messages.slice(0, -1).reduce((a, m) => a + countTokens(m.content), 0);
    this.historyTokensMax = Math.max(this.historyTokensMax, tokens);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      const result = await this.chat.complete(req);
      this.calls.push({ usage: result.usage, summary: false });
      return {
        commit: (doneAt) => {
          const all = tokens + countTokens(user) + countTokens(result.text);
          this.conversation.append({
            t: 'turn',
            seq: this.conversation.nextSeq(),
            at: new Date(doneAt).toISOString(),
            session: t.session,
            route: t.session,
            source: 'hook',
            user,
            reply: result.text,
            usage: result.usage,
            cost_usd: costOf(result.usage, this.price),
            model: result.model,
            history_tokens: all,
          });
        },
      };
    } finally {
      this.inFlight--;
    }
  }

  close(): void {
    this.conversation.close();
  }
}

async function open(
  script: BurstScript,
  o: ParallelOptions,
  latency: LatencyOptions,
  clock: () => number,
): Promise<{ p: Parallel; fake: FakeApi; close: () => Promise<void> }> {
  const replies = script.rounds.flatMap((r) => r.turns.map((t) => t.reply));
  const fake = await startFakeApi({
    latency,
    now: clock,
    respond: (req: FakeRequest) => {
      const m = TAG_RE.exec(req.lastUserText);
      return { text: m ? replies[Number(m[1])] : 'Carry on.' };
    },
  });
  const env = { ANTHROPIC_API_KEY: 'bench-not-a-real-key', ANTHROPIC_BASE_URL: fake.url };
  const paths = makeRoot({ base: o.base, sessions: script.sessions, env, config: configOf });
  ensureLayout(paths);
  const { config } = loadConfig(paths.config);
  const chat = createAnthropicChat({ apiKey: env.ANTHROPIC_API_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 600_000 });
  const p = new Parallel(paths, config, chat, clock, o.sharedBreakpoint ?? false);
  return {
    p,
    fake,
    async close() {
      p.close();
      await fake.close();
    },
  };
}

async function realClock(script: BurstScript, o: ParallelOptions) {
  const arrivals: FakeRequest[] = [];
  const { p, fake, close } = await open(script, o, { scale: o.scale, seed: o.seed ?? 1 }, Date.now);
  fake.onRequest((req) => void arrivals.push(req));
  const waitsMs: number[] = [];
  const t0Run = now();
  try {
    let i = 0;
    for (const round of script.rounds) {
      await Promise.all(
        round.turns.map((t) => {
          const tag = i++;
          return (async () => {
            await sleep(t.offsetMs * o.scale);
            const t0 = now();
            const { commit } = await p.call(t, tag);
            commit(Date.now());
            waitsMs.push((now() - t0) / o.scale);
          })();
        }),
      );
      await sleep(50);
    }
  } finally {
    await close();
  }
  return {
    waitsMs,
    callMs: arrivals.filter((a) => a.modelled).map((a) => a.modelled!.totalMs / o.scale),
    maxInFlight: p.maxInFlight,
    seconds: (now() - t0Run) / 1000,
  };
}

/** On the simulated clock: calls in order of arrival, each ending its modelled time later. */
async function simulatedClock(script: BurstScript, o: ParallelOptions, atOnce: boolean) {
  const start = Date.parse('2026-05-04T09:00:00Z');
  let simNow = start;
  // The modelled time of the call being made (the fake reports it through advance()).
  const modelled = { ms: 0 };
  const { p, close } = await open(
    script,
    o,
    { clock: 'simulated', seed: o.seed ?? 1, advance: (ms) => void (modelled.ms = ms) },
    () => simNow,
  );
  const waitsMs: number[] = [];
  const pending: Array<{ end: number; commit: (at: number) => void }> = [];
  // Exchanges join the history in the order their calls end, up to `until`.
  const settle = (until: number) => {
    pending.sort((a, b) => a.end - b.end);
    while (pending.length && pending[0].end <= until) {
      const done = pending.shift()!;
      done.commit(done.end);
    }
  };
  try {
    let i = 0;
    for (const round of script.rounds) {
      simNow += round.gapMs;
      const roundStart = simNow;
      let end = roundStart;
      for (const t of round.turns) {
        const at = roundStart + (atOnce ? 0 : t.offsetMs);
        settle(at);
        simNow = at;
        modelled.ms = 0;
        const { commit } = await p.call(t, i++);
        if (!(modelled.ms > 0)) throw new Error('bench: parallel calls: the fake modelled no time for a call');
        pending.push({ end: at + modelled.ms, commit });
        waitsMs.push(modelled.ms);
        end = Math.max(end, at + modelled.ms);
      }
      settle(Infinity);
      simNow = end;
    }
  } finally {
    await close();
  }
  return {
    dollars: dollarsOf(p.calls, p.config.model),
    waitsMs,
    simMinutes: (simNow - start) / 60_000,
    historyTokensMax: p.historyTokensMax,
    capTokens: p.config.history.cap_tokens,
  };
}

export async function measureParallel(script: BurstScript, o: ParallelOptions): Promise<ParallelRun> {
  const what = o.sharedBreakpoint ? ', a breakpoint on the shared history' : '';
  log(`parallel calls: ${script.name}, ${script.rounds.length} rounds, real clock ×${o.scale}${what}`);
  const real = await realClock(script, o);
  log(`parallel calls: ${script.name}, dollars on the simulated clock${what}`);
  const sim = await simulatedClock(script, o, false);
  const atOnce = await simulatedClock(script, o, true);
  return {
    script: script.name,
    sessions: script.sessions.length,
    turns: real.waitsMs.length,
    scale: o.scale,
    sharedBreakpoint: o.sharedBreakpoint ?? false,
    ...real,
    dollars: sim.dollars,
    simWaitsMs: sim.waitsMs,
    simMinutes: sim.simMinutes,
    dollarsAtOnce: atOnce.dollars,
    historyTokensMax: Math.max(sim.historyTokensMax, atOnce.historyTokensMax),
    capTokens: sim.capTokens,
  };
}
