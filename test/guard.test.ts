import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { emptyGuardState, Guard, type Guardrails } from '../src/engine/limits/guard.js';
import { emptyLoopState, judge, print, record, reduce, same } from '../src/engine/limits/loop-detector.js';
import { Ledger, localDay } from '../src/engine/journals/ledger.js';

const HOUR = 3_600_000;
/** Local noon, so that +/- a few hours stays on the same local day. */
const NOON = new Date(2026, 4, 2, 12, 0, 0).getTime();
const NEXT_NOON = new Date(2026, 4, 3, 12, 0, 0).getTime();

let dir: string;
let ledger: Ledger;
const clock = { now: NOON };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-guard-'));
  ledger = new Ledger(path.join(dir, 'ledger.jsonl'));
  clock.now = NOON;
});
afterEach(() => {
  ledger.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Limits generous enough that only the one under test can trip. */
function limits(over: Partial<Guardrails> = {}): Guardrails {
  return {
    ...configSchema.parse({}).guardrails,
    budget_usd_per_day: 1000,
    budget_usd_per_session_per_day: 1000,
    max_turn_cost_usd: 1000,
    max_auto_turns: 0,
    max_turns_per_hour: 0,
    repeat_threshold: 0,
    warn_at_fraction: 1,
    ...over,
  };
}

function guard(over: Partial<Guardrails> = {}, recent: Array<{ session: string; at: number }> = []): Guard {
  const g = limits(over);
  return new Guard(
    () => g,
    ledger,
    emptyGuardState(),
    () => clock.now,
    recent,
  );
}

function spend(session: string, usd: number, at = clock.now): void {
  ledger.record({
    at: new Date(at).toISOString(),
    day: localDay(at),
    session,
    kind: 'turn',
    model: 'claude-opus-4-7',
    usage: { input_tokens: 1, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    cost_usd: usd,
  });
}

const call = (session: string, projectedUsd = 0.01, text = 'status update', automatic = true) => ({
  session,
  projectedUsd,
  automatic,
  text,
});

let n = 0;
/** A billed automatic turn with distinct text and reply (so no loop is seen). */
function turn(g: Guard, session: string, automatic = true) {
  n++;
  return g.recordTurn({ session, automatic, text: `message ${'x'.repeat(n)}`, reply: `reply ${'y'.repeat(n)}` });
}

describe('money limits', () => {
  it('budget_day trips relay-wide, naming the session and the amounts', () => {
    const g = guard({ budget_usd_per_day: 20 });
    spend('a', 9);
    spend('b', 9);
    expect(g.check(call('c', 1.5))).toBeNull(); // 18 + 1.5 <= 20
    const trip = g.check(call('c', 2.5));
    expect(trip).toMatchObject({ reason: 'budget_day', scope: 'relay', session: 'c' });
    expect(trip!.message).toContain('$18.00');
    expect(trip!.message).toContain('$20.00');
    expect(trip!.message).toContain('$2.50');
    expect(trip!.message).toContain('(c)');
    expect(trip!.message).toMatch(/\/budget N/);
  });

  it('budget_day counts only today, by the local calendar day', () => {
    const g = guard({ budget_usd_per_day: 20 });
    spend('a', 19, NOON - 24 * HOUR);
    expect(g.check(call('a', 5))).toBeNull();
    spend('a', 19);
    expect(g.check(call('a', 5))?.reason).toBe('budget_day');
    clock.now = NEXT_NOON;
    expect(g.check(call('a', 5))).toBeNull();
  });

  it('budget_day also applies to operator-started turns', () => {
    const g = guard({ budget_usd_per_day: 1 });
    spend('a', 0.99);
    expect(g.check(call('operator', 0.05, 'hi', false))?.reason).toBe('budget_day');
  });

  it('budget_session trips for that session only, naming it and the amounts', () => {
    const g = guard({ budget_usd_per_session_per_day: 5 });
    spend('s1', 4.5);
    const trip = g.check(call('s1', 0.6));
    expect(trip).toMatchObject({ reason: 'budget_session', scope: 'session', session: 's1' });
    expect(trip!.message).toContain('s1');
    expect(trip!.message).toContain('$4.50');
    expect(trip!.message).toContain('$5.00');
    expect(trip!.message).toContain('$0.6000');
    expect(g.check(call('s2', 0.6))).toBeNull();
    expect(g.check(call('s1', 0.4))).toBeNull();
  });

  it('turn_cost trips relay-wide on the projection alone', () => {
    const g = guard({ max_turn_cost_usd: 1 });
    expect(g.check(call('s1', 1))).toBeNull();
    const trip = g.check(call('s1', 1.5));
    expect(trip).toMatchObject({ reason: 'turn_cost', scope: 'relay', session: 's1' });
    expect(trip!.message).toContain('$1.50');
    expect(trip!.message).toContain('$1.00');
    expect(trip!.message).toContain('(s1)');
    expect(g.check(call('s1', 1.5, 'op', false))?.reason).toBe('turn_cost');
  });
});

describe('per-session limits', () => {
  it('auto_turns trips after max_auto_turns automatic turns, for that session only', () => {
    const g = guard({ max_auto_turns: 3 });
    for (let i = 0; i < 3; i++) {
      expect(g.check(call('s1'))).toBeNull();
      turn(g, 's1');
    }
    const trip = g.check(call('s1'));
    expect(trip).toMatchObject({ reason: 'auto_turns', scope: 'session', session: 's1' });
    expect(trip!.message).toContain('s1 has had 3 automatic turns');
    expect(trip!.message).toContain('limit 3');
    expect(g.check(call('s2'))).toBeNull();
    // An operator-started turn for the session is not automatic: it is not stopped.
    expect(g.check(call('s1', 0.01, 'x', false))).toBeNull();
  });

  it('non-automatic turns do not count towards auto_turns', () => {
    const g = guard({ max_auto_turns: 2 });
    for (let i = 0; i < 5; i++) turn(g, 's1', false);
    expect(g.check(call('s1'))).toBeNull();
  });

  it('allow() adds turns to the limit', () => {
    const g = guard({ max_auto_turns: 2 });
    turn(g, 's1');
    turn(g, 's1');
    expect(g.check(call('s1'))?.reason).toBe('auto_turns');
    g.allow('s1', 3);
    for (let i = 0; i < 3; i++) {
      expect(g.check(call('s1'))).toBeNull();
      turn(g, 's1');
    }
    const trip = g.check(call('s1'));
    expect(trip?.reason).toBe('auto_turns');
    expect(trip!.message).toContain('limit 5');
    g.allow('s1', 1);
    g.allow('s1', 1);
    expect(g.state.allowance.s1).toBe(5);
    expect(g.check(call('s1'))).toBeNull();
  });

  it('operatorInput(session) resets the auto-turn count and the allowance', () => {
    const g = guard({ max_auto_turns: 2 });
    turn(g, 's1');
    turn(g, 's1');
    turn(g, 's2');
    turn(g, 's2');
    g.allow('s1', 1);
    turn(g, 's1');
    expect(g.check(call('s1'))?.reason).toBe('auto_turns');
    g.operatorInput('s1');
    expect(g.state.auto_turns.s1).toBeUndefined();
    expect(g.state.allowance.s1).toBeUndefined();
    expect(g.check(call('s1'))).toBeNull();
    expect(g.check(call('s2'))?.reason).toBe('auto_turns');
    g.operatorInput(null);
    expect(g.check(call('s2'))).toBeNull();
  });

  it('rate trips at max_turns_per_hour in a sliding hour, for that session only', () => {
    const g = guard({ max_turns_per_hour: 3 });
    for (let i = 0; i < 3; i++) {
      expect(g.check(call('s1'))).toBeNull();
      turn(g, 's1', false);
      clock.now += 10 * 60_000;
    }
    // Turns at 12:00, 12:10, 12:20; now 12:30.
    const trip = g.check(call('s1'));
    expect(trip).toMatchObject({ reason: 'rate', scope: 'session', session: 's1' });
    expect(trip!.message).toContain('s1 made 3 turns in the last hour');
    expect(trip!.message).toContain('limit 3');
    expect(g.check(call('s2'))).toBeNull();
    // At 13:00 + 1 ms the 12:00 turn has left the window.
    clock.now = NOON + HOUR + 1;
    expect(g.turnsLastHour('s1')).toBe(2);
    expect(g.check(call('s1'))).toBeNull();
  });

  it('rate counts turns from before a restart (recentTurns)', () => {
    const recent = [0, 1, 2].map((i) => ({ session: 's1', at: NOON - (i + 1) * 60_000 }));
    const g = guard({ max_turns_per_hour: 3 }, recent);
    expect(g.turnsLastHour('s1')).toBe(3);
    expect(g.check(call('s1'))?.reason).toBe('rate');
  });

  it('loop trips when the same exchange (message and reply) repeats repeat_threshold times', () => {
    const g = guard({ repeat_threshold: 3 });
    g.recordTurn({ session: 's1', automatic: true, text: 'Tests pass. Awaiting review.', reply: 'Thanks, reviewing.' });
    g.recordTurn({ session: 's1', automatic: true, text: 'tests pass.   awaiting REVIEW.', reply: 'thanks,  reviewing' });
    const trip = g.check(call('s1', 0.01, 'TESTS PASS. Awaiting review. '));
    expect(trip).toMatchObject({ reason: 'loop', scope: 'session', session: 's1' });
    expect(trip!.message).toContain('s1 sent the same message and got the same reply 2 times in a row');
    // A different message is not a loop, nor is the same message from another session.
    expect(g.check(call('s1', 0.01, 'Tests fail: 2 errors'))).toBeNull();
    expect(g.check(call('s2', 0.01, 'Tests pass. Awaiting review.'))).toBeNull();
  });

  it('the same reply to different messages is not a loop (a plan stepped through)', () => {
    const g = guard({ repeat_threshold: 3 });
    for (let i = 1; i <= 5; i++) {
      expect(g.check(call('s1', 0.01, `step ${i} done`))).toBeNull();
      g.recordTurn({ session: 's1', automatic: true, text: `step ${i} done`, reply: 'Good. Carry on with the next step.' });
    }
  });

  it('the same message with different replies is not a loop', () => {
    const g = guard({ repeat_threshold: 3 });
    for (const r of ['Now update the changelog.', 'Bump the version.', 'Tag the release.', 'Announce it.']) {
      expect(g.check(call('s1', 0.01, 'Done.'))).toBeNull();
      g.recordTurn({ session: 's1', automatic: true, text: 'Done.', reply: r });
    }
  });

  it('a retry loop whose only change is an attempt counter or a timestamp is a loop', () => {
    const g = guard({ repeat_threshold: 3 });
    g.recordTurn({
      session: 's1',
      automatic: true,
      text: 'Attempt 1/5: npm install failed (ECONNRESET) at 02:14:07',
      reply: 'Retry it (attempt 2).',
    });
    g.recordTurn({
      session: 's1',
      automatic: true,
      text: 'Attempt 2/5: npm install failed (ECONNRESET) at 02:15:31',
      reply: 'Retry it (attempt 3).',
    });
    expect(g.check(call('s1', 0.01, 'Attempt 3/5: npm install failed (ECONNRESET) at 02:17:02'))?.reason).toBe('loop');
  });

  it("an echo: a session sending chat-Claude's replies back", () => {
    const g = guard({ repeat_threshold: 3 });
    const replies = [
      'Next, look at the amber module.',
      'Next, look at the birch module.',
      'Next, look at the cedar module.',
      'Next, look at the delta module.',
    ];
    g.recordTurn({ session: 's1', automatic: true, text: 'Kick-off', reply: replies[0] });
    g.recordTurn({ session: 's2', automatic: true, text: replies[0], reply: replies[1] });
    g.recordTurn({ session: 's1', automatic: true, text: replies[1], reply: replies[2] });
    g.recordTurn({ session: 's2', automatic: true, text: replies[2], reply: replies[3] });
    // s1 has echoed once: one more is two in a row, not yet three.
    expect(g.check(call('s1', 0.01, replies[3]))).toBeNull();
    // s2 has echoed twice; a third echo (of any recent reply, its own included) is refused.
    const trip = g.check(call('s2', 0.01, replies[3]));
    expect(trip).toMatchObject({ reason: 'loop', session: 's2' });
    expect(trip!.message).toMatch(/replies back 3 times in a row/);
    // A message of its own breaks the run.
    expect(g.check(call('s2', 0.01, 'Finished the delta module: 4 files, 12 tests.'))).toBeNull();
  });

  it('a cycle of two exchanges undoing each other is a loop', () => {
    const g = guard({ repeat_threshold: 3 });
    const A = { text: 'Tests fail: missing export parse.', reply: 'Re-add the export.' };
    const B = { text: 'Lint fails: unused export parse.', reply: 'Remove the export.' };
    for (const x of [A, B, A, B]) {
      expect(g.check(call('s1', 0.01, x.text))).toBeNull();
      g.recordTurn({ session: 's1', automatic: true, ...x });
    }
    const trip = g.check(call('s1', 0.01, A.text));
    expect(trip?.reason).toBe('loop');
    expect(trip!.message).toMatch(/same 2 exchanges/);
  });

  it('an operator turn for the session breaks the run', () => {
    const g = guard({ repeat_threshold: 3 });
    g.recordTurn({ session: 's1', automatic: true, text: 'same', reply: 'same' });
    g.recordTurn({ session: 's1', automatic: true, text: 'same', reply: 'same' });
    g.recordTurn({ session: 's1', automatic: false, text: 'what now?', reply: 'do X' });
    expect(g.check(call('s1', 0.01, 'same'))).toBeNull();
  });

  it('operatorInput resets the loop state', () => {
    const g = guard({ repeat_threshold: 2 });
    g.recordTurn({ session: 's1', automatic: true, text: 'same', reply: 'r1' });
    expect(g.check(call('s1', 0.01, 'same'))?.reason).toBe('loop');
    g.operatorInput('s1');
    expect(g.check(call('s1', 0.01, 'same'))).toBeNull();
  });

  it('state saved by an older version (repeats counters) is dropped, not misread', () => {
    const state = { ...emptyGuardState(), repeats: { s1: { env: 'x', envCount: 9, reply: 'y', replyCount: 9 } } } as any;
    delete state.loops;
    const g = new Guard(
      () => limits({ repeat_threshold: 3 }),
      ledger,
      state,
      () => clock.now,
    );
    expect(g.check(call('s1', 0.01, 'anything'))).toBeNull();
    expect(state.repeats).toBeUndefined();
    expect(state.loops).toEqual(emptyLoopState());
  });

  it('the loop, auto-turn and rate limits do not apply to operator-started turns', () => {
    const g = guard({ repeat_threshold: 2, max_auto_turns: 1, max_turns_per_hour: 1 });
    g.recordTurn({ session: 's1', automatic: true, text: 'same', reply: 'same' });
    g.recordTurn({ session: 's1', automatic: true, text: 'same', reply: 'same' });
    expect(g.check(call('s1', 0.01, 'same', true))).not.toBeNull();
    expect(g.check(call('s1', 0.01, 'same', false))).toBeNull();
  });

  it('a limit of 0 disables auto_turns, rate and loop', () => {
    const g = guard({ max_auto_turns: 0, max_turns_per_hour: 0, repeat_threshold: 0 });
    for (let i = 0; i < 50; i++) g.recordTurn({ session: 's1', automatic: true, text: 'same', reply: 'same' });
    expect(g.check(call('s1', 0.01, 'same'))).toBeNull();
  });
});

describe('passOnceFor', () => {
  it('lets exactly one call through a relay-wide limit', () => {
    const g = guard({ budget_usd_per_day: 1 });
    spend('s1', 1);
    const trip = g.check(call('s1'))!;
    expect(trip.reason).toBe('budget_day');
    g.passOnceFor(trip);
    g.passOnceFor(trip); // the same pause resumed twice still means once
    expect(g.check(call('s1'))).toBeNull();
    expect(g.check(call('s1'))?.reason).toBe('budget_day');
  });

  it('lets exactly one call through a session limit, for that session only', () => {
    const g = guard({ max_auto_turns: 1 });
    turn(g, 's1');
    turn(g, 's2');
    const trip = g.check(call('s1'))!;
    expect(trip).toMatchObject({ reason: 'auto_turns', session: 's1' });
    g.passOnceFor(trip);
    expect(g.check(call('s2'))?.reason).toBe('auto_turns');
    expect(g.check(call('s1'))).toBeNull();
    turn(g, 's1');
    expect(g.check(call('s1'))?.reason).toBe('auto_turns');
  });

  it('is not consumed by calls that would not have tripped', () => {
    const g = guard({ budget_usd_per_day: 1 });
    spend('s1', 0.5);
    g.passOnceFor({ reason: 'budget_day', session: 's1', scope: 'relay' });
    expect(g.check(call('s1', 0.1))).toBeNull();
    expect(g.state.pass_once).toEqual(['budget_day']);
    spend('s1', 0.5);
    expect(g.check(call('s1', 0.1))).toBeNull();
    expect(g.check(call('s1', 0.1))?.reason).toBe('budget_day');
  });

  it('a pass for one limit is not spent when a later limit stops the same call', () => {
    const g = guard({ budget_usd_per_day: 1, max_turn_cost_usd: 0.5 });
    spend('s1', 0.9);
    const first = g.check(call('s1', 0.6))!;
    expect(first.reason).toBe('budget_day');
    g.passOnceFor(first);
    const second = g.check(call('s1', 0.6))!;
    expect(second.reason).toBe('turn_cost');
    g.passOnceFor(second);
    // Both limits were resumed once each: the call may now go.
    expect(g.check(call('s1', 0.6))).toBeNull();
  });
});

describe('day budget and warnings', () => {
  it('setDayBudget raises the budget for today only', () => {
    const g = guard({ budget_usd_per_day: 10 });
    spend('s1', 9.5);
    expect(g.check(call('s1', 1))?.reason).toBe('budget_day');
    g.setDayBudget(30);
    expect(g.dayBudget()).toBe(30);
    expect(g.check(call('s1', 1))).toBeNull();
    clock.now = NEXT_NOON;
    expect(g.dayBudget()).toBe(10);
    spend('s1', 9.5);
    expect(g.check(call('s1', 1))?.reason).toBe('budget_day');
  });

  it('setDayBudget can lower the budget too', () => {
    const g = guard({ budget_usd_per_day: 10 });
    spend('s1', 2);
    g.setDayBudget(2);
    const trip = g.check(call('s1', 0.5));
    expect(trip?.reason).toBe('budget_day');
    expect(trip!.message).toContain('$2.00 of $2.00');
  });

  it('warns once per budget per day when warn_at_fraction is reached, and again the next day', () => {
    const g = guard({ budget_usd_per_day: 10, budget_usd_per_session_per_day: 5, warn_at_fraction: 0.8 });
    spend('s1', 3);
    expect(turn(g, 's1')).toEqual([]);
    spend('s1', 1); // s1 at $4 of $5: 80%
    const w1 = turn(g, 's1');
    expect(w1.map((w) => w.key)).toEqual(['session:s1']);
    expect(w1[0].message).toContain('s1');
    expect(w1[0].message).toContain('$4.00 of $5.00');
    expect(w1[0].message).toContain('80%');
    expect(turn(g, 's1')).toEqual([]);

    spend('s2', 4); // the day at $8 of $10
    const w2 = turn(g, 's2');
    expect(w2.map((w) => w.key).sort()).toEqual(['day', 'session:s2']);
    const day = w2.find((w) => w.key === 'day')!;
    expect(day.message).toContain('daily budget');
    expect(day.message).toContain('$8.00 of $10.00');
    expect(turn(g, 's2')).toEqual([]);
    expect(g.warnings()).toEqual([]);

    clock.now = NEXT_NOON;
    expect(g.warnings()).toEqual([]);
    spend('s1', 8.5);
    const w3 = turn(g, 's1');
    expect(w3.map((w) => w.key).sort()).toEqual(['day', 'session:s1']);
    expect(turn(g, 's1')).toEqual([]);
  });

  it('warnings follow a raised day budget', () => {
    const g = guard({ budget_usd_per_day: 10, warn_at_fraction: 0.8 });
    spend('s1', 8);
    g.setDayBudget(100);
    expect(g.warnings()).toEqual([]);
  });
});

describe('loop detector: what counts as the same text', () => {
  it('case, spacing and punctuation do not make a text new', () => {
    expect(reduce('Tests pass.\n  Awaiting   review.')).toBe(reduce('tests PASS: awaiting review'));
  });

  it('timestamps, clock times, waits, request ids and retry counters are volatile', () => {
    expect(reduce('done at 2026-05-02T15:30:00Z')).toBe(reduce('done at 2026-05-03T09:01:12.345Z'));
    expect(reduce('14:05 still waiting')).toBe(reduce('14:10:33 still waiting'));
    expect(reduce('retrying in 2s')).toBe(reduce('retrying in 16 s'));
    expect(reduce('failed (request id req_8f2k1m9q2x)')).toBe(reduce('failed (request id req_a81kd02mzz)'));
    expect(reduce('attempt 1 of 3 failed')).toBe(reduce('Attempt 2 of 3 failed'));
    expect(reduce('retry #4: 503')).toBe(reduce('retry #5: 503'));
    expect(reduce('failed for the 3rd time')).toBe(reduce('failed for the 4th time'));
  });

  it('every other number is content: progress is change', () => {
    expect(reduce('step 1 done')).not.toBe(reduce('step 2 done'));
    expect(reduce('Tests: 40 passed, 2 failed')).not.toBe(reduce('Tests: 41 passed, 1 failed'));
    expect(reduce('cost turn 0')).not.toBe(reduce('cost turn 1'));
    expect(reduce('Opened PR #412')).not.toBe(reduce('Opened PR #413'));
    expect(reduce('p99 latency 320 ms')).not.toBe(reduce('p99 latency 250 ms'));
    expect(reduce('Uploaded batch 3/12')).not.toBe(reduce('Uploaded batch 4/12'));
  });

  it('near: a paraphrase adding one word matches; swapping one word does not', () => {
    const a = print('As I said, use sqlite for the unit tests and postgres in docker for the e2e suite.');
    const b = print('Use sqlite for the unit tests and postgres in docker for the e2e suite, please.');
    const c = print('Again: sqlite for the unit tests, postgres in docker for the e2e suite.');
    expect(same(a, b)).toBe(true);
    expect(same(a, c)).toBe(true);
    expect(
      same(
        print('Good. Next, add a test for the parser module of the compiler.'),
        print('Good. Next, add a test for the lexer module of the compiler.'),
      ),
    ).toBe(false);
    // Short texts must match exactly: too few words to call anything near.
    expect(same(print('Yes: run the formatter.'), print('Yes: run the linter.'))).toBe(false);
  });

  it('keeps fingerprints, never the text', () => {
    const st = emptyLoopState();
    record(st, 's1', 'secret text about the launch', 'reply with a password hunter2', 3);
    expect(JSON.stringify(st)).not.toMatch(/secret|launch|hunter2|password/);
  });

  it('a long text keeps no word list (state stays small) and matches only exactly', () => {
    const long = Array.from({ length: 300 }, (_, i) => `word${i}x`).join(' ');
    const p = print(long);
    expect(p.w).toEqual([]);
    expect(same(p, print(long))).toBe(true);
    expect(same(p, print(`${long} more`))).toBe(false);
  });

  it('threshold 0 is off; the window stays bounded', () => {
    const st = emptyLoopState();
    for (let i = 0; i < 100; i++) record(st, 's1', 'same', 'same', 3);
    expect(judge(st, 's1', 'same', 0)).toBeNull();
    expect(judge(st, 's1', 'same', 3)?.kind).toBe('repeat');
    expect(st.sessions.s1.length).toBeLessThanOrEqual(10);
    expect(st.replies.length).toBeLessThanOrEqual(8);
  });
});
