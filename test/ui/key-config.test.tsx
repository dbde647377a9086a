import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKeySpec, tmuxPrefixClashes } from '../../src/config/keys.js';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import { App } from '../../src/ui/App.js';
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

function configError(keys: unknown): ConfigError {
  try {
    validateConfig({ keys }, '/r/config.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no config error');
}

describe('keys: in config.yaml', () => {
  it('defaults: approve is Ctrl+Y, and no default is a usual tmux prefix', () => {
    const { config } = validateConfig({}, '/r/config.yaml');
    expect(config.keys.approve).toBe('ctrl+y');
    expect(tmuxPrefixClashes(config.keys)).toEqual([]);
  });

  it('a rebinding is merged with the defaults', () => {
    const { config, warnings } = validateConfig({ keys: { approve: 'Ctrl+O' } }, '/r/config.yaml');
    expect(warnings).toEqual([]);
    expect(config.keys.approve).toBe('Ctrl+O');
    expect(config.keys.drop).toBe('ctrl+x');
  });

  it('an unknown action is a config error naming the key', () => {
    const err = configError({ aprove: 'ctrl+o' });
    expect(err.key).toBe('keys.aprove');
    expect(err.message).toMatch(/\/r\/config\.yaml: keys\.aprove: unknown action .*approve/);
  });

  it('an unreadable key, a key the terminal cannot tell apart, a clash: each a config error naming the key', () => {
    expect(configError({ approve: 'hyper+q' }).key).toBe('keys.approve');
    expect(configError({ approve: 'ctrl+shift' }).message).toMatch(/cannot read|ctrl\+ works/);
    expect(configError({ drop: 'ctrl+m' }).message).toMatch(/keys\.drop: a terminal sends ctrl\+m as Enter/);
    expect(configError({ drop: 'ctrl+y' }).message).toMatch(/keys\.drop: Ctrl\+Y is bound to both approve and drop/);
    expect(configError({ pause: 7 }).message).toMatch(/keys\.pause: expected a key/);
  });

  it('parses the spellings people write', () => {
    expect(parseKeySpec('ctrl+y')).toMatchObject({ ctrl: true, name: 'y' });
    expect(parseKeySpec('Alt+P')).toMatchObject({ meta: true, name: 'p' });
    expect(parseKeySpec('PgUp')).toMatchObject({ name: 'pageup' });
    expect(parseKeySpec('esc')).toMatchObject({ name: 'escape' });
    expect(parseKeySpec('?')).toMatchObject({ name: '?', ctrl: false });
    expect(typeof parseKeySpec('')).toBe('string');
  });
});

describe('the App with rebound keys', () => {
  const app = (
    keys: Record<string, string>,
    relay = new FakeRelay(held),
    extra: { warnings?: string[]; tmuxPrefix?: string | null } = {},
  ) =>
    renderSized(
      <App
        relay={relay}
        keys={keys}
        warnings={extra.warnings}
        tmuxPrefix={extra.tmuxPrefix}
        onQuit={() => {}}
        now={() => NOW}
        bell={() => {}}
      />,
      { columns: 80, rows: 24 },
    );

  it('approve on Ctrl+O: Ctrl+O approves, Ctrl+Y no longer does; the banner, hint and help show Ctrl+O', async () => {
    const relay = new FakeRelay(held);
    r = app({ approve: 'ctrl+o' }, relay);
    let f = plain(await r.waitFor('NEEDS-JC'));
    expect(f).toContain('Ctrl+O approve → session-1');
    expect(f).not.toContain('Ctrl+Y');
    await r.type(KEY.ctrl('y'));
    expect(relay.submits).toEqual([]);
    expect(promptText(r.lastFrame())).toBe('');
    await r.type(KEY.ctrl('o'));
    expect(relay.submits).toEqual([{ text: '/approve session-1', source: 'tui' }]);
    await r.type('?');
    f = plain(await r.waitFor('── Help'));
    expect(f).toMatch(/Ctrl\+O\s+approve the selected item/);
  });

  it('help on F-less terminals: a rebound help key opens it, and "?" is typed text', async () => {
    r = app({ help: 'ctrl+g' }, new FakeRelay());
    await r.type('?');
    expect(promptText(r.lastFrame())).toBe('?');
    await r.type(KEY.ctrl('g'));
    expect(plain(await r.waitFor('── Help'))).toMatch(/Ctrl\+G\s+open \/ close this help/);
  });

  it('a key bound to a tmux prefix gets a one-line hint under the header; Esc dismisses it', async () => {
    r = app({ approve: 'ctrl+a' }, new FakeRelay(), { tmuxPrefix: 'C-a' });
    let f = plain(await r.waitFor('tmux'));
    expect(f).toMatch(/⚠ Ctrl\+A \(keys\.approve\) is your tmux prefix/);
    await r.type(KEY.esc);
    f = plain(r.lastFrame());
    expect(f).not.toContain('tmux prefix');
  });

  it('start-up warnings show one at a time under the header until dismissed', async () => {
    const w = [
      '/r/config.yaml: unknown key modle (ignored; is it a typo?)',
      '/r/config.yaml: unknown key limits.max_bytes (ignored; is it a typo?)',
    ];
    r = app({}, new FakeRelay(), { warnings: w });
    let f = plain(await r.waitFor('modle'));
    expect(f.split('\n')[2]).toMatch(/^⚠ .*unknown key modle .*1\/2/);
    await r.type(KEY.esc);
    f = plain(await r.waitFor('max_bytes'));
    expect(f).not.toContain('modle');
    await r.type(KEY.esc);
    expect(plain(r.lastFrame())).not.toContain('⚠');
  });
});
