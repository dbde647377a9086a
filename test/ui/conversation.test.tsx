import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/ui/App.js';
import { FakeRelay, NOW, turn } from './fake-relay.js';
import { KEY, lines, plain, renderSized, type Rendered } from './harness.js';

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
