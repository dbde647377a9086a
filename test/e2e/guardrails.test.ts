import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeRequest } from '../../src/demo/fake-api.js';
import { configSchema } from '../../src/config/schema.js';
import { costOf, lookupPrice } from '../../src/pricing/prices.js';
import { enqueueEnvelope } from '../../src/protocol/envelope.js';
import { takeReply } from '../../src/protocol/session-io.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * Guardrails end to end (issue 4): the real CLI (dist/) against the fake Messages
 * API and a fake ntfy. Every limit must stop the relay (or the one session) BEFORE
 * the call that would cross it, keep the envelope in queue/, ping at priority 5 and
 * write the audit log.
 */

let h: Harness;
afterEach(async () => {
  await h?.close();
});

// Words, so every envelope's text is plainly its own.
const WORDS =
  'amber birch cedar delta ember fjord grove harbor iris juniper kelp lumen maple nectar onyx prism quartz raven sable tundra umber violet willow xenon yarrow zephyr'.split(
    ' ',
  );
function word(n: number): string {
  const out: string[] = [];
  do {
    out.push(WORDS[n % WORDS.length]);
    n = Math.floor(n / WORDS.length);
  } while (n > 0);
  return out.join(' ');
}
/** A chat-Claude whose every reply is different (so only the limit under test can trip). */
const varied = (req: FakeRequest) => ({ text: `Next, look at ${word(req.n)}.` });

// The seeded default model: what the relay runs on in these tests.
const MODEL = configSchema.parse({}).model;
const PRICE = lookupPrice(MODEL).price;
/** What the fake API billed, in dollars (its token totals at the price table). */
function apiBilled(): number {
  const t = h.api.totals();
  return costOf(
    { input_tokens: t.input, output_tokens: t.output, cache_creation_input_tokens: t.cacheWrite, cache_read_input_tokens: t.cacheRead },
    PRICE,
  );
}

function audit(): Array<{ at: string; source: string; action: string; text?: string; detail?: string }> {
  try {
    return fs
      .readFileSync(h.paths.audit, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

const say = (text: string) => h.cli(['say', '--root', h.root, text]);
const queued = () => fs.readdirSync(h.paths.queue).filter((n) => n.endsWith('.json'));
const asked = (content: string) => h.api.requests.some((r) => r.lastUserText.includes(content));

/** The trip left its marks: a priority-5 ping naming the reason, and an audit line. */
async function expectTrip(reason: string, session?: string) {
  const ping = await h.ntfy.waitFor(
    (m) => m.priority === 5 && !!m.title?.includes(`(${reason})`) && (!session || m.title.includes(session)),
  );
  expect(ping.tags).toContain('octagonal_sign');
  const a = audit().find((e) => e.detail === reason || e.detail === `${session}: ${reason}`);
  expect(a, `audit entry for ${reason}`).toBeTruthy();
  expect(a!.action).toBe(session ? 'session-pause' : 'pause');
  return ping;
}

/** Envelopes named so that queue order is obvious; the content is unique per envelope. */
function enqueueMany(session: string, n: number, prefix: string): Array<{ name: string; content: string }> {
  const out: Array<{ name: string; content: string }> = [];
  for (let i = 0; i < n; i++) {
    const content = `${prefix} ${session} reports ${word(i + 1)}`;
    out.push({ name: h.enqueue(session, content, `${prefix}-${session}-${String(i).padStart(3, '0')}.json`), content });
  }
  return out;
}

describe('guardrails (real CLI, fake API, fake ntfy)', () => {
  it('a tiny daily budget stops the relay before the call that would cross it; the envelope survives; /budget resumes', async () => {
    h = await createHarness({ api: { respond: varied } });
    const budget = 0.005;
    h.writeConfig({ max_tokens: 64, guardrails: { budget_usd_per_day: budget } });
    await h.startRelay();
    const envs = enqueueMany('session-1', 6, 'daily');
    const s = await h.waitStatus((s) => s.pause_reason === 'budget_day');
    expect(s.state).toBe('paused');
    expect(s.pause_message).toMatch(/daily budget/);
    expect(s.pause_message).toMatch(/\/budget/);
    // Before, not after: nothing billed past the budget.
    expect(s.today_cost_usd).toBeLessThanOrEqual(budget);
    expect(apiBilled()).toBeCloseTo(s.today_cost_usd, 10);
    const done = s.sessions['session-1'].turns;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(envs.length);
    // The API saw exactly the turns that were made, and nothing of the envelope that tripped.
    expect(h.api.requests).toHaveLength(done);
    const waiting = envs.slice(done);
    for (const e of waiting) expect(asked(e.content)).toBe(false);
    expect(queued().sort()).toEqual(waiting.map((e) => e.name).sort());
    expect(s.queue_depth).toBe(waiting.length);
    const ping = await expectTrip('budget_day');
    expect(ping.message).toMatch(/spent \$0\.\d+ of \$0\.0050/);

    // /budget raises today's budget and resumes; the envelopes flow.
    const r = await say('/budget 1');
    expect(r.exitCode).toBe(0);
    const after = await h.waitStatus((s) => s.queue_depth === 0 && s.sessions['session-1'].turns === envs.length && s.state === 'running');
    expect(after.budget_usd_per_day).toBe(1);
    expect(audit().some((e) => e.action === 'budget' && e.source === 'cli')).toBe(true);
  });

  it('a per-session budget pauses that session only; another session flows', async () => {
    h = await createHarness({ api: { respond: varied } });
    // A turn here bills about $0.001 and is projected at about $0.003.
    h.writeConfig({ max_tokens: 64, guardrails: { budget_usd_per_session_per_day: 0.005 } });
    await h.startRelay();
    const one = enqueueMany('session-1', 6, 'sess');
    const s = await h.waitStatus((s) => s.sessions['session-1']?.paused_reason === 'budget_session');
    expect(s.state).toBe('running');
    expect(s.pause_reason).toBeNull();
    expect(s.sessions['session-1'].paused_message).toMatch(/session-1 spent/);
    expect(s.sessions['session-1'].today_cost_usd).toBeLessThanOrEqual(0.005);
    const done1 = s.sessions['session-1'].turns;
    for (const e of one.slice(done1)) expect(asked(e.content)).toBe(false);
    await expectTrip('budget_session', 'session-1');

    // session-2's envelopes go through while session-1's wait.
    const two = enqueueMany('session-2', 2, 'sess');
    const s2 = await h.waitStatus((s) => s.sessions['session-2']?.turns === 2);
    for (const e of two) expect(asked(e.content)).toBe(true);
    expect(s2.sessions['session-1'].turns).toBe(done1);
    expect(s2.sessions['session-1'].queued).toBe(one.length - done1);
    expect(s2.sessions['session-1'].paused_reason).toBe('budget_session');
    expect(s2.sessions['session-2'].paused_reason).toBeNull();

    // /resume lets exactly one more session-1 turn through, then it pauses again.
    await say('/resume');
    const s3 = await h.waitStatus(
      (s) => s.sessions['session-1'].turns === done1 + 1 && s.sessions['session-1'].paused_reason === 'budget_session',
    );
    expect(s3.sessions['session-1'].queued).toBe(one.length - done1 - 1);
  });

  it('max_auto_turns pauses a session fed with no operator input; /allow resumes it; others flow meanwhile', async () => {
    h = await createHarness({ api: { respond: varied } });
    h.writeConfig({ max_tokens: 64, guardrails: { max_auto_turns: 3 } });
    await h.startRelay();
    const envs = enqueueMany('session-1', 6, 'auto');
    const s = await h.waitStatus((s) => s.sessions['session-1']?.paused_reason === 'auto_turns');
    expect(s.sessions['session-1'].turns).toBe(3);
    expect(s.sessions['session-1'].auto_turns).toBe(3);
    expect(s.sessions['session-1'].paused_message).toMatch(/\/allow session-1/);
    expect(h.api.requests).toHaveLength(3);
    expect(asked(envs[3].content)).toBe(false);
    await expectTrip('auto_turns', 'session-1');

    // Another session is not held by session-1's limit.
    enqueueMany('session-2', 1, 'auto');
    await h.waitStatus((s) => s.sessions['session-2']?.turns === 1);

    // /allow grants exactly N more.
    await say('/allow session-1 2');
    const s2 = await h.waitStatus((s) => s.sessions['session-1'].turns === 5 && s.sessions['session-1'].paused_reason === 'auto_turns');
    expect(s2.sessions['session-1'].queued).toBe(1);
    expect(audit().some((e) => e.action === 'allow' && e.text === '/allow session-1 2')).toBe(true);
    expect(audit().some((e) => e.action === 'session-resume' && e.detail === 'session-1: auto_turns')).toBe(true);

    // Operator input to the session starts its run again; what waited behind the pause is superseded (issue 23): never sent.
    await say('@session-1: carry on, I am watching');
    const s3 = await h.waitStatus((s) => s.sessions['session-1'].state === 'flowing' && s.queue_depth === 0);
    expect(s3.sessions['session-1'].paused_reason).toBeNull();
    expect(s3.sessions['session-1'].auto_turns).toBe(0);
    expect(s3.sessions['session-1'].turns).toBe(5);
    expect(asked(envs[5].content)).toBe(false);
    // Nobody acked here: the replies still waiting in its outbox were set aside too; only the operator's may wait.
    const waitingReplies = fs.readdirSync(path.join(h.paths.outbox, 'session-1')).filter((n) => n.endsWith('.txt'));
    expect(waitingReplies.every((n) => n.includes('-op-'))).toBe(true);
    expect(audit().some((e) => e.action === 'superseded' && e.text === envs[5].content)).toBe(true);
  });

  it('the same exchange three times in a row trips loop before the third is sent; /resume lets it through once', async () => {
    h = await createHarness({ api: { respond: () => ({ text: 'Retry the build.' }) } });
    h.writeConfig({ max_tokens: 64 });
    await h.startRelay();
    // Case, spacing, the attempt counter and the time do not make a message new; the step number would.
    const names = [
      h.enqueue('session-1', 'Build failed at step 3. Retrying (attempt 1) at 02:14:07.', 'a.json'),
      h.enqueue('session-1', 'build FAILED at step 3.   Retrying (attempt 2) at 02:15:31.', 'b.json'),
      h.enqueue('session-1', 'Build failed at step 3. Retrying (attempt 3) at 02:17:02.', 'c.json'),
    ];
    const s = await h.waitStatus((s) => s.sessions['session-1']?.paused_reason === 'loop');
    expect(s.sessions['session-1'].paused_message).toMatch(/same message and got the same reply 2 times in a row/);
    expect(h.api.requests).toHaveLength(2);
    expect(queued()).toEqual([names[2]]);
    await expectTrip('loop', 'session-1');
    await say('/resume');
    await h.waitStatus((s) => s.sessions['session-1'].turns === 3 && s.queue_depth === 0);
    expect(h.api.requests).toHaveLength(3);
  });

  it('the same reply to different envelopes is not a loop (chat-Claude saying "continue" to each step)', async () => {
    h = await createHarness({ api: { respond: () => ({ text: 'Looks fine, continue.' }) } });
    h.writeConfig({ max_tokens: 64 });
    await h.startRelay();
    enqueueMany('session-1', 5, 'reply');
    const s = await h.waitStatus((s) => s.sessions['session-1']?.turns === 5 && s.queue_depth === 0);
    expect(s.sessions['session-1'].paused_reason).toBeNull();
    expect(h.api.requests).toHaveLength(5);
  });

  it('a rate limit trips rate', async () => {
    h = await createHarness({ api: { respond: varied } });
    h.writeConfig({ max_tokens: 64, guardrails: { max_turns_per_hour: 2 } });
    await h.startRelay();
    const envs = enqueueMany('session-1', 3, 'rate');
    const s = await h.waitStatus((s) => s.sessions['session-1']?.paused_reason === 'rate');
    expect(s.sessions['session-1'].paused_message).toMatch(/2 turns in the last hour \(limit 2\)/);
    expect(h.api.requests).toHaveLength(2);
    expect(asked(envs[2].content)).toBe(false);
    await expectTrip('rate', 'session-1');
  });

  it('a projected turn over max_turn_cost_usd trips turn_cost before the call', async () => {
    h = await createHarness({ api: { respond: varied } });
    // max_tokens alone projects 4096 × $20/M ≈ $0.08 of output (Opus 5.5).
    h.writeConfig({ max_tokens: 4096, guardrails: { max_turn_cost_usd: 0.05 } });
    await h.startRelay();
    h.enqueue('session-1', 'hello there', 'tc.json');
    const s = await h.waitStatus((s) => s.pause_reason === 'turn_cost');
    expect(s.pause_message).toMatch(/over max_turn_cost_usd \$0\.0500/);
    expect(h.api.requests).toHaveLength(0);
    expect(queued()).toEqual(['tc.json']);
    await expectTrip('turn_cost');
    await say('/resume');
    await h.waitStatus((s) => s.sessions['session-1']?.turns === 1 && s.state === 'running');
  });

  it('operator turns skip auto_turns, rate and loop, but not the money limits', async () => {
    h = await createHarness({ api: { respond: varied } });
    h.writeConfig({ max_tokens: 64, guardrails: { max_auto_turns: 1, max_turns_per_hour: 1, repeat_threshold: 2 } });
    await h.startRelay();
    enqueueMany('session-1', 2, 'op');
    await h.waitStatus((s) => !!s.sessions['session-1']?.paused_reason);
    expect(h.api.requests).toHaveLength(1);
    // A plain-text turn from the operator is not an automatic turn: it runs, twice, same text.
    await say('what is the state of things?');
    await h.waitStatus(() => h.api.requests.length === 2);
    await say('what is the state of things?');
    await h.waitStatus(() => h.api.requests.length === 3);
    expect(h.api.requests[1].lastUserText).toMatch(/^\[operator/);
    expect(h.api.requests[2].lastUserText).toMatch(/^\[operator/);
    // A money limit still stops it, before the call.
    await say('/budget 0.000001');
    await say('and one more question');
    await h.waitStatus((s) => s.pause_reason === 'budget_day');
    expect(h.api.requests).toHaveLength(3);
    expect(fs.readdirSync(h.paths.operatorInbox).length).toBe(1); // the question waits, durably
    await say('/budget 5');
    await h.waitStatus(() => h.api.requests.length === 4);
    expect(h.api.requests[3].lastUserText).toContain('and one more question');
  });

  it('approval: all holds a plain reply until /approve', async () => {
    h = await createHarness({ api: { respond: varied } });
    h.writeConfig({ max_tokens: 64, approval: 'all' });
    await h.startRelay();
    h.enqueue('session-1', 'Refactor done, tests green.');
    const s = await h.waitStatus((s) => s.held !== null);
    // Issue 23: the held reply holds its own session; the relay as a whole runs.
    expect(s.state).toBe('running');
    expect(s.sessions['session-1'].state).toBe('awaiting_approval');
    expect(s.pause_reason).toBe('approval');
    expect(s.held!.session).toBe('session-1');
    expect(s.held!.text).toMatch(/^Next, look at/);
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
    await h.ntfy.waitFor((m) => !!m.title?.includes('awaits approval'));
    // Another session is taken meanwhile, and its reply is held in turn.
    h.enqueue('session-2', 'Meanwhile, over here.');
    await h.waitStatus((s) => s.waiting?.length === 2);
    expect(h.api.requests).toHaveLength(2);
    // Two wait: a bare /approve names them and does nothing.
    const bare = await say('/approve');
    expect(bare.exitCode).toBe(1);
    expect(bare.stderr).toMatch(/several wait: session-1 \(approval, .*session-2 \(approval/);
    await say('/approve session-1');
    expect(await h.waitFile(h.input('session-1'))).toBe(s.held!.text);
    const s2 = await h.waitStatus((s) => s.held?.session === 'session-2');
    expect(s2.pause_reason).toBe('approval');
    expect(audit().some((e) => e.action === 'held-approved')).toBe(true);
  });

  it('spend and guard counters survive kill -9 and restart; relay-tui cost agrees', async () => {
    h = await createHarness({ api: { respond: varied } });
    h.writeConfig({ max_tokens: 64, guardrails: { max_auto_turns: 3 } });
    await h.startRelay();
    enqueueMany('session-1', 2, 'k9');
    enqueueMany('session-2', 1, 'k9');
    const before = await h.waitStatus(
      (s) => s.queue_depth === 0 && s.sessions['session-1']?.turns === 2 && s.sessions['session-2']?.turns === 1,
    );
    expect(before.today_cost_usd).toBeGreaterThan(0);
    h.relay!.kill('SIGKILL');
    await h.stopRelay();
    await h.startRelay();
    const after = h.status()!;
    expect(after.today_cost_usd).toBeCloseTo(before.today_cost_usd, 12);
    expect(after.total_cost_usd).toBeCloseTo(before.total_cost_usd, 12);
    expect(after.sessions['session-1'].today_cost_usd).toBeCloseTo(before.sessions['session-1'].today_cost_usd, 12);
    expect(after.sessions['session-1'].auto_turns).toBe(2);
    const cost = await h.cli(['cost', '--root', h.root, '--json']);
    expect(cost.exitCode).toBe(0);
    const c = JSON.parse(cost.stdout);
    const today = c.days[c.days.length - 1];
    expect(today.costUsd).toBeCloseTo(before.today_cost_usd, 12);
    expect(today.turns).toBe(3);
    expect(today.sessions['session-1'].costUsd).toBeCloseTo(before.sessions['session-1'].today_cost_usd, 12);
    expect(today.sessions['session-2'].turns).toBe(1);
    const text = await h.cli(['cost', '--root', h.root]);
    expect(text.stdout).toMatch(/\(today\)\s+\$0\.\d{4}\s+3 turns/);
    expect(text.stdout).toMatch(/session-1\s+\$0\.\d{4}\s+2 turns/);
    // The auto-turn count survived too: one more automatic turn, then the limit.
    enqueueMany('session-1', 2, 'k9b');
    const s = await h.waitStatus((s) => s.sessions['session-1'].paused_reason === 'auto_turns');
    expect(s.sessions['session-1'].turns).toBe(3);
  });

  it('a kill -9 during a call still counts that call (the ledger never shows less than the API billed)', async () => {
    let hang = true;
    h = await createHarness({
      api: { respond: (req) => (hang && /midcall/.test(req.lastUserText) ? { text: 'slow answer', delayMs: 60_000 } : varied(req)) },
    });
    h.writeConfig({ max_tokens: 64 });
    await h.startRelay();
    enqueueMany('session-1', 1, 'first');
    await h.waitStatus((s) => s.sessions['session-1']?.turns === 1);
    const inflight = new Promise<void>((resolve) => h.api.onRequest((r) => /midcall/.test(r.lastUserText) && resolve()));
    enqueueMany('session-1', 1, 'midcall');
    await inflight;
    await h.waitStatus((s) => s.inflight !== null);
    h.relay!.kill('SIGKILL');
    await h.stopRelay();
    hang = false;
    await h.startRelay();
    const s = await h.waitStatus((s) => s.queue_depth === 0 && s.sessions['session-1'].turns === 2);
    // The API billed the interrupted call and the re-asked one; the ledger counts both.
    expect(h.api.requests).toHaveLength(3);
    expect(s.today_cost_usd).toBeGreaterThanOrEqual(apiBilled() - 1e-12);
    const c = JSON.parse((await h.cli(['cost', '--root', h.root, '--json'])).stdout);
    expect(c.days[c.days.length - 1].costUsd).toBeCloseTo(s.today_cost_usd, 12);
  });

  it('a call the API refused is not counted, before or after a restart', async () => {
    h = await createHarness({ api: { respond: varied } });
    h.writeConfig({ max_tokens: 64 });
    h.api.script({ status: 400, errorType: 'invalid_request_error', message: 'prompt is too long' });
    await h.startRelay();
    h.enqueue('session-1', 'this one is refused');
    await h.waitStatus((s) => s.state === 'error');
    await h.stopRelay();
    await h.startRelay();
    expect(h.status()!.today_cost_usd).toBe(0);
    const c = JSON.parse((await h.cli(['cost', '--root', h.root, '--json'])).stdout);
    expect(c.total.costUsd).toBe(0);
    await say('/resume');
    const s = await h.waitStatus((s) => s.sessions['session-1']?.turns === 1);
    expect(s.today_cost_usd).toBeCloseTo(apiBilled(), 12);
  });

  it('budget warnings ping once per budget per day, even across a restart', async () => {
    h = await createHarness({ api: { respond: varied } });
    // ~$0.001 a turn: the 80% mark of $0.010 is reached after several turns, well before the limit bites.
    h.writeConfig({
      max_tokens: 16,
      guardrails: { budget_usd_per_day: 0.01, budget_usd_per_session_per_day: 0.01, warn_at_fraction: 0.3 },
    });
    await h.startRelay();
    enqueueMany('session-1', 4, 'warn');
    await h.ntfy.waitFor((m) => !!m.title?.includes('budget warning') && m.message.startsWith('daily budget'));
    // All four turns done, not only taken: a stop during the last call would (rightly) count
    // it at its projected cost, and the budget would bite before the sixth turn.
    await h.waitStatus((s) => s.queue_depth === 0 && s.sessions['session-1'].turns === 4 && !s.inflight);
    await h.stopRelay();
    await h.startRelay();
    enqueueMany('session-1', 2, 'warn2');
    await h.waitStatus((s) => s.queue_depth === 0 && s.sessions['session-1'].turns === 6);
    const warnings = h.ntfy.messages.filter((m) => m.title?.includes('budget warning'));
    expect(warnings.filter((m) => m.message.startsWith('daily budget'))).toHaveLength(1);
    expect(warnings.filter((m) => m.message.startsWith("session-1's daily budget"))).toHaveLength(1);
    expect(warnings.every((m) => m.priority === 4)).toBe(true);
  });
});

describe('runaway: two sessions echoing each other as fast as they can (default config)', () => {
  /**
   * Each session's reply is taken from its input.txt the moment it appears and
   * enqueued as the other session's envelope: a ping-pong with no human in it.
   */
  /** transform: what the session sends on, given the reply it got (default: the reply itself, a pure echo). */
  function echo(
    h: Harness,
    pairs: Array<[string, string]>,
    transform: (reply: string, n: number) => string = (r) => r,
  ): { stop: () => void; echoed: () => number } {
    let n = 0;
    let stopped = false;
    const pump = () => {
      if (stopped) return;
      for (const [from, to] of pairs) {
        const text = takeReply(h.paths, from);
        if (text !== undefined) {
          enqueueEnvelope(h.paths, to, transform(text, n));
          n++;
        }
      }
    };
    const watchers = pairs.map(([from]) => {
      const dir = path.join(h.paths.dispatch, from);
      fs.mkdirSync(dir, { recursive: true });
      return fs.watch(dir, pump);
    });
    const tick = setInterval(pump, 20);
    return {
      stop() {
        stopped = true;
        clearInterval(tick);
        for (const w of watchers) w.close();
      },
      echoed: () => n,
    };
  }

  async function runaway(respond?: (req: FakeRequest) => { text: string }, transform?: (reply: string, n: number) => string) {
    h = await createHarness({ api: respond ? { respond } : {} });
    h.writeConfig({});
    await h.startRelay();
    const e = echo(
      h,
      [
        ['session-1', 'session-2'],
        ['session-2', 'session-1'],
      ],
      transform,
    );
    h.enqueue('session-1', 'Kick-off: tell session-2 what you are doing.');
    try {
      // Stopped: nothing in flight, nothing runnable left in queue/, no reply left to echo.
      const s = await h.waitStatus((s) => {
        const ss = Object.values(s.sessions) as any[];
        const relayPaused = s.state !== 'running';
        return (
          s.inflight === null &&
          (relayPaused || (ss.some((x) => x.paused_reason) && ss.every((x) => x.queued === 0 || x.paused_reason))) &&
          ss.every((x) => !x.awaiting_ack && x.pending === 0)
        );
      }, 40_000);
      return { s, echoed: e.echoed() };
    } finally {
      e.stop();
    }
  }

  function report(label: string, s: any) {
    const turns = ['session-1', 'session-2'].map((id) => s.sessions[id].turns);
    const why = s.pause_reason
      ? `relay: ${s.pause_reason}`
      : ['session-1', 'session-2'].map((id) => `${id}: ${s.sessions[id].paused_reason ?? 'waiting'}`).join(', ');
    const line = `${label}: stopped after ${turns.join('+')} turns (${why}); ${h.api.requests.length} API calls, ledger $${s.total_cost_usd.toFixed(4)}, API billed $${apiBilled().toFixed(4)}`;
    process.stdout.write(`RUNAWAY ${line}\n`);
    return turns;
  }

  it('stock fake replies (all alike): the loop guard stops it within a few turns', async () => {
    const { s } = await runaway();
    const turns = report('stock replies', s);
    const paused = Object.entries(s.sessions).filter(([, x]: any) => x.paused_reason) as any[];
    expect(paused.map(([, x]) => x.paused_reason)).toEqual(['loop']);
    for (const t of turns) expect(t).toBeLessThanOrEqual(12);
    expect(h.api.requests).toHaveLength(turns[0] + turns[1]);
    expect(s.total_cost_usd).toBeCloseTo(apiBilled(), 10);
    await expectTrip('loop', paused[0][0]);
  });

  it('every reply different, echoed verbatim: the loop guard sees the echo within repeat_threshold turns of a session', async () => {
    const { s } = await runaway(varied);
    const turns = report('varied replies, echoed', s);
    // session-2's 3rd envelope is its 3rd echo of a reply: refused before its call.
    expect(s.sessions['session-2'].paused_reason).toBe('loop');
    expect(s.sessions['session-2'].paused_message).toMatch(/replies back 3 times in a row/);
    expect(turns).toEqual([3, 2]);
    expect(h.api.requests).toHaveLength(5);
    expect(s.total_cost_usd).toBeCloseTo(apiBilled(), 10);
    await expectTrip('loop', 'session-2');
  });

  it('sessions that answer (never the same words twice): max_auto_turns stops it at exactly 12 turns per session, no call past it', async () => {
    const { s } = await runaway(varied, (_reply, n) => `Done, ${word(n + 7)} is finished; what next?`);
    const turns = report('varied replies, answered', s);
    expect(turns).toEqual([12, 12]);
    // session-1 spoke first, so its 13th envelope is the one that trips; session-2 never gets a 13th.
    expect(s.sessions['session-1'].paused_reason).toBe('auto_turns');
    expect(s.sessions['session-1'].queued).toBe(1);
    expect(h.api.requests).toHaveLength(24);
    expect(s.total_cost_usd).toBeCloseTo(apiBilled(), 10);
    await expectTrip('auto_turns', 'session-1');
  });

  it('under a small daily budget the runaway stops before crossing it', async () => {
    const budget = 0.5;
    const long = (req: FakeRequest) => ({ text: `${word(req.n)} `.repeat(Math.ceil(17_000 / (word(req.n).length + 1))) });
    h = await createHarness({ api: { respond: long } });
    h.writeConfig({ guardrails: { budget_usd_per_day: budget } });
    await h.startRelay();
    const e = echo(h, [
      ['session-1', 'session-2'],
      ['session-2', 'session-1'],
    ]);
    h.enqueue('session-1', 'Kick-off: tell session-2 what you are doing.');
    try {
      const s = await h.waitStatus((s) => s.pause_reason === 'budget_day' && s.inflight === null, 20_000);
      report(`$${budget} daily budget, max-length replies`, s);
      process.stdout.write(
        `RUNAWAY budget: spent $${s.today_cost_usd.toFixed(4)} of $${budget}; overshoot $${Math.max(0, s.today_cost_usd - budget).toFixed(4)}\n`,
      );
      expect(s.today_cost_usd).toBeLessThanOrEqual(budget);
      expect(apiBilled()).toBeLessThanOrEqual(budget);
      expect(s.queue_depth).toBe(1);
      await expectTrip('budget_day');
    } finally {
      e.stop();
    }
  });

  it('worst case: every reply different and as long as max_tokens allows, each session answering with all of it', async () => {
    // 4096 tokens of output a turn, sent back inside the other session's report: the history grows by
    // ~8k tokens a turn, so this is the most a runaway can spend per turn with defaults.
    const long = (req: FakeRequest) => ({ text: `${word(req.n)} `.repeat(Math.ceil(17_000 / (word(req.n).length + 1))) });
    const { s } = await runaway(long, (reply, n) => `Report ${word(n + 3)}: ${reply}`);
    const turns = report('max-length replies', s);
    for (const t of turns) expect(t).toBeLessThanOrEqual(12);
    // What stops it: max_auto_turns, or (once the history is large enough to need summarizing)
    // max_turn_cost_usd, since one summary call plus the turn after it could cost more than $1.
    expect(s.pause_reason === 'turn_cost' || Object.values(s.sessions).some((x: any) => x.paused_reason === 'auto_turns')).toBe(true);
    expect(h.api.requests.filter((r) => !/summar/i.test(r.lastUserText)).length).toBe(turns[0] + turns[1]);
    // Never over a budget: the per-session budget is $5 and the day's $20.
    for (const id of ['session-1', 'session-2']) expect(s.sessions[id].today_cost_usd).toBeLessThanOrEqual(5);
    expect(s.today_cost_usd).toBeLessThanOrEqual(20);
    expect(s.total_cost_usd).toBeGreaterThanOrEqual(apiBilled() - 1e-9);
  }, 60_000);
});

describe('ordinary work flows with the default config (issue 12)', () => {
  it('"cost turn 0", "cost turn 1", "cost turn 2" from one session, stock replies: three turns, no pause; cost names the price entry', async () => {
    h = await createHarness();
    h.writeConfig({});
    await h.startRelay();
    for (let i = 0; i < 3; i++) h.enqueue('session-1', `cost turn ${i}`, `ct-${i}.json`);
    const s = await h.waitStatus((s) => s.sessions['session-1']?.turns === 3 && s.queue_depth === 0);
    expect(s.state).toBe('running');
    expect(s.sessions['session-1'].paused_reason).toBeNull();
    expect(h.api.requests).toHaveLength(3);
    expect(h.api.requests.map((r) => r.lastUserText.split('\n').pop())).toEqual(['cost turn 0', 'cost turn 1', 'cost turn 2']);
    expect(s.model).toBe(MODEL);
    expect(s.today_cost_usd).toBeCloseTo(apiBilled(), 12);
    const text = await h.cli(['cost', '--root', h.root]);
    expect(text.stdout).toMatch(/\(today\)\s+\$0\.\d{4}\s+3 turns/);
    expect(text.stdout).toContain(`priced at: ${MODEL} $`);
    expect(text.stdout).not.toMatch(/crash|in flight/);
    const c = JSON.parse((await h.cli(['cost', '--root', h.root, '--json'])).stdout);
    expect(c.days[c.days.length - 1].price_entries[MODEL].calls).toBe(3);
  });

  it('a plan stepped through (step N done, the same acknowledgement each time) is not a loop', async () => {
    h = await createHarness({ api: { respond: () => ({ text: 'Good. Carry on with the next step.' }) } });
    h.writeConfig({});
    await h.startRelay();
    for (let i = 1; i <= 5; i++) h.enqueue('session-1', `step ${i} done`, `st-${i}.json`);
    const s = await h.waitStatus((s) => s.sessions['session-1']?.turns === 5 && s.queue_depth === 0);
    expect(s.sessions['session-1'].paused_reason).toBeNull();
  });

  it('the same message and the same reply: stopped before the 3rd call', async () => {
    h = await createHarness({ api: { respond: () => ({ text: 'Retry npm install.' }) } });
    h.writeConfig({});
    await h.startRelay();
    for (let i = 1; i <= 5; i++) h.enqueue('session-1', `Attempt ${i}/10: npm install failed with ECONNRESET.`, `rt-${i}.json`);
    const s = await h.waitStatus((s) => s.sessions['session-1']?.paused_reason === 'loop');
    expect(h.api.requests).toHaveLength(2);
    expect(s.sessions['session-1'].queued).toBe(3);
    await expectTrip('loop', 'session-1');
  });
});
