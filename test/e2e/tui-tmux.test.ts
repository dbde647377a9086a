import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, createHarness, type Harness } from '../helpers/harness.js';
import { hasTmux } from '../helpers/procs.js';

/**
 * The real TUI (its engine on a worker thread) in a real tmux pane: keys through
 * send-keys, the screen through capture-pane. A private tmux server (-L) keeps it away
 * from the user's sessions.
 */

const SOCKET = `relay-tui-test-${process.pid}`;
const SESSION = 'relay';
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = (target = SESSION) => tmux('capture-pane', '-p', '-t', target);
const keys = (...k: string[]) => tmux('send-keys', '-t', SESSION, ...k);

/** The screen is the one thing a terminal test can only sample; bounded, and it says what it last saw. */
async function waitScreen(pred: (s: string) => boolean, timeoutMs = 15_000, target = SESSION): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = screen(target);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = h
    ? (() => {
        try {
          return fs.readFileSync(h.paths.log, 'utf8');
        } catch {
          return '(no relay.log)';
        }
      })()
    : '';
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

function envLine(harness: Harness, over: Record<string, string> = {}): string {
  return Object.entries({ ...harness.env, TERM: 'xterm-256color', ...over })
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
}

/** A shell in a pane of this size, running the TUI; resolves once its first frame shows. */
async function startTui(harness: Harness, x: number, y: number): Promise<void> {
  tmux('new-session', '-d', '-s', SESSION, '-x', String(x), '-y', String(y), 'bash --norc --noprofile');
  keys(`env ${envLine(harness)} node ${CLI} --root ${harness.root}; echo "EXIT=$?"`, 'Enter');
  // Generous: the first frame includes node's start and loading Ink, slow on a loaded 2-core CI box.
  await waitScreen((s) => /RUNNING/.test(s) && /Sessions/.test(s), 45_000);
}

/** After the TUI ended: the shell in the pane is usable (echo and canonical mode back on). */
async function expectSaneTerminal(): Promise<void> {
  keys('stty -a | tr " " "\\n" | grep -x -e icanon -e echo | tr "\\n" + ; echo STTY-DONE', 'Enter');
  // The output line itself (flags then STTY-DONE): at 60 columns the typed command wraps, and
  // its second half also ends in STTY-DONE.
  const after = await waitScreen((s) => /^[a-z+]*STTY-DONE\s*$/m.test(s));
  expect(after).toMatch(/icanon\+echo\+STTY-DONE/);
}

function fits(s: string, x: number, y: number): void {
  const lines = s.replace(/\n+$/, '').split('\n');
  expect(lines.length).toBeLessThanOrEqual(y);
  for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(x);
}

describe.skipIf(!hasTmux)('TUI in a real tmux pane', () => {
  it('shows the relay working, approves from the keyboard, dispatches, fits 80x24 and quits cleanly', async () => {
    h = await createHarness();
    h.writeConfig({});
    await startTui(h, 100, 30);

    // An envelope flows: the reply is dispatched and the turn shows in the panes.
    h.enqueue('session-1', 'Tests pass. Awaiting review.');
    await h.waitFile(h.input('session-1'));
    await waitScreen((s) => /session-1/.test(s) && /Reviewed session-1/.test(s));

    // A [NEEDS-JC] pause is shown with its keys, and Ctrl+Y approves it.
    h.enqueue('session-2', 'NEEDS-JC-PLEASE can I delete the staging bucket?');
    await waitScreen((s) => /NEEDS-JC/.test(s) && /Ctrl\+Y approve/.test(s));
    keys('C-y');
    expect(await h.waitFile(h.input('session-2'))).toMatch(/^\[NEEDS-JC\]/);
    await waitScreen((s) => /approved: dispatched to session-2/.test(s) && /\[approved → session-2\]/.test(s));
    fs.rmSync(h.input('session-2'));

    // The prompt line: @session-2: hi dispatches without an API call, and shows in the conversation.
    const calls = h.api.requests.length;
    keys('-l', '@session-2: hi');
    keys('Enter');
    expect(await h.waitFile(h.input('session-2'))).toBe('hi');
    expect(h.api.requests.length).toBe(calls);
    await waitScreen((s) => /you → session-2 › hi/.test(s));

    // Ctrl+U with keys right behind it, in one write: cleared, then typed.
    keys('-l', 'draft text');
    keys('C-u', 'n', 'e', 'w');
    await waitScreen((s) => /^› new/m.test(s));
    keys('C-u');

    // Resize to 80x24: every line inside the pane, the prompt still on screen.
    tmux('resize-window', '-t', SESSION, '-x', '80', '-y', '24');
    const small = await waitScreen((s) => s.split('\n').some((l) => /Sessions/.test(l)) && /›/.test(s) && s.split('\n')[0].length <= 80);
    fits(small, 80, 24);
    expect(small).toMatch(/Queue/);
    expect(small).toMatch(/Cost/);

    // /quit: exit 0, the terminal sane, the lock released.
    keys('-l', '/quit');
    keys('Enter');
    await waitScreen((s) => /EXIT=0/.test(s));
    await expectSaneTerminal();
    expect(fs.existsSync(h.paths.lock)).toBe(false);
    // The quit is in the log, as --no-ui's SIGINT is.
    expect(fs.readFileSync(h.paths.log, 'utf8')).toMatch(/quit: finishing the write in hand and stopping[\s\S]*\bstopped\b/);

    // Restarted: the last dispatch and each session's last activity come back from the record, not "no dispatch yet" and "—".
    await h.startRelay();
    const st = await h.waitStatus((x) => x.pid === h!.relay?.pid);
    expect(st.last_dispatch_session).toBe('session-2');
    expect(st.last_dispatch_at).not.toBeNull();
    expect(st.sessions['session-1'].last_activity_at).not.toBeNull();
    expect(st.sessions['session-2'].last_activity_at).not.toBeNull();
    await h.stopRelay();
  }, 120_000);

  it('at 60x15 a pause keeps who asks, the question, queue, cost, a session row and the prompt; SIGTERM stops it cleanly', async () => {
    h = await createHarness();
    h.writeConfig({});
    await startTui(h, 60, 15);
    const idle = screen();
    fits(idle, 60, 15);
    expect(idle).toMatch(/── Sessions/);
    expect(idle).toMatch(/^session-1\s/m);

    h.enqueue('session-2', 'NEEDS-JC-PLEASE can I delete the staging bucket?');
    const paused = await waitScreen((s) => /session-2 asks you/.test(s));
    fits(paused, 60, 15);
    expect(paused).toMatch(/Ctrl\+Y approve/);
    expect(paused).toMatch(/── Queue/);
    expect(paused).toMatch(/total \$/);
    expect(paused).toMatch(/^session-2\s.*◀/m);
    expect(paused.replace(/\n+$/, '').split('\n').at(-1)).toMatch(/^› /);

    // SIGTERM (a systemd stop, a closed ssh session sends SIGHUP): graceful, exit 0, lock released.
    const pid = fs.readFileSync(h.paths.lock, 'utf8').match(/"pid":\s*(\d+)/)![1];
    process.kill(Number(pid), 'SIGTERM');
    await waitScreen((s) => /EXIT=0/.test(s));
    await expectSaneTerminal();
    expect(fs.existsSync(h.paths.lock)).toBe(false);
    // The TUI's stop is in the log, SIGTERM as much as /quit.
    expect(fs.readFileSync(h.paths.log, 'utf8')).toMatch(/quit: finishing the write in hand and stopping[\s\S]*\bstopped\b/);

    // Restarted: session-2 was active (its question), but its reply is held, not dispatched: the record says no dispatch yet.
    await h.startRelay();
    const st = await h.waitStatus((x) => x.pid === h!.relay?.pid);
    expect(st.sessions['session-2'].last_activity_at).not.toBeNull();
    expect(st.last_dispatch_session).toBeNull();
    await h.stopRelay();
  }, 120_000);

  it('start-up errors keep their messages and exit codes: lock held 3, bad keys: 4, no API key 4', async () => {
    h = await createHarness();
    h.writeConfig({});
    await startTui(h, 100, 30);
    const run = (name: string, env: string, extra = '') => {
      tmux('new-window', '-t', SESSION, '-n', name, 'bash --norc --noprofile');
      tmux('send-keys', '-t', `${SESSION}:${name}`, `env ${env} node ${CLI} --root ${h!.root} ${extra}; echo "EXIT=$?"`, 'Enter');
    };
    run('second', envLine(h));
    const second = await waitScreen((s) => /EXIT=\d/.test(s), 45_000, `${SESSION}:second`);
    expect(second).toMatch(/another relay \(pid \d+/);
    expect(second).toMatch(/EXIT=3/);

    const bad = `${h.root}/bad.yaml`;
    fs.writeFileSync(bad, 'keys:\n  aprove: ctrl+o\n');
    run('badkeys', envLine(h), `--config ${bad}`);
    const badKeys = await waitScreen((s) => /EXIT=\d/.test(s), 45_000, `${SESSION}:badkeys`);
    expect(badKeys).toMatch(/config error: .*keys\.aprove: unknown action/);
    expect(badKeys).toMatch(/EXIT=4/);

    tmux('send-keys', '-t', `${SESSION}:0`, '-l', '/quit');
    tmux('send-keys', '-t', `${SESSION}:0`, 'Enter');
    await waitScreen((s) => /EXIT=0/.test(s), 15_000, `${SESSION}:0`);
    run('nokey', envLine(h, { ANTHROPIC_API_KEY: '' }));
    const noKey = await waitScreen((s) => /EXIT=\d/.test(s), 45_000, `${SESSION}:nokey`);
    expect(noKey).toMatch(/ANTHROPIC_API_KEY is not set/);
    expect(noKey).toMatch(/EXIT=4/);
  }, 150_000);
});
