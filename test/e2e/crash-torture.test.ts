import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/random.js';
import { answerBatch } from '../../src/demo/fake-api-batch.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * Exactly once, end to end: the real `relay-tui --no-ui` against the fake Messages
 * API, four sessions feeding envelopes and acking their replies, and the relay
 * killed with SIGKILL at random moments (some a few ms after the API answered),
 * restarted each time. Every envelope must get exactly one reply, at the session
 * that spoke, in the order it spoke; only a call cut off mid-flight may be asked
 * again, and even then its reply is recorded once.
 */

const SEED = Number(process.env.TORTURE_SEED ?? 20261201);
const SESSIONS = ['s-alpha', 's-beta', 's-gamma', 's-delta'];
const PER_SESSION = 38;
const KILLS = 15;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const markerOf = (text: string) => /msg (\S+) #(\d+)/.exec(text);

const markersOf = (text: string) => [...text.matchAll(/msg (\S+) #(\d+)/g)].map((m) => m[0]);

// One by one, and batched (every waiting session in one call, answered in sections that a kill can cut between).
describe.each([
  ['one by one', 'off'],
  ['batched', { max_sessions: 8 }],
] as const)('crash torture (%s)', (mode, batch) => {
  it(`${SESSIONS.length * PER_SESSION} envelopes, ${KILLS} kill -9s, restarts: 0 lost, 0 duplicated, 0 misrouted, order kept`, async () => {
    const rnd = seededRandom(SEED);
    // The fake's delay for its n-th request, known in advance so a kill can be aimed just after the answer.
    const delays = Array.from({ length: 5000 }, () => (rnd() < 0.3 ? 0 : Math.floor(rnd() * 40)));
    h = await createHarness({
      api: {
        respond: (req) => ({
          text:
            answerBatch(req.lastUserText, (p) => `ACK ${markerOf(p.text)?.[0] ?? 'none'}`) ??
            `ACK ${markerOf(req.lastUserText)?.[0] ?? 'none'}`,
          delayMs: delays[req.n] ?? 0,
        }),
      },
      config: {
        batch,
        sessions: SESSIONS.map((id) => ({ id })),
        guardrails: {
          max_auto_turns: 0,
          repeat_threshold: 0,
          max_turns_per_hour: 0,
          budget_usd_per_day: 1e6,
          budget_usd_per_session_per_day: 1e6,
          max_turn_cost_usd: 1e6,
        },
        history: { cap_tokens: 10_000_000 },
      },
    });
    const harness = h;
    const { paths } = harness;
    fs.mkdirSync(paths.queue, { recursive: true });

    // The session side: write envelopes atomically, in order; take (ack) replies as they arrive.
    const sent = new Map(SESSIONS.map((s) => [s, 0]));
    const got = new Map<string, string[]>(SESSIONS.map((s) => [s, []]));
    let misrouted = 0;
    let stamp = Date.now() - 600_000;
    const feed = (n: number) => {
      for (let i = 0; i < n; i++) {
        const open = SESSIONS.filter((s) => sent.get(s)! < PER_SESSION);
        if (!open.length) return;
        const s = open[Math.floor(rnd() * open.length)];
        const k = sent.get(s)!;
        sent.set(s, k + 1);
        const name = `${String(++stamp)}-${s}-${k}.json`;
        const tmp = path.join(paths.queue, `.${name}.tmp`);
        fs.writeFileSync(tmp, JSON.stringify({ session_id: s, content: `msg ${s} #${k}` }));
        // Distinct mtimes in writing order: "oldest first" is then the writing order.
        fs.utimesSync(tmp, stamp / 1000, stamp / 1000);
        fs.renameSync(tmp, path.join(paths.queue, name));
      }
    };
    const ack = () => {
      for (const s of SESSIONS) {
        const file = harness.input(s);
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch {
          continue;
        }
        fs.unlinkSync(file);
        const m = markerOf(text);
        if (!m || m[1] !== s) misrouted++;
        got.get(s)!.push(text);
      }
    };
    const acker = setInterval(ack, 3);

    const recoveries: number[] = [];
    const restart = async () => {
      const t = Date.now();
      await harness.startRelay();
      recoveries.push(Date.now() - t);
    };
    const kill = async () => {
      const child = harness.relay!;
      harness.relay = undefined;
      child.kill('SIGKILL');
      await child;
    };
    const total = SESSIONS.length * PER_SESSION;
    let kills = 0;
    let aimed = 0;
    try {
      feed(12);
      await restart();
      while (kills < KILLS) {
        feed(Math.ceil(total / KILLS) + 1);
        if (kills % 3 === 1) {
          // Aimed: a few ms after the fake answers the next request.
          await new Promise<void>((resolve) => {
            const off = harness.api.onRequest((req) => {
              off();
              setTimeout(resolve, (delays[req.n] ?? 0) + 1 + Math.floor(rnd() * 6));
            });
            setTimeout(() => (off(), resolve()), 3000);
          });
          aimed++;
        } else {
          await new Promise((r) => setTimeout(r, 20 + Math.floor(rnd() * 250)));
        }
        await kill();
        kills++;
        await restart();
      }
      feed(total);
      const done = () =>
        SESSIONS.every((s) => got.get(s)!.length >= PER_SESSION) &&
        fs.readdirSync(paths.queue).filter((n) => n.endsWith('.json')).length === 0;
      const end = Date.now() + 30_000;
      while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      // Anything late would be a duplicate: give it a moment to show up.
      await new Promise((r) => setTimeout(r, 300));
      ack();
    } finally {
      clearInterval(acker);
    }

    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const s of SESSIONS) {
      const nums = got.get(s)!.map((t) => Number(markerOf(t)?.[2] ?? -1));
      const seen = new Set<number>();
      for (const n of nums) {
        if (seen.has(n)) duplicated++;
        else seen.add(n);
      }
      for (let k = 0; k < PER_SESSION; k++) if (!seen.has(k)) lost++;
      for (let i = 1; i < nums.length; i++) if (nums[i] < nums[i - 1]) outOfOrder++;
    }
    const asked = new Map<string, number>();
    let batches = 0;
    for (const r of harness.api.requests) {
      const ms = markersOf(r.lastUserText);
      if (ms.length > 1) batches++;
      for (const m of ms) asked.set(m, (asked.get(m) ?? 0) + 1);
    }
    const repeated = [...asked.values()].reduce((n, c) => n + c - 1, 0);
    // Recorded once each, however often asked.
    const recorded = new Map<string, number>();
    for (const line of fs.readFileSync(paths.conversation, 'utf8').split('\n').filter(Boolean)) {
      const r = JSON.parse(line);
      const m = r.t === 'turn' ? markerOf(r.user)?.[0] : undefined;
      if (m) recorded.set(m, (recorded.get(m) ?? 0) + 1);
    }
    const sorted = [...recoveries].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)];
    process.stdout.write(
      `crash torture, ${mode} (seed ${SEED}): ${total} envelopes, ${batches} batched calls, ${kills} kills (${aimed} aimed just after an answer), ${recoveries.length} starts; ` +
        `lost ${lost}, duplicated ${duplicated}, misrouted ${misrouted}, out of order ${outOfOrder}; ` +
        `API calls ${harness.api.requests.length}, repeated ${repeated}; recovery (spawn to up) p50 ${p50} ms, max ${sorted[sorted.length - 1]} ms\n`,
    );
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(misrouted).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(fs.readdirSync(paths.queue).filter((n) => n.endsWith('.json'))).toEqual([]);
    expect(fs.readdirSync(paths.rejected)).toEqual([]);
    expect([...recorded.values()].every((c) => c === 1)).toBe(true);
    expect(recorded.size).toBe(total);
    // Only a call cut off by a kill can be asked again: at most one per kill (a batch's envelopes each).
    expect(repeated).toBeLessThanOrEqual(batch === 'off' ? kills : kills * SESSIONS.length);
    if (batch === 'off') expect(batches).toBe(0);
    else expect(batches).toBeGreaterThan(0);
  }, 180_000);
});
