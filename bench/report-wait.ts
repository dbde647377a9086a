// The session-wait and supervised-day rows (9, 10) of BENCHMARKS.md, and how they were measured.
import { DEFAULT_MODEL } from './bill.js';
import type { DayResult } from './day.js';
import type { WaitRun } from './session-wait.js';
import { pct } from './util.js';

export interface WaitRow {
  n: string;
  figure: string;
  value: string;
  target: string;
  ok?: boolean;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const usd = (x: number) => `$${x.toFixed(4)}`;
const k = (n: number) => `${(n / 1000).toFixed(0)}k`;

export function sessionWaitRows(runs: WaitRun[]): WaitRow[] {
  const out: WaitRow[] = [];
  for (const r of runs) {
    const call = pct(r.callMs, 50);
    const p95 = pct(r.waitsMs, 95);
    const mode = r.batch ? 'batched' : 'one-by-one';
    // The target is the relay's (batching on, its default); the one-by-one row is what it is compared with.
    const burst = r.sessions >= 8 && r.batch;
    out.push({
      n: '9',
      figure: `session wait, ${r.script} (${r.turns} session-turns, ${mode}): p50 / p95 / max`,
      value: `${s(pct(r.waitsMs, 50))} / ${s(p95)} / ${s(Math.max(...r.waitsMs))} (one call: ${s(call)} median; p95 = ${(p95 / call).toFixed(1)}× one call)`,
      target: burst ? 'p95 ≤ 1.5× one call' : '—',
      ...(burst ? { ok: p95 <= 1.5 * call } : {}),
    });
  }
  for (const r of runs) {
    const o50 = pct(r.overheadMs, 50);
    const w50 = pct(r.waitsMs, 50);
    out.push({
      n: '9a',
      figure: `↳ relay overhead (wait − the fake's modelled time), ${r.script} (${r.batch ? 'batched' : 'one-by-one'}): p50`,
      value: `${o50.toFixed(1)} ms = ${((100 * o50) / w50).toFixed(2)}% of the p50 wait (the fake's timers: ${pct(r.fakeLateMs, 50).toFixed(1)} ms late a call at p50, not counted)`,
      target: '≤ 1% of the wait at p50',
      ok: o50 <= 0.01 * w50,
    });
  }
  for (const r of runs) {
    const per = r.dollars.totalUsd / r.turns;
    // Batched against one by one on the same script: the bursts (8 sessions) ≥ 30% cheaper, the others not dearer.
    const base = r.batch ? runs.find((x) => !x.batch && x.script === r.script) : undefined;
    const basePer = base ? base.dollars.totalUsd / base.turns : NaN;
    const bursty = r.sessions >= 8;
    out.push({
      n: '10',
      figure: `dollars per session-turn, ${r.script} (${r.batch ? 'batched' : 'one-by-one'}, default model, simulated clock, ${r.simMinutes.toFixed(0)} min)`,
      value: base ? `${usd(per)} (${((100 * (per - basePer)) / basePer).toFixed(0)}% against one by one)` : usd(per),
      target: base ? (bursty ? '≥ 30% below one by one' : 'not above one by one') : '—',
      ...(base ? { ok: bursty ? per <= 0.7 * basePer : per <= basePer * 1.005 } : {}),
    });
  }
  return out;
}

export function dayRows(d: DayResult): WaitRow[] {
  const w = d.writes;
  return [
    {
      n: '11',
      figure: `a supervised day, ${d.model}${d.model === DEFAULT_MODEL ? ' (the default)' : ''}, sparse script (${d.turns} turns, ${(d.simMinutes / 60).toFixed(1)} simulated hours, scaled to 24 h)`,
      value: `${usd(d.perDayUsd)} (reads ${usd(d.dollars.readUsd)}, 1 h writes ${usd(d.dollars.write1hUsd)}, 5 min writes ${usd(d.dollars.write5mUsd)}, output ${usd(d.dollars.outputUsd)}, uncached ${usd(d.dollars.inputUsd)})`,
      target: '≤ $3',
      ok: d.perDayUsd <= 3,
    },
    {
      n: '11',
      figure: '↳ dollars per session-turn on that day',
      value: usd(d.dollars.totalUsd / d.turns),
      target: '—',
    },
    {
      n: '11a',
      figure:
        '↳ cache writes: the turns’ own new tokens / beyond them after the first call, a summary, a gap > 1 h, 5 min-1 h, < 5 min, in summary calls',
      value: `${k(w.ownNew)} / ${k(w.firstCall)}, ${k(w.afterSummary)}, ${k(w.gapOver1h)}, ${k(w.gap5mTo1h)}, ${k(w.gapUnder5m)}, ${k(w.summaryCalls)} (total ${k(w.total)}; read ${k(d.dollars.cacheRead)})`,
      target: '—',
    },
  ];
}

/** What each lever buys on the supervised day, against today's defaults. */
export function leverRows(today: DayResult, levers: DayResult[]): WaitRow[] {
  return levers.map((l) => ({
    n: '11b',
    figure: `↳ lever: ${l.label}`,
    value: `${usd(l.perDayUsd)} a day (${l.perDayUsd <= today.perDayUsd ? '−' : '+'}${usd(Math.abs(today.perDayUsd - l.perDayUsd))}; reads ${k(l.dollars.cacheRead)}, writes ${k(l.writes.total)}, ${l.dollars.summaries} summaries)`,
    target: '—',
  }));
}

export function waitMethod(runs: WaitRun[], day: DayResult, floorMs: number): string[] {
  const r0 = runs[0];
  const scripts = runs.map((r) => `${r.script}: ${r.turns} session-turns in ${r.seconds.toFixed(0)} s`).join('; ');
  return [
    `- **Session wait** (rows 9, 9a): the fake answers at a real model's speed (src/demo/fake-api-latency.ts: Opus 2.67 s to the first token, 45 output tokens/s, uncached input at 10,000 tokens/s, log-normal jitter σ 0.25, seeded; sources and assumptions in that file), every time × ${r0?.scale ?? '—'} so the section runs in minutes; the waits are shown unscaled (divided by that factor). Scripts (bench/session-wait-scripts.ts, seeded): 1, 4 and 8 sessions in rounds; in each round every session finishes a step within ${(10).toFixed(0)} s of the round's start (a burst inside one call), messages 200-1,500 tokens, replies 100-600. The relay in the bench process (engine/relay.ts as the CLI opens it, the real SDK, streaming), default model and config, ${r0?.batch ? 'batching on' : 'one envelope a call (today)'}. A session's wait: from just before its envelope's rename into queue/ to the relay's \`dispatch:written\` for it; the reply is then taken at once. "One call" is the median modelled time of the run's calls. Relay overhead (9a): the wait minus the time the fake spent answering inside it (per call, the larger of its modelled time and its actual time to the last byte, so the fake's late timers are not charged to the relay), not scaled; with 4 and 8 sessions a wait spans several calls, so it holds several calls' overhead. The floor (row 1) was ${(floorMs * 1000).toFixed(0)} µs in this run: every durable step of a turn costs about one. Runs: ${scripts}.`,
    `- **Dollars per session-turn** (row 10): the same scripts on the simulated clock, unscaled (rounds a log-normal 3 minutes apart, median; each call advancing the clock by its modelled time), the fake's prompt cache on that clock, billed from the relay's own ledger at ${day.model}'s prices (src/pricing/prices.ts).`,
    `- **A supervised day** (rows 11): the sparse script of rows 8 (200 turns, 4 sessions, ~24 h) through the relay on the simulated clock with the latency model (calls take their modelled time), model ${day.model} (the default: 512-token cache minimum, so the system prompt has a breakpoint of its own), cache.ttl auto, history.cap_tokens 60,000, keep_recent 4 (the defaults since issue 24); dollars scaled to 24 h. Row 11a splits the cache writes: each turn's own new tokens (the previous reply and the new message, what a moving breakpoint must write) and the rest by what came before the call (the first call; a summary; a gap since the previous call of over an hour, 5 minutes to an hour, under 5 minutes; the summary calls themselves). Rows 11b: the same day with one config setting changed. docs/bench.md explains the writes and the engine levers.`,
  ];
}
