import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { emptyGuardState, Guard, type Trip } from '../src/engine/limits/guard.js';
import { Ledger, localDay } from '../src/engine/journals/ledger.js';
import { lookupPrice } from '../src/pricing/prices.js';
import { projectTurnCost } from '../src/pricing/projection.js';

/**
 * The loop guard judged by numbers: both corpora (test/data/loop-corpus/) run through
 * the real Guard with the DEFAULT config, one exchange at a time, exactly as the relay
 * does it: check() before the call, recordTurn() after it. Every call made is charged
 * at its projected (upper-bound) cost on the default model, cold cache, the history
 * growing with the sequence, so the spend printed is a worst case.
 */

interface Exchange {
  session: string;
  message: string;
  reply: string;
}
interface Sequence {
  id: string;
  class: string;
  note: string;
  kind?: 'repeat' | 'echo' | 'cycle' | 'drift';
  loop_start?: number;
  period?: number;
  exchanges: Exchange[];
}

const DATA = path.join(__dirname, 'data', 'loop-corpus');
const load = (name: string): Sequence[] => JSON.parse(fs.readFileSync(path.join(DATA, name), 'utf8')).sequences;
const ordinary = load('ordinary.json');
const runaways = load('runaway.json');

const config = configSchema.parse({});
const price = lookupPrice(config.model, config.prices).price;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'relay-corpus-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  /** Index of the exchange whose call the guard refused, or null. */
  stoppedAt: number | null;
  trip: Trip | null;
  calls: number;
  spentUsd: number;
}

let n = 0;
function run(seq: Sequence, stopOnTrip: boolean): Run & { trips: Array<{ at: number; trip: Trip }> } {
  const ledger = new Ledger(path.join(dir, `ledger-${n++}.jsonl`));
  const clock = { now: new Date(2026, 10, 30, 9, 0).getTime() };
  const guard = new Guard(
    () => config.guardrails,
    ledger,
    emptyGuardState(),
    () => clock.now,
  );
  let historyBytes = Buffer.byteLength(config.system_prompt);
  let calls = 0;
  let spent = 0;
  const trips: Array<{ at: number; trip: Trip }> = [];
  try {
    for (let i = 0; i < seq.exchanges.length; i++) {
      const e = seq.exchanges[i];
      clock.now += 60_000;
      const user = `[${e.session}]\n${e.message}`;
      const projected = projectTurnCost({
        price,
        maxTokens: config.max_tokens,
        measured: null,
        historyBytes,
        userBytes: Buffer.byteLength(user),
        warmSince: 0,
        now: clock.now,
      });
      const trip = guard.check({ session: e.session, projectedUsd: projected, automatic: true, text: e.message });
      if (trip) {
        trips.push({ at: i, trip });
        if (stopOnTrip) break;
        continue;
      }
      calls++;
      spent += projected;
      ledger.record({
        at: new Date(clock.now).toISOString(),
        day: localDay(clock.now),
        session: e.session,
        kind: 'turn',
        model: config.model,
        usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        cost_usd: projected,
      });
      guard.recordTurn({ session: e.session, automatic: true, text: e.message, reply: e.reply });
      historyBytes += Buffer.byteLength(user) + Buffer.byteLength(e.reply);
    }
  } finally {
    ledger.close();
  }
  return { stoppedAt: trips[0]?.at ?? null, trip: trips[0]?.trip ?? null, calls, spentUsd: spent, trips };
}

/** The latest exchange index by which the guard must have refused a call, per the corpus's kind (default limits). */
function bound(seq: Sequence): number {
  const g = config.guardrails;
  const k =
    seq.kind === 'drift' ? g.max_auto_turns + 1 : seq.kind === 'cycle' ? g.repeat_threshold * (seq.period ?? 1) : g.repeat_threshold;
  const start = seq.kind === 'drift' ? 0 : (seq.loop_start ?? 0);
  let best = Infinity;
  for (const s of new Set(seq.exchanges.map((e) => e.session))) {
    const idx = seq.exchanges.map((e, i) => (e.session === s && i >= start ? i : -1)).filter((i) => i >= 0);
    if (idx.length >= k) best = Math.min(best, idx[k - 1]);
  }
  return best;
}

describe('the loop corpora through the guard (default config)', () => {
  it('has the corpus sizes the issue asks for', () => {
    expect(ordinary.length).toBeGreaterThanOrEqual(40);
    expect(runaways.length).toBeGreaterThanOrEqual(20);
    for (const s of runaways) {
      // Every runaway goes on past its bound, so "stopped before its next call" is tested, not assumed.
      expect(bound(s), s.id).toBeLessThan(s.exchanges.length);
    }
    const classes = new Set(runaways.map((s) => s.class));
    for (const c of ['echo', 'resend-question', 'retry-counter', 'retry-timestamp', 'same-answer', 'drift'])
      expect(classes, c).toContain(c);
  });

  it('0 false trips on ordinary work; every runaway stopped within its bound; prints the confusion counts', () => {
    const falseTrips: string[] = [];
    let ordinaryExchanges = 0;
    for (const s of ordinary) {
      ordinaryExchanges += s.exchanges.length;
      const r = run(s, false);
      for (const t of r.trips) falseTrips.push(`${s.id} @${t.at}: ${t.trip.reason}: ${t.trip.message}`);
    }

    const late: string[] = [];
    const missed: string[] = [];
    const worst = new Map<string, { usd: number; calls: number; id: string }>();
    const lines: string[] = [];
    for (const s of runaways) {
      const r = run(s, true);
      const b = bound(s);
      if (r.stoppedAt === null) missed.push(s.id);
      else if (r.stoppedAt > b) late.push(`${s.id}: stopped at exchange ${r.stoppedAt}, bound ${b}`);
      const w = worst.get(s.class);
      if (!w || r.spentUsd > w.usd) worst.set(s.class, { usd: r.spentUsd, calls: r.calls, id: s.id });
      lines.push(
        `  ${s.id.padEnd(30)} ${s.kind!.padEnd(6)} stopped before exchange ${r.stoppedAt} (bound ${b}) by ${r.trip?.reason ?? '-'}; ${r.calls} calls, at most $${r.spentUsd.toFixed(4)}`,
      );
    }
    const stopped = runaways.length - missed.length - late.length;
    process.stdout.write(
      [
        `LOOP CORPUS (default config: repeat_threshold ${config.guardrails.repeat_threshold}, max_auto_turns ${config.guardrails.max_auto_turns}, ${config.model}, max_tokens ${config.max_tokens})`,
        `  ordinary: ${ordinary.length} sequences, ${ordinaryExchanges} exchanges: ${falseTrips.length} false trips, ${ordinary.length - new Set(falseTrips.map((f) => f.split(' ')[0])).size} clean`,
        `  runaways: ${runaways.length} sequences: ${stopped} stopped within bound, ${late.length} stopped late, ${missed.length} never stopped`,
        `  confusion: TN ${ordinary.length - new Set(falseTrips.map((f) => f.split(' ')[0])).size}  FP ${new Set(falseTrips.map((f) => f.split(' ')[0])).size}  TP ${stopped}  FN ${missed.length + late.length}`,
        ...lines,
        '  worst-case spend per runaway class (every call at its projected upper bound, cold cache):',
        ...[...worst.entries()].map(([c, w]) => `    ${c.padEnd(16)} $${w.usd.toFixed(4)} (${w.calls} calls, ${w.id})`),
      ].join('\n') + '\n',
    );
    expect(falseTrips).toEqual([]);
    expect(missed).toEqual([]);
    expect(late).toEqual([]);
  });
});
