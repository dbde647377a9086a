// The least a session can wait when chat-Claude's calls are serial (one conversation: one
// call out at a time, batched or not), under the fake's latency model and for the bench's own
// burst scripts. Whatever the design, every reply of a burst is written by the one model at
// its output speed, one token after another: the burst's last reply cannot be complete before
// its first arrival + the time to the first token + (every reply's output tokens) / speed.
//
// Per session-turn, a bound on the k-th longest wait of a burst (so on any percentile of the
// waits), from two facts that hold for every serial order:
//  - the reply finished k-th from last is complete no earlier than the first arrival + first
//    token + (all the burst's output but the k-1 largest replies) / speed; and the session it
//    is for arrived no later than the burst's last arrival;
//  - a session waits at least a first token + its own reply / speed.
// The nominal speed is used (no jitter: the fake's jitter makes single calls faster or slower,
// not the model) and uncached input is taken as free, so the figure is a floor, not a forecast.
import { speedOf } from '../src/demo/fake-api-latency.js';
import { countTokens } from '../src/demo/fake-api-prompt.js';
import type { BurstScript } from './session-wait-scripts.js';
import { pct } from './util.js';

export interface SerialBound {
  script: string;
  sessions: number;
  model: string;
  firstTokenMs: number;
  tokensPerS: number;
  /** Per burst: first token + Σ output tokens / speed, ms: the earliest its last reply is complete, from its first arrival. */
  burstMs: number[];
  /** Per burst: its last arrival − its first, ms. */
  spreadMs: number[];
  /** Per burst: its replies' output tokens. */
  outputTokens: number[];
  /** A lower bound for every session-turn's wait, ms (the k-th largest of a burst bounds its k-th longest wait). */
  waitBoundsMs: number[];
  /** The 95th percentile of those bounds: no serial design's p95 wait can be below it. */
  p95BoundMs: number;
  /** The same for the longest wait. */
  maxBoundMs: number;
}

export function serialBound(script: BurstScript, model: string): SerialBound {
  const s = speedOf(model);
  const perTokenMs = 1000 / s.outputTokensPerS;
  const burstMs: number[] = [];
  const spreadMs: number[] = [];
  const outputTokens: number[] = [];
  const waitBoundsMs: number[] = [];
  for (const round of script.rounds) {
    const outs = round.turns.map((t) => countTokens(t.reply));
    const total = outs.reduce((a, x) => a + x, 0);
    const offsets = round.turns.map((t) => t.offsetMs);
    const spread = Math.max(...offsets) - Math.min(...offsets);
    burstMs.push(s.firstTokenMs + total * perTokenMs);
    spreadMs.push(spread);
    outputTokens.push(total);
    const largest = [...outs].sort((a, b) => b - a);
    const own = outs.map((o) => s.firstTokenMs + o * perTokenMs).sort((a, b) => b - a);
    let later = 0;
    for (let k = 0; k < outs.length; k++) {
      const lastK = s.firstTokenMs + (total - later) * perTokenMs - spread;
      waitBoundsMs.push(Math.max(lastK, own[k]));
      later += largest[k];
    }
  }
  return {
    script: script.name,
    sessions: script.sessions.length,
    model,
    firstTokenMs: s.firstTokenMs,
    tokensPerS: s.outputTokensPerS,
    burstMs,
    spreadMs,
    outputTokens,
    waitBoundsMs,
    p95BoundMs: pct(waitBoundsMs, 95),
    maxBoundMs: Math.max(...waitBoundsMs),
  };
}
