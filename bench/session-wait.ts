// What a Claude Code session waits for its review, and what a session-turn costs, with the
// fake answering at a real model's speed (src/demo/fake-api-latency.ts):
//   wait    on the real clock, every modelled time scaled by `scale` so minutes of calls run
//           in seconds: from the envelope's rename into queue/ to the relay's
//           `dispatch:written` for that session (input.txt durable), then the reply is taken;
//   overhead the wait minus the fake's modelled time inside it (the overlap of every call's
//           [arrival, arrival + modelled time] with the wait): the relay's own share, the
//           loopback HTTP, the SDK and the fake's timers being late included;
//   dollars the same script again on the simulated clock, unscaled (rounds minutes apart,
//           every call advancing the clock by its modelled time), billed from the ledger.
// `batch` turns on the relay's batching (issue 24 item 3); without it the roots say `batch: off`.
import type { FakeRequest } from '../src/demo/fake-api.js';
import { answerBatch } from '../src/demo/fake-api-batch.js';
import { DEFAULT_MODEL, dollarsOf, billedCalls, openBenchRelay, takeReplies, type Dollars } from './bill.js';
import type { BurstScript } from './session-wait-scripts.js';
import { TAG_RE } from './fakes.js';
import { log, now, sleep, writeEnvelope } from './util.js';

export interface WaitOptions {
  /** Multiplies every modelled time on the real clock (0.1: a 10 s call takes 1 s). */
  scale: number;
  /** Relay batching (issue 24 item 3): `batch: {max_sessions: 8}` in the bench root's config, else `batch: off`. */
  batch: boolean;
  seed?: number;
  base?: string;
}

export interface WaitRun {
  script: string;
  sessions: number;
  turns: number;
  scale: number;
  batch: boolean;
  /** Real-clock waits, divided by scale: the unscaled equivalent, ms. */
  waitsMs: number[];
  /** The relay's share of each wait, ms, NOT divided by scale (it does not scale). */
  overheadMs: number[];
  /** Each turn call's modelled time, unscaled, ms. */
  callMs: number[];
  /** How much later than modelled each call's last byte left the fake, ms (its timers firing late). */
  fakeLateMs: number[];
  /** Real seconds the run took. */
  seconds: number;
  dollars: Dollars;
  /** Simulated minutes of the dollar run. */
  simMinutes: number;
}

const configFor = (batch: boolean) => ({
  model: DEFAULT_MODEL,
  history: { cap_tokens: 60_000, keep_recent: 4 },
  batch: batch ? { max_sessions: 8 } : 'off',
});

function responder(script: BurstScript) {
  const replies = script.rounds.flatMap((r) => r.turns.map((t) => t.reply));
  return (req: FakeRequest) => {
    if (req.lastUserText.startsWith('[relay]')) return { text: 'Summary: every session reported progress; nothing is pending.' };
    const one = (text: string) => {
      const m = TAG_RE.exec(text);
      return m ? replies[Number(m[1])] : 'Carry on.';
    };
    return { text: answerBatch(req.lastUserText, (p) => one(p.text)) ?? one(req.lastUserText) };
  };
}

async function realClock(script: BurstScript, o: WaitOptions): Promise<Omit<WaitRun, 'dollars' | 'simMinutes'>> {
  const arrivals: Array<{ at: number; req: FakeRequest }> = [];
  const b = await openBenchRelay({
    sessions: script.sessions,
    base: o.base,
    config: configFor(o.batch),
    fake: { respond: responder(script), latency: { scale: o.scale, seed: o.seed ?? 1 } },
  });
  b.fake.onRequest((req) => void arrivals.push({ at: now(), req }));
  const pending = new Map<string, (t: number) => void>();
  const off = takeReplies(b, (s) => {
    const t = now();
    pending.get(s)?.(t);
    pending.delete(s);
  });
  const spans: Array<{ t0: number; t1: number }> = [];
  const t0Run = now();
  try {
    let i = 0;
    for (const round of script.rounds) {
      const done = round.turns.map((t) => {
        const tag = i++;
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`bench: session wait, ${script.name}: turn ${tag} never delivered`)), 120_000);
          setTimeout(() => {
            let t0 = 0;
            pending.set(t.session, (t1) => {
              clearTimeout(timer);
              spans.push({ t0, t1 });
              resolve();
            });
            t0 = writeEnvelope(b.paths, t.session, `${t.content} #t${tag}#`);
          }, t.offsetMs * o.scale);
        });
      });
      await Promise.all(done);
      await sleep(50);
    }
  } finally {
    off();
    await b.close();
  }
  // The fake's time inside a wait: what it was modelled to take, or what it took when its timers
  // fired late (a few ms a delta on a busy machine): the fake's own lateness is not the relay's.
  const served = arrivals.map((a) => ({ from: a.at, to: a.at + Math.max(a.req.servedMs ?? 0, a.req.modelled?.totalMs ?? 0) }));
  const inside = (s: { t0: number; t1: number }) =>
    served.reduce((sum, m) => sum + Math.max(0, Math.min(s.t1, m.to) - Math.max(s.t0, m.from)), 0);
  const late = arrivals.filter((a) => a.req.modelled && a.req.servedMs !== undefined).map((a) => a.req.servedMs! - a.req.modelled!.totalMs);
  return {
    script: script.name,
    sessions: script.sessions.length,
    turns: spans.length,
    scale: o.scale,
    batch: o.batch,
    waitsMs: spans.map((s) => (s.t1 - s.t0) / o.scale),
    overheadMs: spans.map((s) => s.t1 - s.t0 - inside(s)),
    callMs: arrivals
      .filter((a) => a.req.modelled && !a.req.lastUserText.startsWith('[relay]'))
      .map((a) => a.req.modelled!.totalMs / o.scale),
    seconds: (now() - t0Run) / 1000,
    fakeLateMs: late,
  };
}

/** The same script on the simulated clock, unscaled: what it costs. */
async function simulatedClock(script: BurstScript, o: WaitOptions): Promise<{ dollars: Dollars; simMinutes: number }> {
  const start = Date.parse('2026-05-04T09:00:00Z');
  let simNow = start;
  const b = await openBenchRelay({
    sessions: script.sessions,
    base: o.base,
    config: configFor(o.batch),
    now: () => simNow,
    fake: {
      respond: responder(script),
      now: () => simNow,
      latency: { clock: 'simulated', seed: o.seed ?? 1, advance: (ms) => void (simNow += ms) },
    },
  });
  b.fake.onRequest(() => void b.fake.requests.splice(0));
  let waiting = new Set<string>();
  let roundDone: () => void = () => {};
  const off = takeReplies(b, (s) => {
    waiting.delete(s);
    if (waiting.size === 0) roundDone();
  });
  try {
    let i = 0;
    for (const round of script.rounds) {
      simNow += round.gapMs;
      waiting = new Set(round.turns.map((t) => t.session));
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`bench: ${script.name}: a round never finished`)), 120_000);
        roundDone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      // Every session of the burst is in queue/ before the first call returns (the burst is within one call).
      for (const t of round.turns) writeEnvelope(b.paths, t.session, `${t.content} #t${i++}#`);
      await done;
    }
  } finally {
    off();
    await b.close();
  }
  return { dollars: dollarsOf(billedCalls(b.paths), DEFAULT_MODEL), simMinutes: (simNow - start) / 60_000 };
}

export async function measureSessionWait(script: BurstScript, o: WaitOptions): Promise<WaitRun> {
  log(`session wait: ${script.name}, ${script.rounds.length} rounds, real clock ×${o.scale}${o.batch ? ', batch on' : ''}`);
  const real = await realClock(script, o);
  log(`session wait: ${script.name}, dollars on the simulated clock`);
  const sim = await simulatedClock(script, o);
  return { ...real, ...sim };
}
