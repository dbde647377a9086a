import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, createHarness, type Harness } from '../helpers/harness.js';

/**
 * The real TUI in a real tmux pane: keys through send-keys, the screen through
 * capture-pane. A private tmux server (-L) keeps it away from the user's sessions.
 */

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

const SOCKET = `relay-tui-test-${process.pid}`;
const SESSION = 'relay';
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', SESSION);
const keys = (...k: string[]) => tmux('send-keys', '-t', SESSION, ...k);

/** The screen is the one thing a terminal test can only sample; bounded, and it says what it last saw. */
async function waitScreen(pred: (s: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = screen();
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = h ? (() => { try { return fs.readFileSync(h.paths.log, 'utf8'); } catch { return '(no relay.log)'; } })() : '';
  throw new Error(`screen did not match within ${timeoutMs} ms; last screen:\n${last}\nrelay.log:\n${log}`);
}

let h: Harness | undefined;
afterEach(async () => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
  await h?.close();
  h = undefined;
});

describe.skipIf(!hasTmux)('TUI in a real tmux pane', () => {
  it('shows the relay working, approves from the keyboard, dispatches, fits 80x24 and quits cleanly', async () => {
    h = await createHarness();
    h.writeConfig({});
    const env = Object.entries({ ...h.env, TERM: 'xterm-256color' })
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    tmux('new-session', '-d', '-s', SESSION, '-x', '100', '-y', '30', 'bash --norc --noprofile');
    keys(`env ${env} node ${CLI} --root ${h.root}; echo "EXIT=$?"`, 'Enter');
    // Generous: the first frame includes node's start and loading Ink, slow on a loaded 2-core CI box.
    await waitScreen((s) => /RUNNING/.test(s) && /Sessions/.test(s), 45_000);

    // An envelope flows: the reply is dispatched and the turn shows in the panes.
    h.enqueue('session-1', 'Tests pass. Awaiting review.');
    await h.waitFile(h.input('session-1'));
    await waitScreen((s) => /session-1/.test(s) && /Reviewed session-1/.test(s));

    // A [NEEDS-JC] pause is shown with its keys, and Ctrl+A approves it.
    h.enqueue('session-2', 'NEEDS-JC-PLEASE can I delete the staging bucket?');
    await waitScreen((s) => /NEEDS-JC/.test(s) && /Ctrl\+A approve/.test(s));
    keys('C-a');
    expect(await h.waitFile(h.input('session-2'))).toMatch(/^\[NEEDS-JC\]/);
    await waitScreen((s) => /approved: dispatched to session-2/.test(s));
    fs.rmSync(h.input('session-2'));

    // The prompt line: @session-2: hi dispatches without an API call.
    const calls = h.api.requests.length;
    keys('-l', '@session-2: hi');
    keys('Enter');
    expect(await h.waitFile(h.input('session-2'))).toBe('hi');
    expect(h.api.requests.length).toBe(calls);

    // Resize to 80x24: every line inside the pane, the prompt still on screen.
    tmux('resize-window', '-t', SESSION, '-x', '80', '-y', '24');
    const small = await waitScreen((s) => s.split('\n').some((l) => /Sessions/.test(l)) && /›/.test(s));
    const lines = small.replace(/\n+$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(small).toMatch(/Queue/);
    expect(small).toMatch(/Cost/);

    // /quit: exit 0, and the shell in the pane is usable (echo and canonical mode back on).
    keys('-l', '/quit');
    keys('Enter');
    await waitScreen((s) => /EXIT=0/.test(s));
    keys('stty -a | tr " " "\\n" | grep -x -e icanon -e echo | tr "\\n" + ; echo STTY-DONE', 'Enter');
    const after = await waitScreen((s) => /STTY-DONE\s*$/m.test(s.split('\n').filter((l) => !/stty -a/.test(l)).join('\n')));
    expect(after).toMatch(/icanon\+echo\+STTY-DONE/);
    expect(fs.existsSync(h.paths.lock)).toBe(false);
  }, 120_000);
});
