import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { WaitingItem } from '../../src/protocol/status.js';
import { App } from '../../src/ui/App.js';
import { inboxItems, planInbox } from '../../src/ui/inbox/inbox-items.js';
import { FakeRelay, NOW, iso, session, status, turn } from './fake-relay.js';
import { KEY, lines, plain, promptText, renderSized, type Rendered } from './harness.js';
import { waits } from './waits.js';

/**
 * The operator inbox (issue 23) against status.waiting as the contract shapes it:
 * several items at once, the selected one acted on by name, its question readable to
 * the end at every size. UI_CAPTURE=1 prints the frames.
 */

let r: Rendered | undefined;
afterEach(() => r?.unmount());

const SIZES = [
  [60, 15],
  [80, 24],
  [200, 60],
] as const;

// Long enough to be cut at every size: its last words are what the scroll must reach.
const LONG =
  '[NEEDS-JC] The integration suite fails on the payments adapter after the SDK upgrade. ' +
  'I traced it to the retry wrapper: it swallows the idempotency key on the second attempt, ' +
  'so the sandbox sees two distinct charges. Fixing it means changing the wrapper signature, ' +
  'which three other services import. Option A: change the signature and update the three callers today. ' +
  'Option B: add a second wrapper for payments only and leave the others alone until next sprint. ' +
  'Option C: pin the old SDK and open a ticket. Which do you want? FINAL-WORDS-OF-THE-QUESTION';

const item = (over: Partial<WaitingItem> & Pick<WaitingItem, 'session' | 'kind'>): WaitingItem => ({
  reason: over.kind === 'question' ? 'needs_jc' : over.kind === 'approval' ? 'approval' : null,
  text: '',
  since: iso(60_000),
  code: null,
  turn: null,
  ...over,
});

const ASK2 = item({ session: 'session-2', kind: 'question', text: LONG, since: iso(240_000), code: 'QQ2', turn: 14 });
const LOOP3 = item({ session: 'session-3', kind: 'paused', reason: 'loop', text: 'session-3 repeats itself', since: iso(120_000) });
const ASK1 = item({ session: 'session-1', kind: 'question', text: '[NEEDS-JC] Ship the docs today?', since: iso(30_000), turn: 15 });
const THREE = [ASK2, LOOP3, ASK1];

function relayWith(waiting: WaitingItem[]): FakeRelay {
  return new FakeRelay({
    state: waiting.length ? 'needs_jc' : 'running',
    waiting,
    sessions: {
      'session-1': session({ state: waiting.includes(ASK1) ? 'asking' : 'flowing' }),
      'session-2': session({ state: waiting.includes(ASK2) ? 'asking' : 'flowing' }),
      'session-3': session({
        state: waiting.includes(LOOP3) ? 'paused' : 'flowing',
        paused_reason: waiting.includes(LOOP3) ? 'loop' : null,
      }),
    },
  });
}

const app = (relay: FakeRelay, columns = 80, rows = 24) =>
  renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} bell={() => {}} />, { columns, rows });

function show(name: string, f: string) {
  if (process.env.UI_CAPTURE) process.stdout.write(`\n--- ${name}\n${plain(f)}\n`);
}

/** The frame's rules, as the layout tests have them: within the size, the header first, the prompt last. */
function framed(f: string, columns: number, rows: number): string[] {
  const ls = lines(f);
  expect(ls.length).toBeLessThanOrEqual(rows - 1);
  for (const l of ls) expect(l.length).toBeLessThanOrEqual(columns);
  expect(ls[0]).toMatch(/^relay-tui\s/);
  expect(ls.at(-1)).toMatch(/^› /);
  expect(f).toMatch(/total \$/);
  return ls;
}

describe('the inbox at every size with 0, 1 and 3 items', () => {
  for (const [columns, rows] of SIZES) {
    for (const n of [0, 1, 3]) {
      it(`${columns}x${rows}, ${n} waiting: the items oldest first, the oldest selected, inside the frame`, async () => {
        const waiting = THREE.slice(0, n);
        r = app(relayWith(waiting), columns, rows);
        const f = plain(await r.waitFor('Cost'));
        show(`${columns}x${rows} ${n} waiting`, f);
        const ls = framed(f, columns, rows);
        const rowsOf = (s: string) => ls.filter((l) => new RegExp(`^(▸ |  )?\\S+ ${s}`).test(l));
        if (n === 0) {
          expect(f).not.toMatch(/asks you|paused \(/);
          return;
        }
        // The selected item is the oldest: session-2's question, with how long it has waited.
        const first = rowsOf('session-2 asks you');
        expect(first).toHaveLength(1);
        expect(first[0]).toContain('4m');
        if (n === 3) {
          expect(first[0].startsWith('▸ ')).toBe(true);
          // Room for the list: every item, oldest first; at 60x15 the position says how many wait.
          if (rows >= 24) {
            const order = ['session-2 asks you', 'session-3 paused (loop detected)', 'session-1 asks you'].map((s) =>
              ls.findIndex((l) => l.includes(s)),
            );
            expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]))).toBe(true);
          } else expect(f).toContain('Ctrl+N next (1/3)');
        }
        // The start of the question is on screen, and its keys.
        expect(f).toContain('The integration suite fails');
        expect(f).toMatch(/Ctrl\+Y approve → session-2|Ctrl\+D more/);
        expect(promptText(f)).toBe('');
        expect(f).toContain('answer session-2');
      });
    }
  }
});

describe('selection and the keys that act on it', () => {
  it('Ctrl+N moves the selection, wrapping to the oldest; each key names the selected session', async () => {
    const relay = relayWith(THREE);
    r = app(relay);
    await r.waitFor('asks you');
    await r.type(KEY.ctrl('y'));
    expect(relay.submits.at(-1)).toEqual({ text: '/approve session-2', source: 'tui' });
    await r.type(KEY.ctrl('n'));
    let f = plain(r.lastFrame());
    expect(lines(f).find((l) => l.startsWith('▸ '))).toContain('session-3 paused (loop detected)');
    // A paused session has nothing to drop: refused on screen, nothing sent; approve resumes it.
    await r.type(KEY.ctrl('x'));
    expect(relay.submits).toHaveLength(1);
    expect(plain(r.lastFrame())).toMatch(/✗ nothing is held for session-3 to drop/);
    await r.type(KEY.ctrl('y'));
    expect(relay.submits.at(-1)).toEqual({ text: '/resume session-3', source: 'tui' });
    await r.type(KEY.ctrl('n'));
    f = plain(r.lastFrame());
    expect(lines(f).find((l) => l.startsWith('▸ '))).toContain('session-1 asks you');
    await r.type(KEY.ctrl('x'));
    expect(relay.submits.at(-1)).toEqual({ text: '/drop session-1', source: 'tui' });
    await r.type(KEY.ctrl('n'));
    expect(lines(plain(r.lastFrame())).find((l) => l.startsWith('▸ '))).toContain('session-2 asks you');
  });

  it('plain text answers the selected question (submit target); Ctrl+T fills the selected session', async () => {
    const relay = relayWith(THREE);
    r = app(relay);
    await r.waitFor('asks you');
    await r.type(KEY.ctrl('n'), KEY.ctrl('n'), 'yes, ship them', KEY.enter);
    expect(relay.submits.at(-1)).toEqual({ text: 'yes, ship them', source: 'tui', opts: { target: 'session-1' } });
    await r.type('go on', KEY.ctrl('t'));
    expect(promptText(r.lastFrame())).toBe('@session-1: go on');
  });

  it('the selection follows its item when an older one is resolved; the oldest when its own goes', async () => {
    const relay = relayWith(THREE);
    r = app(relay);
    await r.waitFor('asks you');
    await r.type(KEY.ctrl('n'), KEY.ctrl('n'));
    relay.update({ waiting: [LOOP3, ASK1] });
    await r.waitFor('Ctrl+N next (2/2)');
    expect(lines(plain(r.lastFrame())).find((l) => l.startsWith('▸ '))).toContain('session-1 asks you');
    relay.update({ waiting: [LOOP3] });
    const f = plain(await r.waitFor('Ctrl+Y resume session-3'));
    expect(f).not.toContain('▸ ');
    await r.type(KEY.ctrl('y'));
    expect(relay.submits.at(-1)?.text).toBe('/resume session-3');
  });

  it("the ✓/✗ line shows the engine's verdict", async () => {
    const relay = relayWith(THREE);
    relay.reply = () => ({ ok: false, message: 'unknown session session-2 (known: session-1, session-3)' });
    r = app(relay);
    await r.waitFor('asks you');
    await r.type(KEY.ctrl('y'));
    expect(plain(await r.waitFor('unknown session'))).toMatch(/✗ .*unknown session session-2/);
  });

  it('a relay-wide pause is an item too: Ctrl+Y resumes the relay, Ctrl+P as well', async () => {
    const relay = relayWith([item({ session: '*', kind: 'paused', reason: 'budget_day', text: "today's spend reached the budget" }), ASK1]);
    r = app(relay);
    const f = plain(await r.waitFor('every session waits'));
    expect(f).toContain('/budget USD');
    await r.type(KEY.ctrl('y'));
    expect(relay.submits.at(-1)?.text).toBe('/resume');
    await r.type(KEY.ctrl('p'));
    expect(relay.submits.at(-1)?.text).toBe('/resume');
  });

  it('Ctrl+P pauses while a question waits and the relay flows (needs_jc is not a relay pause)', async () => {
    const relay = relayWith([ASK1]);
    r = app(relay);
    await r.waitFor('asks you');
    await r.type(KEY.ctrl('p'));
    expect(relay.submits.at(-1)?.text).toBe('/pause');
  });
});

describe('the selected question, whole', () => {
  for (const [columns, rows] of SIZES) {
    it(`${columns}x${rows}: Ctrl+D pages it to its last words, then back to the start`, async () => {
      const relay = relayWith(THREE);
      r = app(relay, columns, rows);
      let f = plain(await r.waitFor('asks you'));
      const seen = new Set<string>();
      const body = (frame: string) => lines(frame).filter((l) => l.startsWith('│ ') && !/Ctrl\+/.test(l));
      for (let page = 0; page < 30 && !f.includes('FINAL-WORDS-OF-THE-QUESTION'); page++) {
        for (const l of body(f)) seen.add(l);
        await r.type(KEY.ctrl('d'));
        f = plain(r.lastFrame());
        framed(f, columns, rows);
      }
      expect(f).toContain('FINAL-WORDS-OF-THE-QUESTION');
      for (const l of body(f)) seen.add(l);
      // Every word of the question was on screen at some page.
      const words = new Set([...seen].join(' ').split(/\s+/));
      for (const w of LONG.replace('[NEEDS-JC]', '').split(/\s+/).filter(Boolean)) expect(words.has(w)).toBe(true);
      if (f.includes('Ctrl+D more')) {
        await r.type(KEY.ctrl('d'));
        expect(plain(r.lastFrame())).toContain('The integration suite fails');
      }
    });
  }

  it('when the paged item is resolved, the next one shows from its top', async () => {
    const other = item({ session: 'session-1', kind: 'question', text: `[NEEDS-JC] SESSION-ONE-START ${LONG}`, since: iso(10_000) });
    const relay = relayWith([ASK2, other]);
    r = app(relay, 60, 15);
    await r.waitFor('asks you');
    await r.type(KEY.ctrl('d'), KEY.ctrl('d'));
    expect(plain(r.lastFrame())).not.toContain('The integration suite fails on');
    relay.update({ waiting: [other] });
    expect(plain(await r.waitFor(/▲ session-1 asks you/))).toContain('│ SESSION-ONE-START');
  });

  it('60x15: PgDn and PgUp page the question, as the conversation is not on screen', async () => {
    const relay = relayWith([ASK2]);
    r = app(relay, 60, 15);
    await r.waitFor('asks you');
    let f = plain(r.lastFrame());
    expect(f).not.toContain('── Conversation');
    for (let page = 0; page < 30 && !f.includes('FINAL-WORDS'); page++) {
      await r.type(KEY.pageDown);
      f = plain(r.lastFrame());
    }
    expect(f).toContain('FINAL-WORDS');
    // PgDn at the end stays there (it does not wrap as Ctrl+D does); PgUp goes back.
    await r.type(KEY.pageDown);
    expect(plain(r.lastFrame())).toContain('FINAL-WORDS');
    for (let page = 0; page < 30 && !f.includes('The integration suite fails'); page++) {
      await r.type(KEY.pageUp);
      f = plain(r.lastFrame());
    }
    expect(f).toContain('The integration suite fails');
  });
});

describe('several questions at once elsewhere on screen', () => {
  it('the bell rings for each new question, also while another still waits; never twice for one', async () => {
    const relay = relayWith([ASK2]);
    let bells = 0;
    r = renderSized(<App relay={relay} onQuit={() => {}} now={() => NOW} bell={() => bells++} />, { columns: 80, rows: 24 });
    await r.waitFor('asks you');
    expect(bells).toBe(1);
    relay.update({ queue_depth: 2 });
    await r.waitFor('2 queued');
    expect(bells).toBe(1);
    relay.update({ waiting: [ASK2, ASK1] });
    await r.waitFor('session-1 asks you');
    expect(bells).toBe(2);
    relay.update({ waiting: [ASK1] });
    await r.waitFor(/^(?![\s\S]*session-2 asks you)/);
    expect(bells).toBe(2);
  });

  it('every asking session is marked in the Sessions pane and its held turn in the conversation', async () => {
    const relay = relayWith([ASK2, ASK1]);
    relay.update(
      {},
      { tail: [turn(14, 'session-2', 'fails', '[NEEDS-JC] which option?'), turn(15, 'session-1', 'docs', '[NEEDS-JC] ship?')] },
    );
    r = app(relay, 120, 40);
    const f = plain(await r.waitFor('asks you'));
    const ls = lines(f);
    expect(ls.find((l) => l.startsWith('session-1 '))).toContain('◀ asks you');
    expect(ls.find((l) => l.startsWith('session-2 '))).toContain('◀ asks you');
    expect(f.match(/\[held: awaiting you\]/g)).toHaveLength(2);
  });
});

describe('help', () => {
  it('? describes the inbox and its keys (scrolled to its end at 60x15)', async () => {
    r = app(relayWith([]), 60, 15);
    await r.type('?');
    let seen = plain(await r.waitFor('── Help'));
    for (let page = 0; page < 20; page++) {
      await r.type(KEY.pageDown);
      seen += plain(r.lastFrame());
    }
    expect(seen).toMatch(/Ctrl\+N\s+select the next waiting item/);
    expect(seen).toMatch(/Ctrl\+D\s+page the selected question/);
    expect(seen).toContain('Inbox (under the header');
    expect(seen).toMatch(/one waiting item, oldest first/);
  });
});

describe("the engine's own items for a held question and an older session pause", () => {
  // What the engine writes (test/ui/waits.ts runs its waitingItems): the TUI only reads it.
  const engineState = () =>
    waits(
      {
        held: [{ turn: 3, session: 'session-1', text: '[NEEDS-JC] ok?', reason: 'needs_jc', at: iso(10_000), code: 'C0DE' }],
        sessions: { 'session-2': { reason: 'loop', message: 'same exchange 3 times', at: iso(50_000) } },
      },
      { state: 'needs_jc', sessions: { 'session-1': session(), 'session-2': session() } },
    );

  it('lists them oldest first, and each key names the selected session', async () => {
    const relay = new FakeRelay(engineState());
    r = app(relay);
    await r.waitFor('asks you');
    // The oldest is session-2's pause; Ctrl+N selects the question.
    await r.type(KEY.ctrl('y'), KEY.ctrl('n'), KEY.ctrl('y'), KEY.ctrl('x'));
    expect(relay.submits.map((x) => x.text)).toEqual(['/resume session-2', '/approve session-1', '/drop session-1']);
  });
});

describe('inboxItems and planInbox', () => {
  it('status.waiting is the inbox as the engine wrote it, in its order; without it nothing waits', () => {
    expect(inboxItems(status({ waiting: THREE }))).toEqual(THREE);
    const st = status(
      waits({
        held: [{ turn: 3, session: 'session-1', text: '[NEEDS-JC] ok?', reason: 'needs_jc', at: iso(10_000), code: 'C' }],
        sessions: { 'session-2': { reason: 'auto_turns', message: 'leash', at: iso(50_000) } },
      }),
    );
    expect(inboxItems(st).map((i) => [i.session, i.kind, i.reason])).toEqual([
      ['session-2', 'paused', 'auto_turns'],
      ['session-1', 'question', 'needs_jc'],
    ]);
    // The older fields alone are not re-read into an inbox: what waits is the engine's one decision.
    expect(inboxItems({ ...st, waiting: undefined })).toEqual([]);
    expect(inboxItems(status())).toEqual([]);
  });

  it('a plan never takes more rows than it is given, and its pages cover the body to the end', () => {
    for (const h of [1, 2, 3, 5, 9, 17]) {
      const p = planInbox(THREE, 0, 0, 60, h)!;
      expect(p.listed.length + p.body.length + p.keys.length).toBeLessThanOrEqual(h);
      expect(p.listed).toContain(0);
      if (h >= 5) {
        let off = 0;
        const got: string[] = [];
        for (let k = 0; k < 50; k++) {
          const q = planInbox(THREE, 0, off, 60, h)!;
          got.push(...q.body);
          if (q.nextOffset === 0) break;
          off = q.nextOffset;
        }
        expect(got.join(' ')).toContain('FINAL-WORDS-OF-THE-QUESTION');
      }
    }
  });
});
