import React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../src/ui/App.js';
import { Header } from '../../src/ui/Header.js';
import { FakeRelay, NOW, iso, status } from './fake-relay.js';
import { lines, plain, renderSized, type Rendered } from './harness.js';
import { waits, type Pause } from './waits.js';

// Colour is part of what is tested here; chalk reads this when it loads.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

const BUDGET: Pause = { reason: 'budget_day', message: "today's spend $20.10 reached the daily budget $20.00", at: iso(90_000) };
const API_ERROR: Pause = { reason: 'error', message: 'API error (turn for session-1): 401 invalid x-api-key', at: iso(30_000) };

let r: Rendered | undefined;
afterEach(() => r?.unmount());

const header = (over: Parameters<typeof status>[0]) => {
  r = renderSized(<Header status={status(over)} now={NOW} width={80} height={2} title="DEMO" />);
  return lines(r.lastFrame());
};

describe('Header', () => {
  it('running: state, model, uptime, short ntfy topic, idle line', () => {
    const [l1, l2] = header({ last_dispatch_session: 'session-2', last_dispatch_at: iso(180_000) });
    expect(l1).toContain('● RUNNING');
    expect(l1).toContain('DEMO');
    expect(l1).toContain('claude-opus-4-7');
    expect(l1).toContain('up 1h02m');
    expect(l1).toContain('ntfy relay-3f9a0c2…');
    expect(l2).toContain('idle · last dispatch → session-2 3m ago');
    expect(r!.lastFrame()).toContain('\x1b[32m'); // green
  });

  it('in flight: elapsed seconds and streamed characters', () => {
    const [, l2] = header({ inflight: { kind: 'turn', session: 'session-1', started_at: iso(12_000), chars: 3456, attempt: 1 } });
    expect(l2).toContain('⟳ API call for session-1 · 12s · 3,456 chars streamed');
  });

  it('retrying: attempt, wait and the API message', () => {
    const next = new Date(NOW + 8_000).toISOString();
    const [, l2] = header({
      retry: { attempt: 2, of: 5, message: '529 overloaded', next_at: next },
      inflight: { kind: 'turn', session: 'session-1', started_at: iso(30_000), chars: 0, attempt: 2 },
    });
    expect(l2).toContain('↻ API retry 2/5 in 8s: 529 overloaded');
  });

  it('needs_jc: red NEEDS-JC', () => {
    const [l1] = header(
      waits(
        { held: [{ turn: 4, session: 'session-1', text: '[NEEDS-JC] ok?', reason: 'needs_jc', at: iso(60_000), code: 'Q1' }] },
        { state: 'needs_jc' },
      ),
    );
    expect(l1).toContain('▲ NEEDS-JC');
    expect(r!.lastFrame()).toContain('\x1b[31m');
  });

  it('paused by a guardrail: the reason in words, yellow', () => {
    const [l1] = header(waits({ relay: BUDGET }, { state: 'paused' }));
    expect(l1).toContain('❚❚ PAUSED: daily budget');
    expect(r!.lastFrame()).toContain('\x1b[33m');
  });

  it('error: the API message', () => {
    const [l1] = header(waits({ relay: API_ERROR }, { state: 'error' }));
    expect(l1).toContain('✖ ERROR: API error (turn for session-1): 401 invalid x-api-key');
  });
});

describe('pause banners in the App', () => {
  const app = (over: Parameters<typeof status>[0]) => {
    const relay = new FakeRelay(over);
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} bell={() => {}} />, { columns: 80, rows: 24 });
    return plain(r.lastFrame());
  };

  it('NEEDS-JC: the held question, who asked, and the keys', () => {
    const f = app(
      waits(
        {
          held: [
            {
              turn: 12,
              session: 'session-1',
              text: '[NEEDS-JC] session-1 asks whether a breaking change to the hook signature is OK. What do you want to do?',
              reason: 'needs_jc',
              at: iso(120_000),
              code: 'A1B2C3',
            },
          ],
        },
        { state: 'needs_jc' },
      ),
    );
    expect(f).toContain('▲ session-1 asks you · 2m · turn 12 · session-1 asks whether');
    expect(f).toContain('session-1 asks whether a breaking change');
    expect(f).toContain('Ctrl+Y approve → session-1');
    expect(f).toContain('Ctrl+X drop');
    expect(f).toContain('answer');
  });

  it('approval hold', () => {
    const f = app(
      waits(
        { held: [{ turn: 3, session: 'session-2', text: 'Proceed.', reason: 'approval', at: iso(5_000), code: 'X' }] },
        { state: 'paused' },
      ),
    );
    expect(f).toContain('◆ reply for session-2 needs approval');
    expect(f).toContain('Ctrl+Y approve → session-2');
  });

  it('guardrail: the reason sentence and the keys', () => {
    const f = app(waits({ relay: BUDGET }, { state: 'paused' }));
    expect(f).toContain('❚❚ PAUSED (daily budget): every session waits');
    expect(f).toContain("today's spend $20.10 reached the daily budget $20.00");
    expect(f).toContain('/resume');
    expect(f).toContain('/budget USD');
  });

  it('error: the API message and /resume', () => {
    const f = app(waits({ relay: API_ERROR }, { state: 'error' }));
    expect(f).toContain('✖ API ERROR: the relay is paused, nothing was dropped');
    expect(f).toContain('401 invalid x-api-key');
    expect(f).toContain('/resume');
  });
});
