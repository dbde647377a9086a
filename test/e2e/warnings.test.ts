import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, createHarness, type Harness } from '../helpers/harness.js';
import { hasTmux } from '../helpers/procs.js';

/**
 * A start-up warning (here: a misspelt config key) is said once, by open-relay, and reaches
 * whichever view attaches first through the engine's event backlog: --no-ui's stdout and
 * logs/relay.log each show it exactly once; under the TUI, relay.log once (the engine
 * thread's log sink) and the screen once (the notice line, from the thread's 'ready').
 */

const SOCKET = `relay-tui-warn-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;
const TYPO = /modle/;

let h: Harness | undefined;
afterEach(async () => {
  try {
    execFileSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* no tmux server was started */
  }
  await h?.close();
  h = undefined;
});

describe('start-up warnings reach each view once', () => {
  it('--no-ui: once on stdout and once in logs/relay.log, before the ntfy topic line', async () => {
    h = await createHarness();
    h.writeConfig({ modle: 'claude-typo' });
    await h.startRelay();
    await h.stopRelay();
    const out = h.output();
    const log = fs.readFileSync(h.paths.log, 'utf8');
    expect(count(out, TYPO), out).toBe(1);
    expect(count(log, TYPO), log).toBe(1);
    expect(out).toMatch(/WARN: .*modle/);
    expect(out.indexOf('modle')).toBeLessThan(out.indexOf('ntfy topic:'));
  }, 60_000);

  it.skipIf(!hasTmux)(
    'the TUI: once on the screen and once in logs/relay.log',
    async () => {
      h = await createHarness();
      h.writeConfig({ modle: 'claude-typo' });
      const env = Object.entries({ ...h.env, TERM: 'xterm-256color' })
        .map(([k, v]) => `${k}='${v}'`)
        .join(' ');
      tmux('new-session', '-d', '-s', 'relay', '-x', '160', '-y', '40', 'bash --norc --noprofile');
      tmux('send-keys', '-t', 'relay', `env ${env} node ${CLI} --root ${h.root}; echo "EXIT=$?"`, 'Enter');
      const deadline = Date.now() + 45_000;
      let screen = '';
      while (Date.now() < deadline) {
        screen = tmux('capture-pane', '-p', '-t', 'relay');
        if (/RUNNING/.test(screen) && TYPO.test(screen)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(screen).toMatch(/RUNNING/);
      expect(count(screen, TYPO), screen).toBe(1);
      tmux('send-keys', '-t', 'relay', '-l', '/quit');
      tmux('send-keys', '-t', 'relay', 'Enter');
      while (Date.now() < deadline && !/EXIT=\d/.test(screen)) {
        await new Promise((r) => setTimeout(r, 100));
        screen = tmux('capture-pane', '-p', '-t', 'relay');
      }
      expect(screen).toMatch(/EXIT=0/);
      const log = fs.readFileSync(h.paths.log, 'utf8');
      expect(count(log, TYPO), log).toBe(1);
    },
    90_000,
  );
});
