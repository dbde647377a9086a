import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, sshdUnavailable, type Sshd } from '../../bench/sshd.js';
import { remoteHookSpecs } from '../../src/commands/hook/install.js';
import { readProc } from '../../src/fs/process-table.js';
import { ensureLayout, rootPaths } from '../../src/protocol/root.js';
import { CLI, createHarness } from '../helpers/harness.js';
import { writeReply } from '../helpers/procs.js';

/**
 * A remote session's late-reply waiter (issue 25, item 16) over a real OpenSSH server on
 * 127.0.0.1, through the restricted key (remote-shell) a user would give the session's
 * machine. The hook command is the one `hook install --remote` writes; it runs under a
 * stand-in for Claude Code (a node process that starts it through sh, as Claude Code
 * does, and outlives it). The relay's side is a relay root whose dispatch/ the test
 * writes the way the relay's dispatcher does (a rename onto input.txt).
 */

const missing = sshdUnavailable();
if (missing) process.stderr.write(`test/e2e/ssh-waiter.test.ts: skipped: ${missing}\n`);

/** Stands in for Claude Code: runs the hook through sh, prints how it ended, and stays. */
const STAND_IN = `
const { spawn } = require('node:child_process');
const c = spawn('sh', ['-c', process.env.HOOK_CMD], { stdio: ['pipe', 'ignore', 'pipe'] });
let err = '';
c.stderr.on('data', (d) => (err += d));
c.stdin.end(JSON.stringify({ hook_event_name: 'Stop', session_id: 'cc-1', stop_hook_active: false }));
c.on('exit', (code) => process.stdout.write(JSON.stringify({ code, err }) + '\\n'));
setTimeout(() => {}, 600000);
`;

describe.skipIf(!!missing)('the late-reply waiter of a remote session', () => {
  let sshd: Sshd;
  let root: string;
  const running: ResultPromise[] = [];

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-ssh-waiter-'));
    ensureLayout(rootPaths(root));
    fs.writeFileSync(path.join(root, 'config.yaml'), 'sessions: [w1, w2, w3, w4, w5, w6]\n');
    sshd = await startSshd({
      keys: ['main', 'restricted'],
      authorized: (k) => [`restrict,command="${process.execPath} ${CLI} remote-shell --root ${root}" ${k.restricted.pub}`, k.main.pub],
    });
  }, 60_000);

  afterEach(() => {
    for (const p of running.splice(0)) p.kill('SIGKILL');
  });

  afterAll(async () => {
    await sshd?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const p = () => rootPaths(root);
  const input = (s: string) => path.join(p().dispatch, s, 'input.txt');
  const lockFile = (s: string) => path.join(p().state, 'hooks', `${s}.waiter.json`);
  const lockOwner = (s: string): number | undefined => {
    try {
      return JSON.parse(fs.readFileSync(lockFile(s), 'utf8')).owner.pid;
    } catch {
      return undefined;
    }
  };
  const reply = (s: string, text: string) => writeReply(p().dispatch, s, text);
  async function until<T>(what: string, f: () => T | undefined, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = f();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${sshd.log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The waiter as hook install --remote writes it, under a Claude Code stand-in; resolves how the hook ended. */
  function startWaiter(session: string, extraEnv: Record<string, string> = {}, host = 'relayhost-restricted') {
    const spec = remoteHookSpecs({
      bin: CLI,
      session,
      target: `${host}:${root}`,
      env: { RELAY_SSH: `ssh -F ${sshd.sshConfig} -o ControlPath=none`, ...extraEnv },
    }).find((s) => s.asyncRewake)!;
    const cc = execa(process.execPath, ['-e', STAND_IN], { env: { HOOK_CMD: spec.command }, reject: false });
    running.push(cc);
    const ended = new Promise<{ code: number; err: string }>((resolve) => {
      let buf = '';
      cc.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]));
      });
    });
    return { cc, ended, command: spec.command };
  }

  /** The hook woke its session with `text`, once: exit 2, and input.txt acked on the relay's side. */
  async function expectWoken(w: ReturnType<typeof startWaiter>, session: string, text: string): Promise<string> {
    const end = await w.ended;
    expect(end.code, end.err).toBe(2);
    expect(end.err).toContain(text);
    expect(fs.existsSync(input(session))).toBe(false);
    return end.err;
  }

  it('is what hook install --remote writes: async, asyncRewake, over ssh; the typed-prompt hook goes too', () => {
    const specs = remoteHookSpecs({
      bin: '/opt/rt/bin/relay-tui.js',
      session: 'w1',
      target: 'ws:/srv/relay',
      env: { RELAY_SSH: 'ssh -i k' },
    });
    const waiter = specs.find((s) => s.asyncRewake);
    expect(waiter).toMatchObject({ event: 'Stop', async: true, asyncRewake: true });
    expect(waiter!.command).toBe("RELAY_SSH='ssh -i k' node /opt/rt/bin/relay-tui-hook-wait.js --session w1 --remote ws:/srv/relay");
    expect(specs.map((s) => s.event).sort()).toEqual(['Notification', 'Stop', 'Stop', 'UserPromptSubmit']);
    expect(specs.find((s) => s.event === 'UserPromptSubmit')!.command).toBe(
      "RELAY_SSH='ssh -i k' node /opt/rt/bin/relay-tui.js hook prompt --session w1 --remote ws:/srv/relay",
    );
  });

  it('a reply that comes later wakes the session once, and the relay gets its ack', async () => {
    const w = startWaiter('w1');
    await until('the far waiter', () => lockOwner('w1'));
    // Past the far side's grace for a windowed Stop hook (3 s): nothing else is waiting for it.
    await new Promise((r) => setTimeout(r, 3500));
    reply('w1', 'Approved by the operator: ship it.');
    // Acked: input.txt is gone (the relay delivers the next reply), and no claim is left.
    expect(await expectWoken(w, 'w1', 'Approved by the operator: ship it.')).toMatch(/^\[relay-tui delivery [0-9a-f]{12}\] /);
    expect(fs.existsSync(path.join(p().dispatch, 'w1', '.claim'))).toBe(false);
    await until('the far waiter to end', () => lockOwner('w1') === undefined);
  }, 60_000);

  it('works the same with an ordinary key, where relay-tui on the far side runs remote-guard itself', async () => {
    const w = startWaiter('w6', { RELAY_REMOTE_BIN: `${process.execPath} ${CLI}` }, 'relayhost');
    await until('the far waiter', () => lockOwner('w6'));
    await new Promise((r) => setTimeout(r, 3500));
    reply('w6', 'through the ordinary key');
    await expectWoken(w, 'w6', 'through the ordinary key');
  }, 60_000);

  it('the story it exists for: the Stop hook gives up on a held [NEEDS-JC], the operator approves later, the idle session wakes', async () => {
    const h = await createHarness();
    try {
      h.writeConfig({});
      await h.startRelay();
      const target = `relayhost:${h.root}`;
      const env = { RELAY_SSH: `ssh -F ${sshd.sshConfig} -o ControlPath=none`, RELAY_REMOTE_BIN: `${process.execPath} ${CLI}` };
      const specs = remoteHookSpecs({ bin: CLI, session: 'session-1', target, env });
      // Claude Code starts both Stop hooks at the Stop: the windowed one (here 3 s) and the waiter.
      const waiter = specs.find((x) => x.asyncRewake)!;
      const cc = execa(process.execPath, ['-e', STAND_IN], { env: { HOOK_CMD: waiter.command }, reject: false });
      running.push(cc);
      const ended = new Promise<{ code: number; err: string }>((resolve) =>
        cc.stdout!.on('data', (d: Buffer) => resolve(JSON.parse(d.toString().split('\n')[0]))),
      );
      const stop = await execa('sh', ['-c', `${specs.find((x) => x.event === 'Stop' && !x.async)!.command} --timeout 3`], {
        input: JSON.stringify({
          hook_event_name: 'Stop',
          session_id: 'cc-1',
          stop_hook_active: false,
          last_assistant_message: 'Done. NEEDS-JC-PLEASE',
        }),
        reject: false,
      });
      expect(stop.exitCode).toBe(0);
      // No decision: the window closed with the reply held for the operator.
      expect(stop.stdout).not.toMatch(/"decision"/);
      const held = await h.waitStatus((x) => (x.waiting ?? []).some((w) => w.session === 'session-1'));
      expect(held.waiting!.find((w) => w.session === 'session-1')!.kind).toBe('question');
      await h.cli(['say', '/approve', 'session-1']);
      const end = await ended;
      expect(end.code).toBe(2);
      expect(end.err).toMatch(/\[NEEDS-JC\] Should session-1 go ahead/);
      // Delivered once: input.txt acked, nothing left to hand over at the next Stop.
      await h.waitStatus((x) => !(x.waiting ?? []).length);
      expect(fs.existsSync(h.input('session-1'))).toBe(false);
    } finally {
      await h.close();
    }
  }, 90_000);

  it('when Claude Code is gone, the channel closes, the far waiter ends and a later reply stays for the next Stop', async () => {
    const w = startWaiter('w2');
    const far = await until('the far waiter', () => lockOwner('w2'));
    w.cc.kill('SIGKILL');
    await until('the far waiter to end', () => readProc(far) === undefined || readProc(far)?.zombie);
    await until('its lock to go', () => lockOwner('w2') === undefined);
    reply('w2', 'nobody is there to read this');
    await new Promise((r) => setTimeout(r, 1500));
    expect(fs.readFileSync(input('w2'), 'utf8')).toBe('nobody is there to read this');
  }, 60_000);

  it('a prompt typed in the session (its UserPromptSubmit hook, over ssh) ends the wait; the reply is left for its Stop', async () => {
    const w = startWaiter('w3');
    await until('the far waiter', () => lockOwner('w3'));
    const spec = remoteHookSpecs({
      bin: CLI,
      session: 'w3',
      target: `relayhost-restricted:${root}`,
      env: { RELAY_SSH: `ssh -F ${sshd.sshConfig} -o ControlPath=none` },
    }).find((s) => s.event === 'UserPromptSubmit')!;
    const typed = await execa('sh', ['-c', spec.command], {
      input: JSON.stringify({ hook_event_name: 'UserPromptSubmit', prompt: 'now do the migration' }),
      reject: false,
    });
    expect(typed.exitCode, typed.stderr).toBe(0);
    const end = await w.ended;
    expect(end.code).toBe(0);
    reply('w3', 'late, and the session has moved on');
    await new Promise((r) => setTimeout(r, 1000));
    expect(fs.existsSync(input('w3'))).toBe(true);
  }, 60_000);

  it('a channel that breaks is opened again, with the first start carried over, and the reply still arrives', async () => {
    const w = startWaiter('w4');
    const first = await until('the far waiter', () => lockOwner('w4'));
    // The client's ssh, as if the network dropped it: the far guard sees the channel close.
    const hookPid = await until('the hook process', () => childOf(w.cc.pid!, 'node'));
    const ssh = await until('its ssh', () => childOf(hookPid, 'ssh'));
    process.kill(ssh, 'SIGKILL');
    const second = await until(
      'a second far waiter',
      () => {
        const o = lockOwner('w4');
        return o !== undefined && o !== first ? o : undefined;
      },
      30_000,
    );
    // The far half runs in the forced command's process; what the client asked for is in its environment.
    const asked = fs
      .readFileSync(`/proc/${second}/environ`, 'utf8')
      .split('\0')
      .find((v) => v.startsWith('SSH_ORIGINAL_COMMAND='));
    expect(asked).toMatch(/ remote-guard hook wait --session w4 --since \d+ /);
    reply('w4', 'after the reconnect');
    await expectWoken(w, 'w4', 'after the reconnect');
  }, 90_000);

  it('a far side that refuses the channel says why in one line, and the hook neither retries nor wakes the session', async () => {
    const bad = remoteHookSpecs({
      bin: CLI,
      session: 'w5',
      target: 'relayhost-restricted:/elsewhere',
      env: { RELAY_SSH: `ssh -F ${sshd.sshConfig} -o ControlPath=none` },
    }).find((s) => s.asyncRewake)!;
    const cc = execa(process.execPath, ['-e', STAND_IN], { env: { HOOK_CMD: bad.command }, reject: false });
    running.push(cc);
    const end = await new Promise<{ code: number; err: string }>((resolve) =>
      cc.stdout!.on('data', (d: Buffer) => resolve(JSON.parse(d.toString().split('\n')[0]))),
    );
    expect(end.code).toBe(0);
    expect(end.err.trim().split('\n')).toHaveLength(1);
    expect(end.err).toMatch(/^relay-tui hook wait: .*refused: this key may use only the relay root .*; not waiting/);
  }, 60_000);

  it('leaves nothing running on either side once the sessions are gone', async () => {
    for (const p of running.splice(0)) p.kill('SIGKILL');
    const mine = () =>
      fs
        .readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
        .filter((d) => {
          try {
            const info = readProc(Number(d));
            return !info?.zombie && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(root);
          } catch {
            return false;
          }
        });
    // Each client notices its Claude Code is gone within a liveness tick and closes its channel.
    await until('every waiter and far half to end', () => mine().length === 0 || undefined, 15_000);
  }, 30_000);
});

/** The first child of `pid` whose command is `comm` (from /proc). */
function childOf(pid: number, comm: string): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const info = readProc(Number(d));
    if (info && info.ppid === pid && info.comm === comm) return Number(d);
    // Through the shell Claude Code starts hooks with.
    if (info && info.ppid === pid && info.comm === 'sh') {
      const deeper = childOf(Number(d), comm);
      if (deeper) return deeper;
    }
  }
  return undefined;
}
