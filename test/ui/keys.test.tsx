import React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../src/ui/App.js';
import { DEFAULT_KEYMAP, helpRows } from '../../src/ui/keys/keymap.js';
import { FakeRelay, NOW, iso } from './fake-relay.js';
import { KEY, plain, promptText, renderSized, type Rendered } from './harness.js';
import { waits } from './waits.js';

let r: Rendered | undefined;
afterEach(() => r?.unmount());

const held = waits(
  {
    held: [
      { turn: 7, session: 'session-1', text: '[NEEDS-JC] Is a breaking change OK?', reason: 'needs_jc', at: iso(30_000), code: 'ABC123' },
    ],
  },
  { state: 'needs_jc' },
);

function app(relay: FakeRelay, extra: { onQuit?: () => void; bell?: () => void } = {}) {
  return renderSized(<App relay={relay} onQuit={extra.onQuit ?? (() => {})} now={() => NOW} bell={extra.bell ?? (() => {})} />, {
    columns: 80,
    rows: 24,
  });
}

describe('keyboard approval', () => {
  it('Ctrl+Y approves the held reply in one keystroke, without typing a "y"', async () => {
    const relay = new FakeRelay(held);
    relay.reply = () => ({ ok: true, message: 'approved: dispatched to session-1' });
    r = app(relay);
    await r.waitFor('NEEDS-JC');
    await r.type(KEY.ctrl('y'));
    expect(relay.submits).toEqual([{ text: '/approve session-1', source: 'tui' }]);
    const f = await r.waitFor('approved: dispatched to session-1');
    expect(promptText(f)).toBe('');
  });

  it('Ctrl+X drops it', async () => {
    const relay = new FakeRelay(held);
    r = app(relay);
    await r.type(KEY.ctrl('x'));
    expect(relay.submits).toEqual([{ text: '/drop session-1', source: 'tui' }]);
  });

  it('works with text already in the prompt, which stays as typed', async () => {
    const relay = new FakeRelay(held);
    r = app(relay);
    await r.type('half an ans', KEY.ctrl('y'), 'wer');
    expect(relay.submits).toEqual([{ text: '/approve session-1', source: 'tui' }]);
    expect(promptText(r.lastFrame())).toContain('half an answer');
  });

  it('Ctrl+T fills "@session: " to answer the asking session directly', async () => {
    const relay = new FakeRelay(held);
    r = app(relay);
    await r.type(KEY.ctrl('t'), 'yes', KEY.enter);
    expect(relay.submits).toEqual([{ text: '@session-1: yes', source: 'tui', opts: { target: 'session-1' } }]);
  });

  it('Ctrl+T keeps an answer already typed', async () => {
    const relay = new FakeRelay(held);
    r = app(relay);
    await r.type('yes, go', KEY.ctrl('t'));
    expect(promptText(r.lastFrame())).toBe('@session-1: yes, go');
  });

  it('a plain answer goes to submit as text, aimed at the selected question', async () => {
    const relay = new FakeRelay(held);
    r = app(relay);
    await r.type('go ahead', KEY.enter);
    expect(relay.submits).toEqual([{ text: 'go ahead', source: 'tui', opts: { target: 'session-1' } }]);
  });

  it('Ctrl+P pauses when running and resumes when paused', async () => {
    const relay = new FakeRelay();
    r = app(relay);
    await r.type(KEY.ctrl('p'));
    expect(relay.submits.at(-1)?.text).toBe('/pause');
    relay.update(waits({ relay: { reason: 'operator', message: 'paused by the operator (tui)', at: iso(0) } }, { state: 'paused' }));
    await r.waitFor('PAUSED by you');
    await r.type(KEY.ctrl('p'));
    expect(relay.submits.at(-1)?.text).toBe('/resume');
  });

  it('the bell rings once when a NEEDS-JC pause begins', async () => {
    const relay = new FakeRelay();
    const bell = vi.fn();
    r = app(relay, { bell });
    await r.ready();
    expect(bell).not.toHaveBeenCalled();
    relay.update(held);
    await r.waitFor('NEEDS-JC');
    relay.update({ queue_depth: 3 });
    await r.waitFor('3 queued');
    expect(bell).toHaveBeenCalledTimes(1);
  });
});

describe('help and quit', () => {
  it('? on an empty prompt opens the help with every key; Esc and ? close it', async () => {
    const relay = new FakeRelay();
    r = app(relay);
    await r.type('?');
    let f = plain(await r.waitFor('Help'));
    expect(promptText(f)).toBe('');
    // The help scrolls (the inbox section made it longer than one page): every key is on some page.
    let seen = f;
    for (let i = 0; i < 6 && /rows \d+–(\d+) of (\d+)/.exec(f) && !/rows \d+–(\d+) of \1\b/.test(f); i++) {
      await r.type(KEY.pageDown);
      f = plain(r.lastFrame());
      seen += '\n' + f;
    }
    for (const b of helpRows(DEFAULT_KEYMAP)) expect(seen).toContain(b.keys);
    expect(seen).toContain('@session-1: text');
    await r.type(KEY.esc);
    f = plain(await r.waitFor('Conversation'));
    expect(f).not.toContain('── Help');
    await r.type('?', '?');
    expect(plain(r.lastFrame())).not.toContain('── Help');
    expect(promptText(r.lastFrame())).toBe('');
  });

  it('? inside text is just a character', async () => {
    const relay = new FakeRelay();
    r = app(relay);
    await r.type('why?');
    expect(promptText(r.lastFrame())).toContain('why?');
    expect(plain(r.lastFrame())).not.toContain('── Help');
  });

  it('Ctrl+C quits gracefully through onQuit, once', async () => {
    const relay = new FakeRelay();
    const onQuit = vi.fn();
    r = app(relay, { onQuit });
    await r.type(KEY.ctrl('c'), KEY.ctrl('c'));
    expect(onQuit).toHaveBeenCalledTimes(1);
    await r.waitFor('shutting down');
  });

  it('results of other sources and engine warnings reach the result line', async () => {
    const relay = new FakeRelay();
    r = app(relay);
    await r.ready();
    relay.emit('operator:result', { source: 'ntfy', input: '/approve', ok: true, message: 'approved: dispatched to session-1' });
    expect(plain(await r.waitFor('[ntfy]'))).toContain('✓ [ntfy] /approve → approved: dispatched to session-1');
    relay.emit('log', { level: 'warn', message: 'API 529; retry 1/5 in 2.0 s' });
    expect(plain(await r.waitFor('529'))).toContain('! API 529; retry 1/5 in 2.0 s');
  });
});
