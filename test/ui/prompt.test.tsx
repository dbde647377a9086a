import React, { useRef } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../src/ui/App.js';
import { KeyBindings, type KeyHandlers } from '../../src/ui/keys/KeyBindings.js';
import { DEFAULT_KEYMAP } from '../../src/ui/keys/keymap.js';
import { PromptLine } from '../../src/ui/PromptLine.js';
import { usePrompt } from '../../src/ui/hooks/use-prompt.js';
import type { ResultInfo } from '../../src/ui/hooks/use-operator-results.js';
import { FakeRelay, NOW, session } from './fake-relay.js';
import { KEY, plain, promptText, renderSized, type Rendered } from './harness.js';

let r: Rendered | undefined;
afterEach(() => r?.unmount());

/** The prompt line alone, with the state hook and the key handler the App gives it. */
function Harness({ relay, onResult, onQuit }: { relay: FakeRelay; onResult: (x: ResultInfo) => void; onQuit: () => void }) {
  const p = usePrompt({ relay, sessionIds: Object.keys(relay.snapshot().status.sessions), onResult, onQuit });
  const handlers = useRef<KeyHandlers>(null as unknown as KeyHandlers);
  handlers.current = {
    keymap: DEFAULT_KEYMAP,
    context: () => ({ promptEmpty: p.current() === '', helpOpen: false, scrolled: false }),
    run: () => {},
    edit: p.edit,
    presence: () => {},
  };
  return (
    <>
      <KeyBindings handlers={handlers} />
      <PromptLine prompt={p} width={80} />
    </>
  );
}

describe('PromptLine', () => {
  it('Enter sends the text to relay.submit(text, "tui") and reports the result', async () => {
    const relay = new FakeRelay();
    const results: ResultInfo[] = [];
    r = renderSized(<Harness relay={relay} onResult={(x) => results.push(x)} onQuit={() => {}} />);
    await r.type('hello there', KEY.enter);
    expect(relay.submits).toEqual([{ text: 'hello there', source: 'tui' }]);
    expect(results.at(-1)).toMatchObject({ ok: true, message: 'did hello there', input: 'hello there' });
    expect(promptText(r.lastFrame())).toBe('');
  });

  it('/quit calls onQuit when the engine says quit', async () => {
    const relay = new FakeRelay();
    relay.reply = () => ({ ok: true, message: 'shutting down', quit: true });
    const onQuit = vi.fn();
    r = renderSized(<Harness relay={relay} onResult={() => {}} onQuit={onQuit} />);
    await r.type('/quit', KEY.enter);
    expect(onQuit).toHaveBeenCalledTimes(1);
  });

  it('an empty Enter is answered, not ignored', async () => {
    const relay = new FakeRelay();
    const results: ResultInfo[] = [];
    r = renderSized(<Harness relay={relay} onResult={(x) => results.push(x)} onQuit={() => {}} />);
    await r.type(KEY.enter);
    expect(relay.submits).toHaveLength(0);
    expect(results.at(-1)?.message).toMatch(/nothing to send/);
  });
});

describe('the prompt in the App', () => {
  const app = (relay: FakeRelay, onQuit = () => {}) =>
    renderSized(<App relay={relay} onQuit={onQuit} now={() => NOW} bell={() => {}} />, { columns: 80, rows: 24 });

  it('/approve goes to submit and its message is shown', async () => {
    const relay = new FakeRelay();
    relay.reply = () => ({ ok: false, message: 'nothing to approve' });
    r = app(relay);
    await r.type('/approve', KEY.enter);
    expect(relay.submits).toEqual([{ text: '/approve', source: 'tui' }]);
    expect(plain(await r.waitFor('nothing to approve'))).toMatch(/✗ \/approve → nothing to approve/);
  });

  it('Up and Down recall earlier inputs', async () => {
    const relay = new FakeRelay();
    r = app(relay);
    await r.type('first', KEY.enter, 'second', KEY.enter, 'draft');
    await r.type(KEY.up);
    expect(promptText(r.lastFrame())).toContain('second');
    await r.type(KEY.up);
    expect(promptText(r.lastFrame())).toContain('first');
    await r.type(KEY.down, KEY.down);
    expect(promptText(r.lastFrame())).toContain('draft');
    await r.type(KEY.up, '!', KEY.enter); // the recalled text is editable, cursor at its end
    expect(relay.submits.at(-1)?.text).toBe('second!');
  });

  it('Tab completes a session id after @, again for the next match', async () => {
    const relay = new FakeRelay({ sessions: { 'session-1': session(), 'session-2': session(), other: session() } });
    r = app(relay);
    await r.type('@ses', KEY.tab);
    expect(promptText(r.lastFrame())).toBe('@session-1:');
    await r.type(KEY.tab);
    expect(promptText(r.lastFrame())).toBe('@session-2:');
    await r.type('hi', KEY.enter);
    expect(relay.submits.at(-1)?.text).toBe('@session-2: hi');
  });

  it('a unique match completes at once', async () => {
    const relay = new FakeRelay({ sessions: { 'session-1': session(), docs: session() } });
    r = app(relay);
    await r.type('@ses', KEY.tab);
    expect(promptText(r.lastFrame())).toBe('@session-1:');
  });

  it('every keystroke notes presence', async () => {
    const relay = new FakeRelay();
    r = app(relay);
    await r.type('a', 'b', 'c');
    expect(relay.presence).toBe(3);
  });
});

describe('completeSession', async () => {
  const { completeSession } = await import('../../src/ui/keys/complete.js');
  const ids = ['session-1', 'session-2', 'docs'];
  it('first match, then the next on each Tab, wrapping', () => {
    const a = completeSession('@ses', ids, null)!;
    expect(a.value).toBe('@session-1: ');
    expect(a.note?.message).toContain('next of 2');
    const b = completeSession(a.value, ids, a.cycle)!;
    expect(b.value).toBe('@session-2: ');
    expect(completeSession(b.value, ids, b.cycle)!.value).toBe('@session-1: ');
  });
  it('a unique match, no match, not a session prefix', () => {
    expect(completeSession('@d', ids, null)).toEqual({ value: '@docs: ', cycle: null });
    expect(completeSession('@zz', ids, null)?.note).toEqual({ ok: false, message: 'no session starts with "zz"' });
    expect(completeSession('hello', ids, null)).toBeNull();
    expect(completeSession('', ids, null)?.value).toBe('@session-1: ');
  });
});
