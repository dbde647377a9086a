import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationNote } from '../../src/engine/api.js';
import { App } from '../../src/ui/App.js';
import type { ConversationNotes, DispatchNote } from '../../src/ui/hooks/use-conversation-notes.js';
import type { Scrollback } from '../../src/ui/hooks/use-scrollback.js';
import { ConversationPane } from '../../src/ui/panes/ConversationPane.js';
import { FakeRelay, NOW, turn } from './fake-relay.js';
import { KEY, lines, plain, renderSized, type Rendered } from './harness.js';
import { waits } from './waits.js';

let r: Rendered | undefined;
afterEach(() => r?.unmount());

const long = 'word '.repeat(60).trim();

describe('Conversation pane', () => {
  it('role and session on each message, wrapped to the pane, newest at the bottom', async () => {
    const relay = new FakeRelay({ history_turns: 2 }, [
      turn(1, 'session-1', 'first update', 'first reply'),
      turn(2, 'session-2', long, 'second reply'),
      turn(3, 'operator', 'do the thing', 'on it', { route: 'session-1' }),
    ]);
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 40 });
    const f = plain(await r.waitFor('on it'));
    const ls = f.split('\n');
    expect(f).toMatch(/session-1 › first update/);
    expect(f).toMatch(/chat → session-1 \$0\.012 › first reply/);
    expect(f).toMatch(/you \(re session-1\) › do the thing/);
    const start = ls.findIndex((l) => l.includes('session-2 › word'));
    expect(ls[start + 1]).toMatch(/^ {2}word word/); // wrapped, indented
    for (const l of ls) expect(l.length).toBeLessThanOrEqual(80);
    expect(ls.findIndex((l) => l.includes('on it'))).toBeGreaterThan(ls.findIndex((l) => l.includes('first reply')));
  });

  it('shows the reply while it streams', async () => {
    const relay = new FakeRelay({
      inflight: { kind: 'turn', session: 'session-1', started_at: new Date(NOW).toISOString(), chars: 42, attempt: 1 },
    });
    relay.snap = { ...relay.snap, streaming: 'Good progress. Proceed' };
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    expect(plain(await r.waitFor('Good progress'))).toMatch(/chat → session-1 \(42 chars…\) › Good progress\. Proceed/);
  });

  it('an operator turn streams under the session its reply goes to, as the engine says', async () => {
    const relay = new FakeRelay({
      inflight: { kind: 'turn', session: 'operator', route: 'session-2', started_at: new Date(NOW).toISOString(), chars: 7, attempt: 0 },
    });
    relay.snap = { ...relay.snap, streaming: 'On it.' };
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    expect(plain(await r.waitFor('On it.'))).toMatch(/chat → session-2 \(7 chars…\) › On it\./);
  });

  it('a reply cut at max_tokens is marked, from the tail and from a scroll-back page alike', async () => {
    const relay = new FakeRelay({ history_turns: 3 }, [turn(3, 'session-1', 'newest update', 'newest reply', { truncated: true })]);
    relay.fullHistory = [1, 2].map((seq) => ({
      seq,
      at: new Date(NOW - (10 - seq) * 60_000).toISOString(),
      session: 'session-2',
      route: 'session-2',
      user: `[session-2]\nolder ${seq}`,
      reply: `older reply ${seq}`,
      cost_usd: 0.01,
      ...(seq === 1 ? { truncated: true } : {}),
    }));
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    expect(plain(await r.waitFor('newest reply'))).toMatch(/\[truncated at max_tokens\].*newest reply/);
    await r.type(KEY.pageUp);
    const f = plain(await r.waitFor('older reply 1'));
    const marked = f.split('\n').filter((l) => l.includes('[truncated at max_tokens]'));
    expect(marked.some((l) => l.includes('older reply 1'))).toBe(true);
    expect(marked.some((l) => l.includes('older reply 2'))).toBe(false);
  });

  it("dispatches and held-reply outcomes come from the engine's data: the snapshot's and a scroll-back page's", async () => {
    const at = (min: number) => new Date(NOW - min * 60_000).toISOString();
    const relay = new FakeRelay({ history_turns: 4 }, [
      turn(3, 'session-1', 'third update', 'third reply'),
      turn(4, 'session-2', 'fourth update', 'fourth reply'),
    ]);
    relay.snap = {
      ...relay.snap,
      notes: [
        { kind: 'outcome', id: 'o3', at: at(3), seq: 3, how: 'dropped', session: 'session-1', source: 'tui' },
        { kind: 'dispatch', id: 'd3', at: at(3), afterSeq: 3, session: 'session-1', text: 'try the other branch', source: 'ntfy' },
        { kind: 'outcome', id: 'o4', at: at(2), seq: 4, how: 'approved', session: 'session-2', source: 'tui' },
      ],
    };
    relay.fullHistory = [1, 2].map((seq) => ({
      seq,
      at: at(20 - seq),
      session: 'session-1',
      route: 'session-1',
      user: `[session-1]\nolder ${seq}`,
      reply: `older reply ${seq}`,
      cost_usd: 0.01,
    }));
    relay.pageNotes = [
      { kind: 'dispatch', id: 'd1', at: at(18), afterSeq: 1, session: 'session-2', text: 'an old dispatch', source: 'tui' },
    ];
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 100, rows: 30 });
    const f = plain(await r.waitFor('try the other branch'));
    const ls = f.split('\n');
    expect(ls.find((l) => l.includes('third reply'))).toContain('[dropped: not sent]');
    expect(ls.find((l) => l.includes('fourth reply'))).toContain('[approved → session-2]');
    expect(f).toMatch(/you → session-1 \(ntfy\) › try the other branch/);
    expect(ls.findIndex((l) => l.includes('try the other branch'))).toBeGreaterThan(ls.findIndex((l) => l.includes('third reply')));
    expect(ls.findIndex((l) => l.includes('try the other branch'))).toBeLessThan(ls.findIndex((l) => l.includes('fourth update')));
    await r.type(KEY.pageUp);
    const g = plain(await r.waitFor('an old dispatch'));
    const gl = g.split('\n');
    expect(gl.findIndex((l) => l.includes('an old dispatch'))).toBeGreaterThan(gl.findIndex((l) => l.includes('older reply 1')));
    expect(gl.findIndex((l) => l.includes('an old dispatch'))).toBeLessThan(gl.findIndex((l) => l.includes('older 2')));
  });

  it('PgUp loads the whole history on demand and scrolls back; PgDn and Esc return', async () => {
    const tail = [turn(99, 'session-1', 'newest update', 'newest reply')];
    const relay = new FakeRelay({ history_turns: 99 }, tail);
    relay.fullHistory = Array.from({ length: 99 }, (_, i) => ({
      seq: i + 1,
      at: new Date(NOW - (100 - i) * 60_000).toISOString(),
      session: 'session-1',
      route: 'session-1',
      user: `[session-1]\nupdate number ${i + 1}`,
      reply: `reply number ${i + 1}`,
      cost_usd: 0.01,
    }));
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} />, { columns: 80, rows: 24 });
    await r.waitFor('newest reply');
    expect(relay.historyCalls).toBe(0);
    await r.type(KEY.pageUp);
    let f = plain(await r.waitFor('rows back'));
    expect(relay.historyCalls).toBe(1);
    expect(f).not.toContain('newest reply');
    expect(f).toMatch(/reply number 9\d/);
    // a new turn while scrolled back does not move the view
    const body = (frame: string) => {
      const ls = plain(frame).split('\n');
      return ls.slice(ls.findIndex((l) => l.startsWith('── Conversation')) + 1, -2).join('\n');
    };
    const pinned = body(r.lastFrame());
    relay.update({}, { tail: [...tail, turn(100, 'session-2', 'brand new', 'brand new reply')] });
    f = plain(await r.waitFor('1 new below'));
    expect(body(f)).toBe(pinned);
    for (let i = 0; i < 40 && !r.lastFrame().includes('(top)'); i++) await r.type(KEY.pageUp);
    f = plain(await r.waitFor('(top)'));
    expect(f).toContain('update number 1\n');
    await r.type(KEY.pageDown);
    expect(plain(r.lastFrame())).not.toContain('update number 1\n');
    await r.type(KEY.esc);
    f = plain(await r.waitFor('PgUp scrolls back'));
    expect(f).toContain('brand new reply');
    expect(lines(f).length).toBeLessThanOrEqual(23);
  });
});

describe('a held reply whose outcome is recorded while the pane is on screen', () => {
  const at = (min: number) => new Date(NOW - min * 60_000).toISOString();
  const outcome = (seq: number, how: 'approved' | 'dropped', session: string): ConversationNote => ({
    kind: 'outcome',
    id: `o${seq}`,
    at: at(0),
    seq,
    how,
    session,
    source: 'tui',
  });
  // The reply's row in the conversation (the inbox lists a held reply's text too).
  const replyLine = (f: string, reply: string) =>
    plain(f)
      .split('\n')
      .find((l) => l.includes('chat →') && l.includes(reply)) ?? '';

  it('shows it when it comes in a later snapshot than the hold ending, and when in the same one', async () => {
    const tail = [turn(5, 'session-1', 'fifth update', 'fifth reply'), turn(6, 'session-2', 'sixth update', 'sixth reply')];
    const ask = { turn: 5, session: 'session-1', text: 'fifth reply', reason: 'needs_jc' as const, at: at(2), code: 'Q5' };
    const approval = { turn: 6, session: 'session-2', text: 'sixth reply', reason: 'approval' as const, at: at(1), code: 'A6' };
    const relay = new FakeRelay(waits({ held: [ask, approval] }, { state: 'needs_jc', history_turns: 6 }), tail);
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} bell={() => {}} />, { columns: 100, rows: 30 });
    expect(replyLine(await r.waitFor('sixth reply'), 'fifth reply')).toContain('[held: awaiting you]');
    // session-1's reply is approved: the hold ends in one snapshot, its outcome note arrives in the next.
    relay.update(waits({ held: [approval] }, { state: 'running' }));
    // Unmarked: no longer held, no outcome yet.
    await r.waitFor(/chat → session-1 \S+ › fifth reply/);
    relay.update({}, { notes: [outcome(5, 'approved', 'session-1')] });
    expect(replyLine(await r.waitFor('[approved → session-1]'), 'fifth reply')).toContain('[approved → session-1]');
    // session-2's is dropped: the hold's end and the note in the same snapshot.
    relay.update(waits({}, { state: 'running' }), { notes: [outcome(5, 'approved', 'session-1'), outcome(6, 'dropped', 'session-2')] });
    const f = await r.waitFor('[dropped: not sent]');
    expect(replyLine(f, 'sixth reply')).toContain('[dropped: not sent]');
    expect(replyLine(f, 'sixth reply')).not.toContain('[held: awaiting you]');
    expect(replyLine(f, 'fifth reply')).toContain('[approved → session-1]');
  });

  it('the pane redraws for a new outcome alone: same turns, same dispatches, nothing held', async () => {
    const relay = new FakeRelay({ history_turns: 5 }, [turn(5, 'session-1', 'fifth update', 'fifth reply')]);
    const scroll: Scrollback = {
      offset: 0,
      entries: relay.snap.tail,
      notes: [],
      newer: 0,
      full: true,
      up: () => {},
      down: () => {},
      toEnd: () => {},
      clamp: () => {},
    };
    const dispatches: DispatchNote[] = [];
    const pane = (notes: ConversationNotes) => <ConversationPane snap={relay.snap} scroll={scroll} width={80} height={10} notes={notes} />;
    r = renderSized(pane({ dispatches, outcomes: new Map() }), { columns: 80, rows: 12 });
    expect(replyLine(await r.waitFor('fifth reply'), 'fifth reply')).not.toContain('[approved');
    r.instance.rerender(pane({ dispatches, outcomes: new Map([[5, { how: 'approved', session: 'session-1' }]]) }));
    expect(replyLine(await r.waitFor('[approved → session-1]'), 'fifth reply')).toContain('[approved → session-1]');
  });
});
