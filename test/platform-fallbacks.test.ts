import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimRecordPath, hooksDir, waiterLockPath } from '../src/commands/hook/claim.js';
import { HANDED_OVER } from '../src/commands/hook/wait.js';
import type { Relay } from '../src/engine/relay.js';
import type { WatchFn } from '../src/fs/watch.js';
import { watchDir } from '../src/fs/watch.js';
import { rootPaths } from '../src/protocol/root.js';
import { enqueue, lastUser, openRelay, scriptedChat, tempRoot, type ScriptedChat } from './helpers/inproc.js';
import { findClaudeCode, isLive, procId, cmdline } from '../src/commands/hook/proc.js';
import { isAlive } from '../src/fs/lock.js';
import { parsePsLine, procSource, readProc } from '../src/fs/process-table.js';

/**
 * macOS has no /proc. The `ps` path that replaces it there runs here on Linux, with the
 * real `ps`, by RELAY_TUI_PROC_SOURCE=ps; every check below runs once per source.
 */

const WAIT_BIN = path.resolve(__dirname, '../bin/relay-tui-hook-wait.js');

const kids: Array<ReturnType<typeof execa>> = [];
afterEach(async () => {
  for (const k of kids.splice(0)) {
    k.kill('SIGKILL');
    await k.catch(() => undefined);
  }
  delete process.env.RELAY_TUI_PROC_SOURCE;
});

function spawnKid(cmd: string, args: string[]): ReturnType<typeof execa> {
  const k = execa(cmd, args, { stdio: 'ignore', reject: false });
  kids.push(k);
  return k;
}

describe('the ps parser, on real ps output', () => {
  it('reads parent, name and start time as /proc has them', () => {
    const kid = spawnKid('sleep', ['30']);
    const out = execaSyncPs(kid.pid!);
    const info = parsePsLine(kid.pid!, out)!;
    expect(info).toMatchObject({ pid: kid.pid, ppid: process.pid, comm: 'sleep', zombie: false });
    // /proc's start (clock ticks after boot) and ps's (a UTC date) name the same second.
    const stat = fs.readFileSync(`/proc/${kid.pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))![1]);
    expect(Math.abs(btime + ticks / 100 - info.start)).toBeLessThanOrEqual(1);
  });

  it('takes macOS shapes: a full path, a login shell, a zombie; refuses what is not a ps line', () => {
    expect(parsePsLine(7, '    1 Ss   Tue Jan  6 09:05:01 2026 /Applications/Claude Helper.app/node')).toMatchObject({
      ppid: 1,
      comm: 'node',
      start: Date.UTC(2026, 0, 6, 9, 5, 1) / 1000,
    });
    expect(parsePsLine(7, '  300 S+   Tue Jan  6 09:05:01 2026 -zsh')?.comm).toBe('zsh');
    expect(parsePsLine(7, '  300 Z    Tue Jan  6 09:05:01 2026 (sleep)')?.zombie).toBe(true);
    expect(parsePsLine(7, 'ps: illegal option -- o')).toBeUndefined();
    expect(parsePsLine(7, '')).toBeUndefined();
  });
});

/** `ps -o ppid=,stat=,lstart=,comm=` as process-table.ts runs it. */
function execaSyncPs(pid: number): string {
  return execFileSync('ps', ['-o', 'ppid=,stat=,lstart=,comm=', '-p', String(pid)], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' },
  });
}

describe.each(['proc', 'ps'] as const)('processes, read from %s', (source) => {
  const use = () => {
    if (source === 'ps') process.env.RELAY_TUI_PROC_SOURCE = 'ps';
    expect(procSource()).toBe(source);
  };

  it('tells a live process from a dead one, a zombie and a reused pid', async () => {
    use();
    const me = procId(process.pid)!;
    // The source shows in the unit: seconds since the epoch from ps, clock ticks since boot from /proc.
    if (source === 'ps') expect(me.start).toBeGreaterThan(Date.UTC(2020, 0, 1) / 1000);
    else expect(me.start).toBeLessThan(Date.UTC(2020, 0, 1) / 1000);
    expect(isLive(me)).toBe(true);
    expect(isLive({ pid: process.pid, start: me.start + 1 })).toBe(false);
    const kid = spawnKid('sleep', ['30']);
    const dead = procId(kid.pid!)!;
    expect(isLive(dead)).toBe(true);
    kid.kill('SIGKILL');
    await kid;
    expect(isLive(dead)).toBe(false);
    expect(readProc(dead.pid)).toBeUndefined();
    // sh backgrounds a short sleep and becomes a long one, which never reaps it: a zombie.
    const parent = execa('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { reject: false });
    kids.push(parent);
    const zpid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
    await waitZombie(zpid);
    expect(readProc(zpid)?.zombie).toBe(true);
    expect(procId(zpid)).toBeUndefined();
  });

  it('finds the Claude Code above the hook shell, and reads a command line', async () => {
    use();
    // This process stands in for Claude Code, `sh -c` for the shell it runs hook commands in.
    const sh = spawnKid('sh', ['-c', 'sleep 30; true']);
    expect(findClaudeCode(sh.pid!)).toEqual(procId(process.pid));
    const args = cmdline(process.pid);
    expect(args.join(' ')).toMatch(/node/);
    expect(cmdline(2 ** 22 + 1)).toEqual([]);
  });

  it("the relay lock's owner: a live node is a relay, a live other program or a dead pid is not", async () => {
    use();
    expect(isAlive(process.pid)).toBe(true);
    const sleeper = spawnKid('sleep', ['30']);
    expect(isAlive(sleeper.pid!)).toBe(false);
    sleeper.kill('SIGKILL');
    await sleeper;
    expect(isAlive(sleeper.pid!)).toBe(false);
  });
});

/** The backgrounded sleep exits a moment after sh prints its pid (nothing signals it: look, bounded). */
async function waitZombie(pid: number): Promise<void> {
  for (let i = 0; i < 200 && !readProc(pid)?.zombie; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('the late-reply waiter without /proc', () => {
  it('binds to its Claude Code through ps, hands a late reply over, and ends when Claude Code is gone', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-noproc-'));
    const p = rootPaths(root);
    fs.mkdirSync(path.join(p.dispatch, 's1'), { recursive: true });
    fs.mkdirSync(hooksDir(p), { recursive: true });
    const env = { RELAY_TUI_PROC_SOURCE: 'ps' };
    // A node process stands in for Claude Code; it runs the waiter through `sh -c` as Claude Code does.
    const standIn = (extra: string) =>
      execa(
        'node',
        [
          '-e',
          `const r = require('child_process').spawnSync('sh', ['-c', 'node ${WAIT_BIN} --session s1 --root ${root}'], { input: '{}', encoding: 'utf8' }); process.stdout.write(JSON.stringify({ status: r.status, stderr: r.stderr })); ${extra}`,
        ],
        { env, reject: false },
      );
    const waiterUp = () => watchUntil(hooksDir(p), () => fs.existsSync(waiterLockPath(p, 's1')));

    const cc = standIn('');
    await waiterUp();
    const tmp = path.join(p.dispatch, 's1', '.tmp-reply');
    fs.writeFileSync(tmp, 'late answer: ship it');
    fs.renameSync(tmp, path.join(p.dispatch, 's1', 'input.txt'));
    const out = JSON.parse((await cc).stdout) as { status: number; stderr: string };
    expect(out.status).toBe(HANDED_OVER);
    expect(out.stderr).toContain('late answer: ship it');
    // What the woken session reads is the reply and nothing else the entry point printed.
    expect(out.stderr).not.toMatch(/unrecognized flag|warning/i);

    // Claude Code killed while its waiter waits: the waiter (now init's child) sees it gone and exits 0.
    fs.rmSync(claimRecordPath(p, 's1'), { force: true });
    fs.rmSync(path.join(p.dispatch, 's1', 'input.txt'), { force: true });
    const cc2 = standIn('');
    await waiterUp();
    const holder = JSON.parse(fs.readFileSync(waiterLockPath(p, 's1'), 'utf8')) as { cc: { pid: number; start: number } };
    expect(holder.cc.pid).toBe(cc2.pid);
    // Read through ps (a date in seconds), not /proc (clock ticks since boot).
    expect(holder.cc.start).toBeGreaterThan(Date.UTC(2020, 0, 1) / 1000);
    cc2.kill('SIGKILL');
    await cc2;
    await watchUntil(hooksDir(p), () => !fs.existsSync(waiterLockPath(p, 's1')));
    expect(fs.existsSync(claimRecordPath(p, 's1'))).toBe(false);
    fs.rmSync(root, { recursive: true, force: true });
  });
});

/** Resolves when `done()` holds, looking again on every change in `dir`. */
function watchUntil(dir: string, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!done()) return;
      w.close();
      resolve();
    };
    const w = fs.watch(dir, check);
    check();
  });
}

describe('a watch that gives no file names (FSEvents, kqueue)', () => {
  it('the relay still takes envelopes, sees acks and operator input, from rescans alone', async () => {
    process.env.RELAY_TUI_WATCH_NAMES = 'off';
    const paths = tempRoot();
    const names: Array<string | null> = [];
    const watch: WatchFn = (dir, fn, onError) =>
      watchDir(
        dir,
        (name) => {
          names.push(name);
          fn(name);
        },
        onError,
      );
    const chat = scriptedChat();
    // No maintenance sweep and no fault retry within the test: only the watches can wake it.
    const relay = openRelay(paths, { chat, watch });
    await relay.start();
    try {
      enqueue(paths, 'a.json', { session_id: 'session-1', content: 'first' });
      const input = path.join(paths.dispatch, 'session-1', 'input.txt');
      await watchUntil(path.join(paths.dispatch, 'session-1'), () => fs.existsSync(input));
      expect(fs.readFileSync(input, 'utf8')).toContain('reply: ');
      // The second reply waits in the outbox until the session takes the first (an ack seen by rescan).
      enqueue(paths, 'b.json', { session_id: 'session-1', content: 'second' });
      await untilRequests(relay, chat, 2);
      const first = fs.readFileSync(input, 'utf8');
      fs.unlinkSync(input);
      await watchUntil(path.join(paths.dispatch, 'session-1'), () => fs.existsSync(input) && fs.readFileSync(input, 'utf8') !== first);
      expect(fs.readFileSync(input, 'utf8')).toContain('second');
      // The operator's file in state/ is found without its name.
      fs.writeFileSync(path.join(paths.state, '.jc.tmp'), 'operator asks: status?\n');
      fs.renameSync(path.join(paths.state, '.jc.tmp'), paths.jcInput);
      await untilRequests(relay, chat, 3);
      expect(lastUser(chat.requests[2])).toContain('operator asks: status?');
    } finally {
      await relay.stop();
      delete process.env.RELAY_TUI_WATCH_NAMES;
      fs.rmSync(paths.root, { recursive: true, force: true });
    }
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => n === null)).toBe(true);
    // Nameless events in state/ once fed the relay its own status writes back (1,240 events for
    // these three turns, each one rereading the operator's files): the few dozen of real work now.
    expect(names.length).toBeLessThan(300);
  });
});

/** The relay's own event tells when another turn completed. */
function untilRequests(relay: Relay, chat: ScriptedChat, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (chat.requests.length < n) return;
      off();
      resolve();
    };
    const off = relay.on('turn:completed', check);
    check();
  });
}
