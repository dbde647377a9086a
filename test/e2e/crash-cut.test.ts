import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * kill -9 during a slow call: the next start counts the cut call at its projected
 * (upper-bound) cost, as it must (the API may have billed it). That figure is then
 * marked wherever a cost is shown, not only in `relay-tui cost`: status.json says how
 * much of the total, and of which session's cost, is such a call.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a call cut by a crash', () => {
  it('kill -9 mid-call: after a restart status.json marks the counted reservation in the total and in that session', async () => {
    // Every request answers after two minutes: the relay is killed while it waits.
    h = await createHarness({ api: { respond: () => ({ text: 'slow', delayMs: 120_000 }) } });
    await h.startRelay();
    h.enqueue('session-2', 'Tests pass. Awaiting review.');
    await h.waitStatus((s) => s.inflight?.session === 'session-2');
    const child = h.relay!;
    child.kill('SIGKILL');
    await child;
    h.relay = undefined;
    expect(h.status()!.cut_short ?? null).toBeNull();

    await h.startRelay();
    const st = await h.waitStatus((s) => s.pid === h!.relay?.pid && !!s.cut_short);
    expect(st.cut_short).toMatchObject({ calls: 1, crashed_calls: 1 });
    expect(st.cut_short!.usd).toBeGreaterThan(0);
    // Nothing was billed yet: all of session-2's cost and of the total is the cut call, and it says so.
    expect(st.sessions['session-2'].cut_short_usd).toBeCloseTo(st.cut_short!.usd, 9);
    expect(st.sessions['session-2'].cost_usd).toBeCloseTo(st.cut_short!.usd, 9);
    expect(st.total_cost_usd).toBeCloseTo(st.cut_short!.usd, 9);
    expect(st.sessions['session-1']?.cut_short_usd).toBeUndefined();
    const cost = await h.cli(['cost', '--root', h.root]);
    expect(cost.stdout).toMatch(/includes \$[\d.]+ for 1 call\(s\) cut short by a crash/);
    await h.stopRelay();
  }, 90_000);
});
