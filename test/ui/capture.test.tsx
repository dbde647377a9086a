import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Status } from '../../src/protocol/status.js';
import { App } from '../../src/ui/App.js';
import { FakeRelay, NOW, iso, session, turn } from './fake-relay.js';
import { KEY, lines, plain, renderSized, type Rendered } from './harness.js';
import { waits } from './waits.js';

/**
 * The main screen with a realistic snapshot, as text. Set UI_CAPTURE=1 to print it
 * (the README's capture comes from here); the assertions keep it honest.
 */
export function realisticRelay(over: Partial<Status> = {}): FakeRelay {
  const relay = new FakeRelay(
    {
      queue_depth: 2,
      queue_oldest_at: iso(134_000),
      rejected_count: 1,
      last_rejection: { file: 'notes.json', reason: 'not JSON: Unexpected token } at position 12', at: iso(600_000) },
      total_cost_usd: 12.3456,
      today_cost_usd: 3.21,
      last_turn_cost_usd: 0.0421,
      budget_usd_per_day: 20,
      total_input_tokens: 120_000,
      total_output_tokens: 340_000,
      total_cache_read_tokens: 12_300_000,
      total_cache_write_tokens: 1_100_000,
      history_turns: 42,
      history_tokens: 118_000,
      last_dispatch_session: 'api-refactor',
      last_dispatch_at: iso(180_000),
      inflight: { kind: 'turn', session: 'billing-tests', started_at: iso(12_000), chars: 1456, attempt: 1 },
      sessions: {
        'api-refactor': session({
          turns: 12,
          cost_usd: 4.12,
          last_activity_at: iso(120_000),
          awaiting_ack: true,
          awaiting_ack_since: iso(180_000),
        }),
        'billing-tests': session({ turns: 9, cost_usd: 3.3, queued: 1, last_activity_at: iso(12_000) }),
        'docs-site': session({ turns: 7, cost_usd: 2.05, queued: 1, pending: 1, last_activity_at: iso(600_000) }),
        'scratch-7': session({ registered: false, turns: 1, cost_usd: 0.05, last_activity_at: iso(3_600_000) }),
      },
      ...over,
    },
    [
      turn(
        40,
        'api-refactor',
        'Split routes/users.ts into handlers/ and validators/. 214 tests pass. Next: orders routes. Proceed?',
        'Good progress. Proceed with the next step; keep commits small and run the full suite before each push.',
      ),
      turn(
        41,
        'docs-site',
        'Search index builds in 4.1 s (was 19 s). Sidebar order now comes from front matter.',
        'Looks right. Add a regression test for the case you found, then continue.',
      ),
    ],
  );
  relay.snap = { ...relay.snap, streaming: "Investigate before retrying: capture the failing run's timings and compare" };
  return relay;
}

let r: Rendered | undefined;
afterEach(() => r?.unmount());

const show = (name: string, frame: string) => {
  if (process.env.UI_CAPTURE) process.stdout.write(`\n===== ${name}\n${plain(frame)}\n`);
};

describe('captures', () => {
  it('main screen, 80x24', async () => {
    r = renderSized(<App relay={realisticRelay()} onQuit={() => {}} now={() => NOW} title="DEMO" />, { columns: 80, rows: 24 });
    const f = await r.waitFor('Conversation');
    show('main 80x24', f);
    expect(lines(f).length).toBe(23);
    expect(plain(f)).toContain('api-refactor');
    expect(plain(f)).toContain('total $12.35');
  });

  it('NEEDS-JC, 80x24', async () => {
    const held = {
      turn: 43,
      session: 'billing-tests',
      text: '[NEEDS-JC] billing-tests asks for a decision I should not make alone: the payment sandbox needs a new API key to test webhooks. Can you provide one? What do you want to do?',
      reason: 'needs_jc' as const,
      at: iso(20_000),
      code: 'F3A9C1',
    };
    r = renderSized(
      <App
        relay={realisticRelay(waits({ held: [held] }, { state: 'needs_jc', inflight: null }))}
        onQuit={() => {}}
        now={() => NOW}
        bell={() => {}}
      />,
      { columns: 80, rows: 24 },
    );
    const f = await r.waitFor('NEEDS-JC');
    show('needs_jc 80x24', f);
    expect(lines(f).length).toBe(23);
  });

  it('help, 80x24', async () => {
    r = renderSized(<App relay={realisticRelay()} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    await r.type('?');
    const f = await r.waitFor('── Help');
    show('help 80x24', f);
    expect(lines(f).length).toBe(23);
    expect(plain(f)).toContain('Ctrl+Y');
    // The grammar is further down: the help scrolls to it.
    await r.type(KEY.pageDown, KEY.pageDown);
    expect(plain(r.lastFrame())).toContain('/approve /drop');
  });

  it('main screen, 160x30', async () => {
    r = renderSized(<App relay={realisticRelay()} onQuit={() => {}} now={() => NOW} title="DEMO" />, { columns: 160, rows: 30 });
    const f = await r.waitFor('Conversation');
    show('main 160x30', f);
    expect(lines(f).length).toBe(29);
  });
});
