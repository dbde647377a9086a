import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toApiBody, type ChatClient, type ChatRequest } from '../src/adapters/anthropic.js';
import { configSchema, type Config } from '../src/config/schema.js';
import { countTokens, PromptCache, promptBlocks } from '../src/demo/fake-api-prompt.js';
import { emptyGuardState, Guard, type GuardState, type Guardrails } from '../src/engine/limits/guard.js';
import { Ledger, localDay } from '../src/engine/journals/ledger.js';
import { costOf, lookupPrice } from '../src/pricing/prices.js';
import { seededRandom } from '../bench/random.js';
import { costCommand } from '../src/commands/cost.js';
import { vi } from 'vitest';
import { Relay } from '../src/engine/relay.js';
import { ensureLayout, rootPaths } from '../src/protocol/root.js';

/**
 * Property tests for the money side of the guardrails, in-process and seeded (a
 * failure prints its seed; rerun with SEED=n).
 *
 * 1. Ledger + Guard with a fake clock: random turn costs (each at most its
 *    projection, which 2. checks), failed calls, crashes mid-call and mid-append,
 *    restarts (the ledger re-opened from its file, the guard's state from its JSON),
 *    day rollovers, /budget raises and at most one /resume a day. The ledger never
 *    shows less than the API billed, and spend never exceeds a budget by more than
 *    the projected cost of the one turn /resume let through (without it: not at all).
 *
 * 2. The relay's projection (each turn's ledger reservation) against the fake API's billing (PromptCache,
 *    chars/4 tokens, 5-minute TTL, minimum cacheable size): random message and reply
 *    sizes (multi-byte text too), random pauses around the cache TTL, summaries and
 *    restarts. Every turn, summary included, bills at most what was projected for it.
 */

const SEED = Number(process.env.SEED ?? 20260502);

const mulberry32 = seededRandom;

// Every ledger line is fdatasync'ed: on tmpfs that costs nothing, which keeps hundreds of cases fast.
const TMP = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(TMP, 'relay-ledger-prop-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const EPS = 1e-9;
const MINUTE = 60_000;
const ZERO_USAGE = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

describe('ledger + guard: spend never exceeds a budget by more than one turn, and is never under-reported', () => {
  it('holds over 300 random histories with restarts and crashes', () => {
    const CASES = 300;
    let turnsTotal = 0;
    let crashes = 0;
    let noRequest = 0;
    let trips = 0;
    for (let c = 0; c < CASES; c++) {
      const seed = SEED + c;
      const rnd = mulberry32(seed);
      const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
      const file = path.join(dir, `ledger-${c}.jsonl`);
      const stateFile = path.join(dir, `control-${c}.json`);
      const limits: Guardrails = {
        ...configSchema.parse({}).guardrails,
        budget_usd_per_day: 0.5 + rnd() * 10,
        budget_usd_per_session_per_day: 0.2 + rnd() * 5,
        max_turn_cost_usd: rnd() < 0.3 ? 0.5 + rnd() : 1000,
        // These are tested elsewhere; here only money matters.
        max_auto_turns: 0,
        max_turns_per_hour: 0,
        repeat_threshold: 0,
        warn_at_fraction: 0.8,
      };
      const clock = { now: new Date(2026, 4, 2, 6 + Math.floor(rnd() * 17), Math.floor(rnd() * 60)).getTime() };
      let ledger = new Ledger(file);
      let state: GuardState = emptyGuardState();
      const save = () => fs.writeFileSync(stateFile, JSON.stringify(state));
      const open = () => {
        ledger = new Ledger(file);
        state = { ...emptyGuardState(), ...JSON.parse(fs.readFileSync(stateFile, 'utf8')) };
        return new Guard(
          () => limits,
          ledger,
          state,
          () => clock.now,
        );
      };
      save();
      let guard = open();

      // The truth, per day: what the API billed; the most the budget ever was; what /resume let past it.
      const billed = new Map<string, number>();
      const maxBudget = new Map<string, number>();
      const passedDay = new Map<string, number>();
      const passedSession = new Map<string, number>();
      // What the ledger may count beyond the bill: calls whose fate it cannot know, at projection minus what was billed.
      const unknown = new Map<string, number>();
      const resumedOn = new Set<string>();
      const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
      const noteBudget = () => {
        const d = guard.today();
        maxBudget.set(d, Math.max(maxBudget.get(d) ?? 0, guard.dayBudget()));
      };

      const crash = () => {
        crashes++;
        ledger.abandon(); // kill -9: nothing more is written
        guard = open();
      };
      // An orderly stop and start (SIGTERM, /quit): the ledger is closed, then reopened.
      const restart = () => {
        ledger.close();
        guard = open();
      };

      const steps = 20 + Math.floor(rnd() * 60);
      for (let step = 0; step < steps; step++) {
        clock.now += Math.floor(rnd() * (rnd() < 0.05 ? 20 * 60 * MINUTE : 30 * MINUTE));
        noteBudget();
        const session = pick(['s1', 's2', 's3']);
        const projected = rnd() < 0.1 ? rnd() * 3 : rnd() * 0.4;
        const before = [...state.pass_once];
        const trip = guard.check({ session, projectedUsd: projected, automatic: rnd() < 0.8, text: `t${step}` });
        save();
        if (trip) {
          trips++;
          const day = guard.today();
          const r = rnd();
          if (r < 0.25 && !resumedOn.has(day)) {
            // /resume: that limit lets one more call through (once a day here, so "one turn" is the bound).
            resumedOn.add(day);
            guard.passOnceFor(trip);
          } else if (r < 0.45 && trip.reason === 'budget_day') {
            guard.setDayBudget(guard.dayBudget() + rnd() * 5); // /budget N, only ever raised here
            noteBudget();
          }
          save();
          continue;
        }
        const day = guard.today();
        const spentPass = before.filter((k) => !state.pass_once.includes(k));
        if (spentPass.includes('budget_day')) add(passedDay, day, projected);
        if (spentPass.includes(`budget_session:${session}`)) add(passedSession, `${day}/${session}`, projected);

        // The relay reserves just before the call.
        ledger.reserve({ at: new Date(clock.now).toISOString(), day, session, projectedUsd: projected });
        const outcome = rnd();
        const actual = projected * (rnd() < 0.1 ? 1 : rnd());
        if (outcome < 0.05) {
          // The call failed (not billed) and nothing released it; the next reserve releases it, a crash before then counts it.
          add(unknown, day, projected);
          continue;
        }
        if (outcome < 0.08) {
          // Connection refused / DNS failure / aborted before the request was sent: it never reached the API.
          ledger.release('not_sent');
          noRequest++;
          continue;
        }
        if (outcome < 0.11) {
          // A clean shutdown while the call waits in a retry backoff: released, then the process stops.
          ledger.release('shutdown');
          restart();
          noRequest++;
          continue;
        }
        if (outcome < 0.13) {
          // A clean shutdown while a request is in flight: the API may bill it (here it does, or not).
          const billedIt = rnd() < 0.5;
          if (billedIt) add(billed, day, actual);
          add(unknown, day, projected - (billedIt ? actual : 0));
          restart();
          continue;
        }
        if (outcome < 0.18) {
          // kill -9 during the call: the API billed it, the ledger never heard back.
          add(billed, day, actual);
          add(unknown, day, projected - actual);
          crash();
          continue;
        }
        clock.now += Math.floor(rnd() * 2 * MINUTE); // the call takes a while (and may end after midnight)
        add(billed, day, actual);
        const entry = {
          at: new Date(clock.now).toISOString(),
          day: localDay(clock.now),
          session,
          kind: 'turn' as const,
          model: 'm',
          usage: ZERO_USAGE,
          cost_usd: actual,
          price_entry: 'm',
        };
        if (outcome < 0.22) {
          // kill -9 in the middle of appending the turn's line: a torn tail.
          add(unknown, day, projected - actual);
          fs.appendFileSync(file, JSON.stringify(entry).slice(0, 1 + Math.floor(rnd() * 40)));
          crash();
          continue;
        }
        // Counted on the day whose budget allowed it, even when the reply came after midnight.
        ledger.record(entry);
        guard.recordTurn({ session, automatic: true, text: `t${step}`, reply: `r${step}` });
        save();
        turnsTotal++;

        if (rnd() < 0.1) {
          // An orderly restart: the totals read back are exactly the totals held.
          const totals = ledger.days();
          ledger.close();
          guard = open();
          const reread = ledger.days();
          expect(reread.map(([d]) => d)).toEqual(totals.map(([d]) => d));
          reread.forEach(([, t], k) => expect(t.costUsd).toBeCloseTo(totals[k][1].costUsd, 12));
        }

        // Plain comparisons (expect() on every step would dominate the run time).
        for (const [d, truth] of billed) {
          const shown = ledger.day(d).costUsd;
          const ctx = `seed ${seed} step ${step} day ${d}`;
          // Never less than the API billed (interrupted calls count at their projection)...
          if (shown < truth - EPS) expect.fail(`${ctx}: ledger shows ${shown}, the API billed ${truth}`);
          // ...and never more than that plus the calls it cannot know about: no phantom spend from a request that never left.
          if (shown > truth + (unknown.get(d) ?? 0) + EPS)
            expect.fail(`${ctx}: ledger shows ${shown}, billed ${truth} + unknowable ${unknown.get(d) ?? 0}: phantom spend`);
          // ...and never more than the budget, plus what /resume let through that day.
          const cap = (maxBudget.get(d) ?? limits.budget_usd_per_day) + (passedDay.get(d) ?? 0);
          if (shown > cap + EPS) expect.fail(`${ctx}: spent ${shown} > budget ${maxBudget.get(d)} + passed ${passedDay.get(d) ?? 0}`);
          for (const s of ['s1', 's2', 's3']) {
            const spent = ledger.sessionDay(s, d).costUsd;
            const sessionCap = limits.budget_usd_per_session_per_day + (passedSession.get(`${d}/${s}`) ?? 0);
            if (spent > sessionCap + EPS) expect.fail(`${ctx} ${s}: spent ${spent} > session budget ${sessionCap}`);
          }
        }
      }
      ledger.close();
    }
    // The generator really exercised the interesting paths.
    expect(turnsTotal).toBeGreaterThan(CASES * 5);
    expect(crashes).toBeGreaterThan(CASES / 2);
    expect(noRequest).toBeGreaterThan(CASES / 2);
    expect(trips).toBeGreaterThan(CASES);
  }, 120_000); // hundreds of fdatasync'ed lines and reopenings: seconds alone, far longer on a loaded 2-core machine

  it('a read-only ledger (relay-tui cost) neither repairs nor writes the file', () => {
    const file = path.join(dir, 'ledger.jsonl');
    const l = new Ledger(file);
    l.reserve({ at: new Date().toISOString(), day: localDay(Date.now()), session: 's1', projectedUsd: 0.5 });
    l.close();
    fs.appendFileSync(file, '{"at":"torn');
    const before = fs.readFileSync(file, 'utf8');
    const ro = new Ledger(file, { readOnly: true });
    expect(ro.total.costUsd).toBeCloseTo(0.5, 12); // the open reservation counts
    expect(ro.unsettled).toHaveLength(1);
    expect(() => ro.reserve({ at: new Date().toISOString(), day: 'd', session: 's', projectedUsd: 1 })).toThrow(/read-only/);
    ro.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });
});

describe('honest ledger: every way a reserved call can end, named and counted right', () => {
  const at = (min: number) => new Date(2026, 10, 30, 2, min).toISOString();
  const day = localDay(new Date(2026, 10, 30, 2, 0).getTime());
  const reserve = (l: Ledger, min: number, usd: number, session = 's1') => l.reserve({ at: at(min), day, session, projectedUsd: usd });

  function runCost(root: string, json: boolean): string {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      out += String(chunk);
      return true;
    });
    try {
      expect(costCommand(rootPaths(root), 30, json)).toBe(0);
    } finally {
      spy.mockRestore();
    }
    return out;
  }

  it('connection refused, abort before send, clean shutdown during a backoff: zero phantom spend, before and after a restart', () => {
    const file = path.join(dir, 'ledger.jsonl');
    let l = new Ledger(file);
    reserve(l, 0, 0.1038);
    l.release('not_sent'); // connection refused / DNS: the request never left
    reserve(l, 1, 0.1038);
    l.release('not_sent'); // aborted before the request was sent
    reserve(l, 2, 0.1038);
    l.release('shutdown'); // Ctrl+C while waiting out a retry backoff
    expect(l.day(day).costUsd).toBe(0);
    l.close();
    l = new Ledger(file);
    expect(l.day(day)).toMatchObject({ costUsd: 0, turns: 0 });
    expect(l.total.costUsd).toBe(0);
    expect(l.crashed).toEqual([]);
    expect(l.interrupted).toEqual([]);
    expect(l.released).toBe(3);
    expect(l.turnsSince(0)).toEqual([]); // nor do they count toward the rate limit
    l.close();
  });

  it('a call a clean shutdown stopped mid-request counts at its projection as interrupted; only a dead process leaves a crash', () => {
    const file = path.join(dir, 'ledger.jsonl');
    let l = new Ledger(file);
    reserve(l, 0, 0.2);
    l.close(); // SIGTERM with the request in flight: the API may bill it
    l = new Ledger(file);
    expect(l.interrupted.map((r) => r.projected_usd)).toEqual([0.2]);
    expect(l.crashed).toEqual([]);
    expect(l.total.costUsd).toBeCloseTo(0.2, 12);
    reserve(l, 5, 0.3);
    l.abandon(); // kill -9 with the request in flight
    l = new Ledger(file);
    expect(l.crashed.map((r) => r.projected_usd)).toEqual([0.3]);
    expect(l.interrupted).toHaveLength(1);
    expect(l.total.costUsd).toBeCloseTo(0.5, 12);
    l.close();
  });

  it('relay-tui cost beside a live relay: its reservation is in flight (counted when it settles), not a crash', () => {
    const root = path.join(dir, 'root');
    const paths = rootPaths(root);
    ensureLayout(paths);
    // A previous relay died mid-call; the live one (this process) is mid-call now.
    fs.writeFileSync(
      paths.ledger,
      JSON.stringify({ t: 'reserve', id: `1-999999-1`, at: at(0), day, session: 's1', projected_usd: 0.07, pid: 999_999 }) + '\n',
    );
    fs.writeFileSync(paths.lock, JSON.stringify({ pid: process.pid, started_at: at(1) }) + '\n');
    const l = new Ledger(paths.ledger);
    expect(l.crashed).toHaveLength(1);
    l.record({
      at: at(2),
      day,
      session: 's1',
      kind: 'turn',
      model: 'claude-opus-5-5',
      usage: { input_tokens: 1000, output_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      cost_usd: (1000 * 4 + 100 * 20) / 1e6,
    });
    reserve(l, 3, 0.1038);
    const text = runCost(root, false);
    expect(text).toMatch(/\$0\.0760 {2}1 turns/); // 0.006 billed + 0.07 for the crash; the live call not counted
    expect(text).toMatch(/includes \$0\.0700 for 1 call\(s\) cut short by a crash/);
    expect(text).toMatch(
      new RegExp(
        `in flight now \\(relay pid ${process.pid}\\): 1 call\\(s\\) reserved at up to \\$0\\.1038, not counted until they settle`,
      ),
    );
    expect(text).toMatch(/priced at: claude-opus-5-5 \$0\.0060 \(1 call\)/);
    const json = JSON.parse(runCost(root, true));
    expect(json.calls).toMatchObject({
      crashed: { calls: 1, counted: true },
      in_flight: { calls: 1, counted: false, pid: process.pid },
      interrupted: { calls: 0 },
    });
    expect(json.days[0].price_entries['claude-opus-5-5']).toMatchObject({ calls: 1 });
    // Once this relay is gone without settling, the same reservation is a crash.
    l.abandon();
    fs.rmSync(paths.lock);
    const after = runCost(root, false);
    expect(after).toMatch(/includes \$0\.1738 for 2 call\(s\) cut short by a crash/);
    expect(after).not.toMatch(/in flight/);
  });

  it('ledger lines record the price entry used; an override is named as such', () => {
    const file = path.join(dir, 'ledger.jsonl');
    const l = new Ledger(file);
    const u = { input_tokens: 150_000, output_tokens: 1000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const haiku = lookupPrice('claude-haiku-5-5');
    l.record({ at: at(0), day, session: 's1', kind: 'turn', model: 'claude-haiku-5-5', usage: u, cost_usd: costOf(u, haiku.price) });
    l.record({ at: at(1), day, session: 's1', kind: 'turn', model: 'claude-haiku-5-5', usage: u, cost_usd: 1.23 });
    l.record({ at: at(2), day, session: 's1', kind: 'turn', model: 'x', usage: u, cost_usd: 0.5, price_entry: 'named by the engine' });
    l.close();
    const lines = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((x) => JSON.parse(x));
    expect(lines.map((x) => x.price_entry)).toEqual(['claude-haiku-5-5 >100k', 'claude-haiku-5-5 (config)', 'named by the engine']);
  });
});

// ---------------------------------------------------------------------------------------------

/** The fake API's billing (src/demo/fake-api-respond.ts sendText) without the HTTP, on a shared clock. */
function fakeChat(
  cache: PromptCache,
  reply: (req: ChatRequest) => string,
  calls: Array<{ cost: number; summary: boolean; write1h?: boolean }>,
): ChatClient {
  return {
    async complete(req) {
      const price = lookupPrice(req.model).price;
      let text = reply(req);
      if (countTokens(text) > req.max_tokens) text = text.slice(0, req.max_tokens * 4);
      const u = cache.apply(req.model, promptBlocks(toApiBody(req)));
      const usage = {
        input_tokens: u.input_tokens,
        output_tokens: countTokens(text),
        cache_creation_input_tokens: u.cache_creation_input_tokens,
        cache_read_input_tokens: u.cache_read_input_tokens,
        cache_creation: u.cache_creation,
      };
      calls.push({
        cost: costOf(usage, price),
        summary: /^\[relay\]/.test(req.messages[req.messages.length - 1].content),
        write1h: u.cache_creation.ephemeral_1h_input_tokens > 0,
      });
      return { text, usage, stopReason: 'end_turn', model: req.model, requestId: null };
    },
  };
}

const ALPHABETS = ['abcdefghij klmnopqrst uvwxyz ', 'é à ü ß ç ', '漢字かなカナ', '🙂🚀 ', '{"k": [1, 2]}; '];

function text(rnd: () => number, len: number): string {
  const a = ALPHABETS[Math.floor(rnd() * ALPHABETS.length)];
  const chars = Array.from(a);
  let s = '';
  while (s.length < len) s += chars[Math.floor(rnd() * chars.length)];
  return s;
}

/** The projection the last turn was checked and reserved at: its reservation line in the ledger. */
function lastProjection(ledgerFile: string): number {
  const reserves = fs
    .readFileSync(ledgerFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"t":"reserve"'))
    .map((l) => JSON.parse(l) as { projected_usd: number });
  return reserves[reserves.length - 1].projected_usd;
}

describe('projectCost is an upper bound of what the fake API then bills', () => {
  it('holds for random turns, replies, pauses around the cache TTL, summaries and restarts', async () => {
    const CASES = 24;
    let turns = 0;
    let summaries = 0;
    let warmTurns = 0;
    let worst = 0;
    let calls1h = 0;
    for (let c = 0; c < CASES; c++) {
      const seed = SEED + 1000 + c;
      const rnd = mulberry32(seed);
      const clock = { now: new Date(2026, 4, 2, 9, 0).getTime() };
      const root = path.join(dir, `root-${c}`);
      const paths = rootPaths(root);
      ensureLayout(paths);
      const base = configSchema.parse({});
      const config: Config = configSchema.parse({
        max_tokens: [16, 256, 1024, 4096][Math.floor(rnd() * 4)],
        history: { cap_tokens: 2000 + Math.floor(rnd() * 20_000), keep_recent: Math.floor(rnd() * 4) },
        // Every lifetime the relay may choose: 1-hour writes are dearer and must be projected as such.
        cache: { ttl: (['auto', '5m', '1h'] as const)[c % 3] },
        guardrails: {
          ...base.guardrails,
          budget_usd_per_day: 1e6,
          budget_usd_per_session_per_day: 1e6,
          max_turn_cost_usd: 1e6,
          max_auto_turns: 0,
          max_turns_per_hour: 0,
          repeat_threshold: 0,
        },
      });
      const cache = new PromptCache({ minCacheableTokens: 1024, ttlMs: 5 * MINUTE, now: () => clock.now });
      const calls: Array<{ cost: number; summary: boolean; write1h?: boolean }> = [];
      const chat = fakeChat(
        cache,
        (req) =>
          /^\[relay\]/.test(req.messages[req.messages.length - 1].content)
            ? text(rnd, Math.floor(rnd() * 12_000))
            : text(rnd, Math.floor(rnd() * req.max_tokens * 5)),
        calls,
      );

      const openRelay = async () => {
        const relay = new Relay({ paths, config, chat, notifier: null, topic: null, now: () => clock.now, maintenanceMs: 3_600_000 });
        await relay.start();
        return { relay };
      };
      let r = await openRelay();
      const n = 6 + Math.floor(rnd() * 10);
      for (let i = 0; i < n; i++) {
        // Pauses: often well inside the TTL, sometimes right around it, sometimes long.
        const gap = rnd();
        clock.now +=
          gap < 0.5
            ? Math.floor(rnd() * 30_000)
            : gap < 0.8
              ? 4 * MINUTE + Math.floor(rnd() * 2 * MINUTE)
              : Math.floor(rnd() * 60 * MINUTE);
        if (rnd() < 0.15) {
          await r.relay.stop();
          r = await openRelay();
        }
        const before = calls.length;
        const done = new Promise<void>((resolve) => {
          const off = r.relay.on('turn:completed', () => {
            off();
            resolve();
          });
        });
        const session = rnd() < 0.5 ? 'session-1' : 'session-2';
        const content = text(rnd, 1 + Math.floor(rnd() * (rnd() < 0.2 ? 30_000 : 2_000)));
        fs.writeFileSync(path.join(paths.queue, `.e${i}.tmp`), JSON.stringify({ session_id: session, content }));
        fs.renameSync(path.join(paths.queue, `.e${i}.tmp`), path.join(paths.queue, `${String(i).padStart(4, '0')}.json`));
        await done;
        const billed = calls.slice(before);
        const projected = lastProjection(paths.ledger);
        const actual = billed.reduce((s, x) => s + x.cost, 0);
        expect(actual, `seed ${seed} turn ${i}: billed ${actual} > projected ${projected}`).toBeLessThanOrEqual(projected + EPS);
        worst = Math.max(worst, actual / projected);
        turns++;
        if (billed.some((b) => b.summary)) summaries++;
        calls1h += billed.filter((b) => b.write1h).length;
        if (r.relay.snapshot().status.total_cache_read_tokens > 0) warmTurns++;
      }
      await r.relay.stop();
    }
    expect(turns).toBeGreaterThan(CASES * 6);
    expect(summaries).toBeGreaterThan(3);
    expect(warmTurns).toBeGreaterThan(0);
    expect(calls1h).toBeGreaterThan(0);
    process.stdout.write(
      `projection: ${turns} turns, ${summaries} with a summary; the highest billed/projected ratio was ${worst.toFixed(3)}\n`,
    );
  }, 60_000);
});
