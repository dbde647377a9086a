import React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../bench/random.js';
import { App } from '../../src/ui/App.js';
import { Header } from '../../src/ui/Header.js';
import { age, duration } from '../../src/ui/format.js';
import { ageStepMs, countdownStepMs, durationStepMs, nextChangeMs, uptime, uptimeStepMs } from '../../src/ui/ticks.js';
import { FakeRelay, NOW, iso, session, status } from './fake-relay.js';
import { lines, renderSized, tick, type Rendered } from './harness.js';
import { waits } from './waits.js';

/**
 * The clock ticks when a figure on screen will change, and only then (issue 25 items 6
 * and 9): each step function against its formatter, the uptime in one format whatever
 * the relay is doing, and the frames an idle TUI draws while it holds a question.
 */

let r: Rendered | undefined;
afterEach(() => {
  r?.unmount();
  r = undefined;
  vi.useRealTimers();
});

const DAY = 86_400_000;
const ageOf = (elapsed: number) => age(new Date(NOW - elapsed).toISOString(), NOW);
const countdown = (left: number) => duration(left);

describe('each figure changes exactly on its planned tick', () => {
  const pairs: Array<[string, (e: number) => string, (e: number) => number]> = [
    ['age', ageOf, ageStepMs],
    ['duration', duration, durationStepMs],
    ['uptime', uptime, uptimeStepMs],
  ];
  for (const [name, show, step] of pairs) {
    it(`${name}: the same text until the step, a different one at it (seeded, 3 days of elapsed times)`, () => {
      const rnd = seededRandom(name.length * 7919);
      for (let i = 0; i < 5000; i++) {
        // Half near a unit boundary (59 s, 1 h, 1 d), half anywhere.
        const near = [60_000, 3_600_000, DAY][i % 3];
        const e = i % 2 ? Math.floor(rnd() * 3 * DAY) : Math.max(0, near + Math.floor((rnd() - 0.5) * 4000));
        const d = step(e);
        expect(d).toBeGreaterThan(0);
        expect(show(e + d - 1), `${name} at ${e} + ${d - 1}`).toBe(show(e));
        expect(show(e + d), `${name} at ${e} + ${d}`).not.toBe(show(e));
      }
    });
  }

  it('a countdown (the retry wait) changes just past each whole second and stops at 0s', () => {
    const rnd = seededRandom(17);
    for (let i = 0; i < 2000; i++) {
      const left = Math.floor(rnd() * 120_000);
      const d = countdownStepMs(left);
      if (!Number.isFinite(d)) {
        expect(countdown(left)).toBe('0s');
        continue;
      }
      expect(countdown(left - d + 1)).toBe(countdown(left));
      expect(countdown(left - d)).not.toBe(countdown(left));
    }
  });
});

describe('the uptime has one format', () => {
  it('the same text busy (a call in flight) or idle, at every elapsed time', () => {
    const rnd = seededRandom(3);
    const inflight = { kind: 'turn' as const, session: 'session-1', started_at: iso(2_000), chars: 10, attempt: 1 };
    for (let i = 0; i < 40; i++) {
      const up = i < 20 ? i * 7_000 : Math.floor(rnd() * 3 * DAY);
      const uptimeText = (over: Parameters<typeof status>[0]) => {
        const h = renderSized(<Header status={status({ started_at: iso(up), ...over })} now={NOW} width={120} height={2} />);
        const l = lines(h.lastFrame())[0];
        h.unmount();
        return / up (\S+) /.exec(l)?.[1];
      };
      const idle = uptimeText({});
      expect(idle).toBe(uptime(up));
      expect(uptimeText({ inflight })).toBe(idle);
      expect(uptimeText({ queue_depth: 3, queue_oldest_at: iso(1_000) })).toBe(idle);
    }
  });
});

/** Fake time forward in small steps, letting React commit on the real event loop between. */
async function pass(ms: number, out: { frames: string[] }) {
  for (let t = 0; t < ms; t += 100) {
    await vi.advanceTimersByTimeAsync(Math.min(100, ms - t));
    await tick(out);
  }
}

describe('an idle TUI holding a question', () => {
  it('draws a few frames a minute, not one a second, and every figure is current', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    // A session asks; its next envelope waits behind the question; everything is minutes old.
    const relay = new FakeRelay(
      waits(
        { held: [{ turn: 7, session: 'session-1', text: '[NEEDS-JC] ship it?', reason: 'needs_jc', at: iso(100_000), code: 'X1' }] },
        {
          state: 'needs_jc',
          queue_depth: 1,
          queue_oldest_at: iso(90_000),
          last_dispatch_session: 'session-2',
          last_dispatch_at: iso(200_000),
          sessions: {
            'session-1': session({ turns: 4, last_activity_at: iso(100_000) }),
            'session-2': session({ last_activity_at: iso(200_000) }),
          },
        },
      ),
    );
    r = renderSized(<App relay={relay} onQuit={() => {}} bell={() => {}} />, { columns: 80, rows: 24 });
    await pass(1_000, r.stdout);
    const before = r.stdout.frames.length;
    await pass(10 * 60_000, r.stdout);
    const frames = r.stdout.frames.length - before;
    // Five timestamps on screen, each changing once a minute: ~50 in 10 minutes (one a second: 600).
    expect(frames).toBeLessThanOrEqual(60);
    expect(frames).toBeGreaterThan(0);
    const f = lines(r.lastFrame()).join('\n');
    expect(f).toContain('▲ session-1 asks you · 11m · turn 7');
    expect(f).toMatch(/1 queued · oldest 11m/);
    expect(f).toContain('up 1h12m'); // started 1h02m05s before
  });

  it('a call in flight still counts its seconds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: NOW });
    const relay = new FakeRelay({ inflight: { kind: 'turn', session: 'session-1', started_at: iso(0), chars: 0, attempt: 1 } });
    r = renderSized(<App relay={relay} onQuit={() => {}} bell={() => {}} />, { columns: 80, rows: 24 });
    await pass(7_100, r.stdout);
    expect(r.lastFrame()).toContain('API call for session-1 · 7s');
    expect(nextChangeMs(relay.snap.status, Date.now())).toBeLessThanOrEqual(1000);
  });
});
