import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionStatus } from '../../src/protocol/status.js';
import { App } from '../../src/ui/App.js';
import { CostPane } from '../../src/ui/panes/CostPane.js';
import { QueuePane } from '../../src/ui/panes/QueuePane.js';
import { SessionsPane } from '../../src/ui/panes/SessionsPane.js';
import { FakeRelay, NOW, iso, session, status } from './fake-relay.js';
import { lines, plain, renderSized, type Rendered } from './harness.js';
import { waits } from './waits.js';

let r: Rendered | undefined;
afterEach(() => r?.unmount());

function manySessions(n: number): Record<string, SessionStatus> {
  const out: Record<string, SessionStatus> = {};
  for (let i = 1; i <= n; i++) out[`session-${i}`] = session({ turns: i, cost_usd: i * 0.1, last_activity_at: iso(i * 60_000) });
  return out;
}

describe('SessionsPane', () => {
  it('one row per session: registered or not, queued, replies, input.txt age, turns, cost, activity, guard pause', () => {
    const sessions = {
      'api-refactor': session({
        turns: 12,
        cost_usd: 4.12,
        last_activity_at: iso(120_000),
        awaiting_ack: true,
        awaiting_ack_since: iso(180_000),
      }),
      'billing-tests': session({ turns: 9, cost_usd: 3.3, queued: 2, pending: 1, last_activity_at: iso(12_000) }),
      'docs-site': session({ turns: 7, cost_usd: 2.05 }),
      'scratch-7': session({ registered: false, turns: 1, cost_usd: 0.05 }),
    };
    const st = status(
      waits({ sessions: { 'docs-site': { reason: 'loop', message: 'same message 3 times', at: iso(30_000) } } }, { sessions }),
    );
    r = renderSized(<SessionsPane status={st} now={NOW} width={80} height={8} />);
    const ls = lines(r.lastFrame());
    expect(ls[0]).toContain('Sessions (4) · 1 unread · 1 paused');
    expect(ls[1]).toMatch(/session\s+queued\s+replies\s+input\.txt\s+turns\s+cost\s+active/);
    expect(ls[2]).toMatch(/api-refactor\s+0\s+0\s+unread 3m\s+12\s+\$4\.12\s+2m/);
    expect(ls[3]).toMatch(/billing-tests\s+2\s+1\s+—\s+9\s+\$3\.30\s+12s/);
    expect(ls[4]).toMatch(/docs-site .*⏸ loop detected/);
    expect(ls[5]).toMatch(/scratch-7 .*unregistered/);
  });

  it('shows where a remote session reports from, beside what needs attention', () => {
    const sessions = { 'dev-box': session({ host: 'devbox.lan' }), 'dev-box-2': session({ host: 'vm-7' }), local: session({}) };
    const st = status(
      waits({ sessions: { 'dev-box-2': { reason: 'loop', message: 'same exchange 3 times', at: iso(30_000) } } }, { sessions }),
    );
    r = renderSized(<SessionsPane status={st} now={NOW} width={100} height={6} />);
    const out = plain(r.lastFrame());
    expect(out).toMatch(/dev-box .*@devbox\.lan/);
    expect(out).toMatch(/dev-box-2 .*⏸ loop detected @vm-7/);
    expect(out).not.toMatch(/local .*@/);
  });

  it('marks the session whose reply is held', () => {
    const st = status(
      waits({ held: [{ turn: 1, session: 'session-2', text: 'q', reason: 'needs_jc', at: iso(0), code: 'C' }] }, { state: 'needs_jc' }),
    );
    r = renderSized(<SessionsPane status={st} now={NOW} width={80} height={5} />);
    expect(plain(r.lastFrame())).toMatch(/session-2 .*◀ asks you/);
  });

  it('40 sessions in 6 rows: a window and "+N more", the ones needing attention kept', () => {
    const sessions = manySessions(40);
    sessions['session-33'] = { ...sessions['session-33'], awaiting_ack: true, awaiting_ack_since: iso(60_000) };
    r = renderSized(<SessionsPane status={status({ sessions })} now={NOW} width={80} height={6} />);
    const ls = lines(r.lastFrame());
    expect(ls).toHaveLength(6);
    expect(ls[0]).toContain('Sessions (40)');
    expect(ls.join('\n')).toContain('session-33');
    expect(ls[5]).toMatch(/^\+37 more/);
  });

  it('40 sessions at 80x24: the whole frame stays inside the terminal', async () => {
    const relay = new FakeRelay({ sessions: manySessions(40) });
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    const f = await r.waitFor('Sessions (40)');
    expect(lines(f).length).toBeLessThanOrEqual(23);
    expect(plain(f)).toMatch(/\+\d+ more/);
    for (const l of lines(f)) expect(l.length).toBeLessThanOrEqual(80);
  });
});

describe('SessionsPane and a crash', () => {
  it("a session's cost that counts a call cut short by a crash is marked *", () => {
    const st = status({
      sessions: {
        'session-3': session({ turns: 2, cost_usd: 0.0941, cut_short_usd: 0.0848, last_activity_at: iso(60_000) }),
        'session-1': session({ turns: 3, cost_usd: 0.006, last_activity_at: iso(60_000) }),
      },
    });
    r = renderSized(<SessionsPane status={st} now={NOW} width={80} height={5} />);
    const f = plain(r.lastFrame());
    expect(f).toMatch(/session-3\s+0\s+0\s+—\s+2\s+\$0\.094\*/);
    expect(f).toMatch(/session-1\s+0\s+0\s+—\s+3\s+\$0\.0060\s/);
  });
});

describe('CostPane', () => {
  it('says which price entry the last call was billed at, in its title: at every height', () => {
    const st = status({ price_entry: 'claude-haiku-5-5 >100k' });
    r = renderSized(<CostPane status={st} width={60} height={2} />);
    expect(lines(plain(r.lastFrame()))[0]).toMatch(/^── Cost priced as claude-haiku-5-5 >100k ─/);
  });

  it('total, today, budget share, tokens, cache and hit share, last turn', () => {
    const st = status({
      total_cost_usd: 12.3456,
      today_cost_usd: 15.5,
      budget_usd_per_day: 20,
      last_turn_cost_usd: 0.0421,
      total_input_tokens: 120_000,
      total_output_tokens: 340_000,
      total_cache_read_tokens: 12_300_000,
      total_cache_write_tokens: 1_100_000,
      history_tokens: 118_000,
    });
    r = renderSized(<CostPane status={st} width={60} height={5} />);
    const ls = lines(r.lastFrame());
    expect(ls[0]).toContain('Cost');
    expect(ls[1]).toContain('total $12.35 · today $15.50 · last turn $0.042');
    expect(ls[2]).toMatch(/budget [█░]+ 78% of \$20\.00\/day/);
    expect(ls[3]).toContain('cache read 12.3M · write 1.10M · hit 91%');
    expect(ls[4]).toContain('tokens in 120k · out 340k · history 118k');
  });

  it('a total that counts calls cut short by a crash is marked, and the line under it says how much of it and why', () => {
    const st = status({ total_cost_usd: 0.0941, cut_short: { calls: 1, usd: 0.0848, crashed_calls: 1 } });
    r = renderSized(<CostPane status={st} width={80} height={5} />);
    const ls = lines(plain(r.lastFrame()));
    expect(ls[1]).toMatch(/^total \$0\.094\* · today/);
    expect(ls[2]).toBe('* incl. $0.085 for 1 call cut short by a crash (at projected cost)');
    // None cut short: no mark, no line.
    r.unmount();
    r = renderSized(<CostPane status={status({ total_cost_usd: 0.0941, cut_short: null })} width={80} height={5} />);
    expect(plain(r.lastFrame())).not.toMatch(/\*|cut short/);
  });

  it('no budget, nothing spent yet', () => {
    r = renderSized(<CostPane status={status({ budget_usd_per_day: 0 })} width={60} height={5} />);
    const f = plain(r.lastFrame());
    expect(f).toContain('total $0.00 · today $0.00 · last turn —');
    expect(f).toContain('no daily budget set');
    expect(f).toContain('hit 0%');
  });

  it('fewer rows: money and budget first', () => {
    r = renderSized(<CostPane status={status({ total_cost_usd: 1 })} width={60} height={3} />);
    const ls = lines(r.lastFrame());
    expect(ls).toHaveLength(3);
    expect(ls[1]).toContain('total $1.00');
    expect(ls[2]).toContain('budget');
  });
});

describe('QueuePane', () => {
  it('depth, oldest age, rejected count and the last reason', () => {
    const st = status({
      queue_depth: 3,
      queue_oldest_at: iso(134_000),
      rejected_count: 2,
      last_rejection: { file: 'bad.json', reason: 'not JSON: Unexpected token', at: iso(0) },
    });
    r = renderSized(<QueuePane status={st} now={NOW} width={40} height={4} />);
    const ls = lines(r.lastFrame());
    expect(ls[1]).toContain('3 queued · oldest 2m'); // an age, as everywhere: no frame a second for it
    expect(ls[2]).toContain('2 rejected · last bad.json');
    expect(ls[3]).toContain('why: not JSON: Unexpected token');
  });

  it('an empty queue says so', () => {
    r = renderSized(<QueuePane status={status()} now={NOW} width={40} height={4} />);
    expect(plain(r.lastFrame())).toContain('0 queued · empty');
  });
});
