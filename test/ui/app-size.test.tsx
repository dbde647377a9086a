import React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionStatus, Status } from '../../src/protocol/status.js';
import { App } from '../../src/ui/App.js';
import { FakeRelay, NOW, iso, session, turn } from './fake-relay.js';
import { KEY, lines, plain, renderSized, type Rendered } from './harness.js';
import { waits } from './waits.js';

let r: Rendered | undefined;
afterEach(() => r?.unmount());

const sessions: Record<string, SessionStatus> = {};
for (let i = 1; i <= 30; i++)
  sessions[`session-${i}`] = session({ turns: i, cost_usd: i / 7, awaiting_ack: i % 5 === 0, awaiting_ack_since: iso(i * 1000) });
const longText = 'The auth middleware reads the session twice; fixing it changes the public hook signature. '.repeat(12);
const tail = Array.from({ length: 30 }, (_, i) => turn(i + 1, `session-${(i % 30) + 1}`, longText, longText));

const STATES: Array<[string, Partial<Status>]> = [
  ['running', { sessions }],
  [
    'needs_jc',
    waits(
      { held: [{ turn: 30, session: 'session-3', text: `[NEEDS-JC] ${longText}`, reason: 'needs_jc', at: iso(1000), code: 'ABC' }] },
      { sessions, state: 'needs_jc' },
    ),
  ],
  ['guard', waits({ relay: { reason: 'loop', message: longText, at: iso(1000) } }, { sessions, state: 'paused' })],
  ['error', waits({ relay: { reason: 'error', message: `API error: ${longText}`, at: iso(1000) } }, { sessions, state: 'error' })],
  ['session pauses', waits({ sessions: { 'session-2': { reason: 'rate', message: longText, at: iso(1000) } } }, { sessions })],
  ['streaming', { sessions, inflight: { kind: 'turn', session: 'session-1', started_at: iso(5000), chars: 9000, attempt: 1 } }],
];

describe('the frame fits the terminal', () => {
  for (const [columns, rows] of [
    [80, 24],
    [200, 60],
    [100, 30],
    [60, 16],
    [60, 15],
  ] as const) {
    for (const [name, over] of STATES) {
      it(`${columns}x${rows} ${name}: at most rows - 1 lines, none wider than the terminal`, async () => {
        const relay = new FakeRelay(over, tail);
        relay.snap = { ...relay.snap, streaming: longText };
        r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} bell={() => {}} />, { columns, rows });
        const f = await r.waitFor('Sessions');
        expect(lines(f).length).toBeLessThanOrEqual(rows - 1);
        for (const l of lines(f)) expect(l.length).toBeLessThanOrEqual(columns);
        // the help overlay too
        await r.type('?');
        const h = await r.waitFor('── Help');
        expect(lines(h).length).toBeLessThanOrEqual(rows - 1);
        // Panes clip only vertically (horizontal clipping re-slices every line of every
        // frame): each line must fit by itself.
        for (const l of lines(h)) expect(l.length).toBeLessThanOrEqual(columns);
      });
    }
  }

  it('re-lays out on resize: 200x60 → 80x24 → 120x40', async () => {
    const relay = new FakeRelay({ sessions }, tail);
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 200, rows: 60 });
    let f = await r.waitFor('Sessions');
    expect(lines(f).length).toBe(59);
    r.resize(80, 24);
    await vi.waitFor(() => expect(lines(r!.lastFrame()).length).toBe(23));
    f = r.lastFrame();
    for (const l of lines(f)) expect(l.length).toBeLessThanOrEqual(80);
    r.resize(120, 40);
    await vi.waitFor(() => expect(lines(r!.lastFrame()).length).toBe(39));
  });

  it('a long prompt wraps onto more rows and the panes give way', async () => {
    const relay = new FakeRelay({ sessions });
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    await r.type('x'.repeat(150));
    const f = plain(r.lastFrame());
    expect(lines(f).length).toBeLessThanOrEqual(23);
    expect(f).toContain('x'.repeat(70));
    await r.type(KEY.ctrl('u'));
    expect(lines(r.lastFrame()).length).toBeLessThanOrEqual(23);
  });
});
