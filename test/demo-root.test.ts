import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, waitFor } from './helpers/harness.js';
import { hasTmux } from './helpers/procs.js';

/**
 * `relay-tui --demo` without --root makes a temporary root of its own. It must not leave
 * one behind on every run (each is ~140 KB: config, state, logs): it removes it on exit,
 * unless RELAY_DEMO_KEEP=1 asks to keep it, and then it says where it is.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs the headless demo with its temp dir in a fresh folder; stops it with SIGTERM once it relays. */
async function demoOnce(env: Record<string, string> = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-demo-tmp-'));
  dirs.push(tmp);
  const child = execa(process.execPath, [CLI, '--demo', '--no-ui'], {
    env: { PATH: process.env.PATH ?? '', HOME: tmp, TMPDIR: tmp, ...env },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  try {
    const root = await waitFor(
      () => /relay-tui demo: root (\S+?),? /.exec(err)?.[1],
      tmp,
      30_000,
      () => err,
    );
    expect(path.dirname(root)).toBe(tmp);
    // Running: its status names its pid (the root is in use, with state and logs in it).
    await waitFor(
      () => {
        try {
          return JSON.parse(fs.readFileSync(path.join(root, 'state', 'status.json'), 'utf8')).pid === child.pid || undefined;
        } catch {
          return undefined;
        }
      },
      path.join(root, 'state'),
      30_000,
      () => err,
    );
    child.kill('SIGTERM');
    const r = await child;
    return { root, tmp, exitCode: r.exitCode, stderr: err };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('--demo and its temporary root', () => {
  it('removes the root it made on exit, and says at start that it will', async () => {
    const r = await demoOnce();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('removed on exit; RELAY_DEMO_KEEP=1 keeps it');
    expect(fs.existsSync(r.root)).toBe(false);
    expect(fs.readdirSync(r.tmp).filter((n) => n.startsWith('relay-tui-demo-'))).toEqual([]);
  });

  it('RELAY_DEMO_KEEP=1 keeps it and says where', async () => {
    const r = await demoOnce({ RELAY_DEMO_KEEP: '1' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`relay-tui demo: kept the root at ${r.root}`);
    expect(fs.existsSync(path.join(r.root, 'config.yaml'))).toBe(true);
  });

  it.skipIf(!hasTmux)(
    'the TUI in a tmux pane removes it too when the pane is killed (SIGHUP), even while it starts',
    { timeout: 90_000 },
    async () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-demo-tmp-'));
      dirs.push(tmp);
      const socket = `relay-demo-test-${process.pid}`;
      const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
      const cmd = `exec env -i PATH="$PATH" HOME=${tmp} TMPDIR=${tmp} TERM=xterm-256color ${process.execPath} ${CLI} --demo`;
      tmux('new-session', '-d', '-s', 'demo', '-x', '80', '-y', '24', cmd);
      try {
        const demoRoots = () => fs.readdirSync(tmp).filter((n) => n.startsWith('relay-tui-demo-'));
        const root = await waitFor(
          () => {
            const [name] = demoRoots();
            return name && fs.existsSync(path.join(tmp, name, 'state', 'status.json')) ? path.join(tmp, name) : undefined;
          },
          tmp,
          30_000,
          () => tmux('capture-pane', '-p', '-t', 'demo'),
        );
        tmux('kill-server');
        await waitFor(
          () => (fs.existsSync(root) ? undefined : true),
          tmp,
          30_000,
          () => `still there: ${root}`,
        );
        expect(demoRoots()).toEqual([]);
      } finally {
        try {
          tmux('kill-server');
        } catch {
          /* already gone */
        }
      }
    },
  );
});
