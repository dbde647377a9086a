// The rows that say what the session-wait and day targets are up against (issue 24): the
// serial floor of a burst (serial-bound.ts), the parallel-calls alternative (parallel-calls.ts)
// and the supervised day's floor (day-floor.ts). Every number from the run's own scripts and calls.
import { lookupPrice } from '../src/pricing/prices.js';
import { DEFAULT_MODEL } from './bill.js';
import type { DayResult } from './day.js';
import { dayFloor } from './day-floor.js';
import type { ParallelRun } from './parallel-calls.js';
import type { WaitRow } from './report-wait.js';
import { serialBound, type SerialBound } from './serial-bound.js';
import { burstScript, WAIT_SCRIPTS } from './session-wait-scripts.js';
import type { WaitRun } from './session-wait.js';
import { pct } from './util.js';

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const usd = (x: number) => `$${x.toFixed(4)}`;
const x = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
const k = (n: number) => `${(n / 1000).toFixed(0)}k`;
const vs = (a: number, b: number) => `${a >= b ? '+' : '−'}${Math.abs((100 * (a - b)) / b).toFixed(0)}%`;

/** The median modelled call of the one-by-one run of a script: "one call" of the targets. */
function oneCall(runs: WaitRun[], script: string): number {
  const r = runs.find((w) => !w.batch && w.script === script) ?? runs.find((w) => w.script === script);
  return r ? pct(r.callMs, 50) : NaN;
}

export function serialBoundRows(bounds: SerialBound[], runs: WaitRun[]): WaitRow[] {
  // The ratios are to the one-by-one run's call: without the real-clock runs (`day`), nothing to say.
  if (!runs.length) return [];
  return bounds.map((b) => {
    const call = oneCall(runs, b.script);
    return {
      n: '9b',
      figure: `↳ serial floor, ${b.script}: per burst, first token + the burst's output tokens / ${b.tokensPerS} tokens/s (${b.outputTokens.map((t) => t.toLocaleString('en-US')).join(' / ')} tokens; arrivals spread over ${b.spreadMs.map((m) => (m / 1000).toFixed(1)).join(' / ')} s)`,
      value: `${b.burstMs.map(s).join(' / ')} = ${b.burstMs.map((m) => x(m, call)).join(' / ')} the median one-session call (${s(call)}); so the p95 wait of any serial design ≥ ${s(b.p95BoundMs)} (${x(b.p95BoundMs, call)}), its longest ≥ ${s(b.maxBoundMs)} (${x(b.maxBoundMs, call)})`,
      target: '—',
    };
  });
}

export function parallelRows(par: ParallelRun[], runs: WaitRun[]): WaitRow[] {
  const out: WaitRow[] = [];
  for (const p of par) {
    const what = p.sharedBreakpoint ? 'parallel calls + a breakpoint on the shared history' : "parallel calls, the relay's breakpoints";
    const own = pct(p.callMs, 50);
    const call = oneCall(runs, p.script);
    const p95 = pct(p.waitsMs, 95);
    out.push({
      n: '9c',
      figure: `session wait, ${p.script} (${p.turns} session-turns, ${what}; bench-only, up to ${p.maxInFlight} calls at once): p50 / p95 / max`,
      value: `${s(pct(p.waitsMs, 50))} / ${s(p95)} / ${s(Math.max(...p.waitsMs))} (one call: ${s(own)} median, ${s(pct(p.callMs, 95))} p95; p95 = ${x(p95, own)} its own median call, ${x(p95, call)} one-by-one's; simulated clock: p95 ${s(pct(p.simWaitsMs, 95))})`,
      // Not a verdict: the relay does not work this way; the row says whether the design would meet row 9's target.
      target: `— (row 9's p95 ≤ 1.5× one call: ${p95 <= 1.5 * own ? 'met' : 'not met'})`,
    });
  }
  for (const p of par) {
    const what = p.sharedBreakpoint ? 'parallel calls + a breakpoint on the shared history' : "parallel calls, the relay's breakpoints";
    const per = p.dollars.totalUsd / p.turns;
    const atOnce = p.dollarsAtOnce.totalUsd / p.turns;
    const base = runs.find((w) => !w.batch && w.script === p.script);
    const batched = runs.find((w) => w.batch && w.script === p.script);
    const cmp = (w: WaitRun | undefined, label: string) => (w ? `, ${vs(per, w.dollars.totalUsd / w.turns)} against ${label}` : '');
    out.push({
      n: '10c',
      figure: `dollars per session-turn, ${p.script} (${what}, default model, simulated clock, ${p.simMinutes.toFixed(0)} min)`,
      value: `${usd(per)}${cmp(base, 'one by one')}${cmp(batched, 'batched')}; each burst at once, as rows 10 run: ${usd(atOnce)} (reads ${k(p.dollars.cacheRead)}, writes ${k(p.dollars.write5m + p.dollars.write1h)}, history ≤ ${k(p.historyTokensMax)} of the ${k(p.capTokens)} cap: no summary)`,
      target: '—',
    });
  }
  return out;
}

/** Rows 9b, 9c and 10c: the serial floor of the bursty scripts (4 and 8 sessions) and the parallel-calls runs. */
export function boundRows(runs: WaitRun[], parallel: ParallelRun[]): WaitRow[] {
  const bounds = WAIT_SCRIPTS.filter(([n]) => n > 1).map(([n, rounds]) => serialBound(burstScript(n, rounds), DEFAULT_MODEL));
  return [...serialBoundRows(bounds, runs), ...parallelRows(parallel, runs)];
}

export function dayFloorRows(d: DayResult): WaitRow[] {
  const f = dayFloor(d);
  const t = f.tokens;
  const left = 3 - f.floorUsd;
  // What reading the system prompt alone costs on every turn of the day: the least any conversation reads.
  const turns = d.calls.filter((c) => !c.summary).length;
  return [
    {
      n: '11f',
      figure: `↳ the day's floor on ${d.model}: the replies' output + each turn's own new tokens once, at the cheapest rate that lasts to the next call`,
      value: `${usd(f.floorUsd)} a day (output ${usd(f.outputUsd)}; new tokens ${usd(f.newTokensUsd)}: ${k(t.at5m)} at the 5-minute write, ${k(t.at1h)} at the 1-hour write, ${k(t.uncached)} uncached); ≤ $3 is ${left >= 0 ? `${usd(left)} above it` : `${usd(-left)} below it: out of reach`}`,
      target: '—',
    },
    {
      n: '11f',
      figure: '↳ the rest of the day, above the floor: reads, the turns’ writes beyond their own new tokens once, the summary calls',
      value: `${usd(f.rest.usd)} (reads ${usd(f.rest.readsUsd)}, the turns' writes and uncached input beyond the floor's ${usd(f.rest.turnWritesUsd)}, summary calls ${usd(f.rest.summariesUsd)}); reading only the system prompt on each of the ${turns} turns would cost ${usd(((d.systemTokens * turns * readRate(d)) / 1e6) * (1440 / d.simMinutes))}`,
      target: '—',
    },
  ];
}

function readRate(d: DayResult): number {
  return lookupPrice(d.model).price.cache_read;
}

export function boundsMethod(par: ParallelRun[]): string[] {
  const p = par[0];
  return [
    `- **Serial floor** (rows 9b, bench/serial-bound.ts): from the scripts themselves, at the latency model's nominal Opus figures (2.67 s to the first token, 45 output tokens/s, no jitter, uncached input free). With one conversation the calls are serial, batched or not, so the replies of a burst are written one after another: its last reply is complete no earlier than its first arrival + a first token + all its replies' output tokens / 45. Per session-turn: the reply finished k-th from last is complete no earlier than first arrival + first token + (the burst's output but its k−1 largest replies) / 45, and its session arrived no later than the burst's last arrival; and every session waits at least a first token + its own reply. The k-th largest of those bounds a burst's k-th longest wait, so their p95 bounds the p95 of any serial design. "One call" is the one-by-one run's median modelled call, as in rows 9.`,
    `- **Parallel calls** (rows 9c, 10c, bench/parallel-calls.ts): a design the relay does not have, simulated without changing it: each session's call goes out when its envelope arrives, several at once (up to ${p?.maxInFlight ?? '—'}), each the shared conversation (system prompt + every exchange completed so far, in the order they completed) + that session's message. The request is built by the relay's own code (Conversation.request with its breakpoints, the TtlChooser with cache.ttl auto, the relay's label and max_tokens), sent through the relay's SDK adapter (streaming) to the fake; no relay loop or commit steps (their share is row 9a's). Waits on the real clock × ${p?.scale ?? '—'} like rows 9 (arrival → reply complete); dollars on the simulated clock like rows 10 (calls at the script's arrival times, each ending its modelled time later, the fake's cache on that clock; and with every burst at once, as rows 10 run the relay). "+ a breakpoint on the shared history" adds cache_control at the end of the history, so the calls of a burst read what the first wrote; on the real API a call that starts before the first one's prompt is processed would not find it, so that figure is a best case.`,
    `- **The day's floor** (rows 11f, bench/day-floor.ts): from the day's own calls (row 11), scaled to 24 h like it: the turns' output tokens, plus each turn's own new tokens (the first call's whole prompt; then the previous reply and the new message; the system prompt again after a gap of over an hour) once, at the 5-minute write when the next turn's call is under 5 minutes later, the 1-hour write when under an hour, else as uncached input. It knows each next gap in advance and reads nothing; everything else (every read, rewrites after summaries or long gaps, the lifetime the relay bet on, the summary calls) is "the rest".`,
  ];
}
