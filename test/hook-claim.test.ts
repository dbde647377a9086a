import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ackClaim,
  claimHeld,
  claimReply,
  markStopWaiting,
  readClaim,
  releaseClaim,
  takeHolderLock,
  waiterLockPath,
} from '../src/commands/hook/claim.js';
import { findClaudeCode, isLive, isPrintModeWithoutStreamInput } from '../src/commands/hook/proc.js';
import { deliveryNonce, HANDED_OVER, runWaiter } from '../src/commands/hook/wait.js';
import { FarChannel, parseFarLine, type FarLine } from '../src/commands/hook/wait-far.js';
import { rootPaths, type RootPaths } from '../src/protocol/root.js';
import { PassThrough } from 'node:stream';
import { deadProc, me, writeReply } from './helpers/procs.js';

const WAIT_BIN = path.resolve(__dirname, '../bin/relay-tui-hook-wait.js');

let dir: string;
let p: RootPaths;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-claim-'));
  p = rootPaths(dir);
  fs.mkdirSync(path.join(p.dispatch, 's1'), { recursive: true });
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const input = () => path.join(p.dispatch, 's1', 'input.txt');
const claimFile = () => path.join(p.dispatch, 's1', '.claim');
const reply = (text: string) => writeReply(p.dispatch, 's1', text);

describe('claims', () => {
  it('one claimer wins; input.txt stays until the ack; a release lets the next one have it', () => {
    reply('do the thing');
    const a = claimReply(p, 's1', { owner: me(), cc: me(), via: 'wake' })!;
    expect(a.text).toBe('do the thing');
    expect(claimReply(p, 's1', { owner: me(), cc: me(), via: 'wake' })).toBeUndefined();
    expect(claimHeld(p, 's1')).toBe(true);
    expect(fs.readFileSync(input(), 'utf8')).toBe('do the thing');
    releaseClaim(p, 's1', a.record.nonce);
    expect(fs.existsSync(claimFile())).toBe(false);
    const b = claimReply(p, 's1', { owner: me(), via: 'stop' })!;
    expect(b.record.nonce).not.toBe(a.record.nonce);
    // A stale nonce acks nothing.
    expect(ackClaim(p, 's1', a.record.nonce)).toBe(false);
    expect(fs.existsSync(input())).toBe(true);
    expect(ackClaim(p, 's1', b.record.nonce)).toBe(true);
    expect(fs.existsSync(input())).toBe(false);
    expect(fs.existsSync(claimFile())).toBe(false);
    expect(readClaim(p, 's1')).toBeUndefined();
  });

  it('a woken claim holds while its Claude Code lives, and is taken over once it is gone', async () => {
    reply('r1');
    const dead = await deadProc();
    claimReply(p, 's1', { owner: dead, cc: me(), via: 'wake' });
    expect(claimReply(p, 's1', { owner: me(), cc: me(), via: 'wake' })).toBeUndefined();
    fs.rmSync(claimFile());
    fs.rmSync(path.join(p.state, 'hooks', 's1.claim.json'));
    claimReply(p, 's1', { owner: dead, cc: dead, via: 'wake' });
    expect(claimHeld(p, 's1')).toBe(false);
    expect(claimReply(p, 's1', { owner: me(), cc: me(), via: 'wake' })?.text).toBe('r1');
  });

  it("a Stop hook's claim is gone with the Stop hook", async () => {
    reply('r1');
    claimReply(p, 's1', { owner: await deadProc(), cc: me(), via: 'stop' });
    expect(claimReply(p, 's1', { owner: me(), via: 'stop' })?.text).toBe('r1');
  });

  it('a claim of an earlier reply does not cover the next one, and never acks it', () => {
    reply('first');
    const a = claimReply(p, 's1', { owner: me(), cc: me(), via: 'wake' })!;
    fs.rmSync(input()); // acked some other way (relay-tui recv)
    reply('second');
    expect(ackClaim(p, 's1', a.record.nonce)).toBe(true);
    expect(fs.readFileSync(input(), 'utf8')).toBe('second');
    expect(claimReply(p, 's1', { owner: me(), via: 'stop' })?.text).toBe('second');
  });

  it('never claims through a symlink or a directory', () => {
    const secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, 'not yours');
    fs.symlinkSync(secret, input());
    expect(claimReply(p, 's1', { owner: me(), via: 'stop' })).toBeUndefined();
    fs.rmSync(input());
    fs.mkdirSync(input());
    expect(claimReply(p, 's1', { owner: me(), via: 'stop' })).toBeUndefined();
  });
});

describe('processes', () => {
  it('tells a live process from a dead one and from a reused pid', async () => {
    expect(isLive(me())).toBe(true);
    expect(isLive(await deadProc())).toBe(false);
    expect(isLive({ pid: process.pid, start: me().start + 1 })).toBe(false);
    expect(isLive({ pid: 1, start: 0 })).toBe(false);
  });

  it('finds the Claude Code above the hook shell', async () => {
    // This process stands in for Claude Code, `sh -c` for the shell it runs hook commands in.
    const sh = execa('sh', ['-c', 'sleep 30; true'], { stdio: 'ignore' });
    try {
      expect(findClaudeCode(sh.pid!)?.pid).toBe(process.pid);
    } finally {
      sh.kill('SIGKILL');
      await sh.catch(() => undefined);
    }
  });

  it('knows plain -p mode (no wake) from stream-json input (wakes)', () => {
    expect(isPrintModeWithoutStreamInput(['claude', '-p', 'hi'])).toBe(true);
    expect(isPrintModeWithoutStreamInput(['claude', '--print', '--input-format', 'stream-json'])).toBe(false);
    expect(isPrintModeWithoutStreamInput(['claude', '-p', '--input-format=stream-json'])).toBe(false);
    expect(isPrintModeWithoutStreamInput(['claude', '--permission-mode', 'default'])).toBe(false);
  });
});

describe('the waiter', () => {
  it('hands a reply over with exit 2 and its nonce, keeping input.txt for the ack', async () => {
    const pending = runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30 });
    await new Promise((r) => setTimeout(r, 200));
    reply('late answer: archive the logs');
    expect(await pending).toBe(HANDED_OVER);
    const rec = readClaim(p, 's1')!;
    expect(rec.via).toBe('wake');
    expect(fs.readFileSync(input(), 'utf8')).toBe('late answer: archive the logs');
    expect(fs.existsSync(waiterLockPath(p, 's1'))).toBe(false);
    expect(deliveryNonce(`x [relay-tui delivery ${rec.nonce}] y`)).toBe(rec.nonce);
  });

  it('one waiter per session: a second exits 0 at once', async () => {
    const first = runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30 })).toBe(0);
    reply('x');
    expect(await first).toBe(HANDED_OVER);
  });

  it('a lock left by a waiter whose Claude Code is gone is taken over', async () => {
    const dead = await deadProc();
    expect(takeHolderLock(waiterLockPath(p, 's1'), { owner: me(), cc: dead, at: '' })).toBeDefined();
    reply('x');
    expect(await runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30 })).toBe(HANDED_OVER);
  });

  it('whose Claude Code is gone never takes a reply, and exits 0', async () => {
    reply('for whoever comes next');
    expect(await runWaiter({ session: 's1', root: dir, cc: await deadProc(), timeoutS: 30 })).toBe(0);
    expect(fs.existsSync(claimFile())).toBe(false);
    expect(fs.readFileSync(input(), 'utf8')).toBe('for whoever comes next');
  });

  it('leaves the reply to a windowed Stop hook that is still waiting, and takes it once that one is gone', async () => {
    const unmark = markStopWaiting(p, 's1', { owner: me(), cc: me(), at: '' });
    reply('for the Stop hook');
    let settled = false;
    const pending = runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30 }).then((c) => ((settled = true), c));
    await new Promise((r) => setTimeout(r, 500));
    expect(settled).toBe(false);
    expect(fs.existsSync(claimFile())).toBe(false);
    unmark();
    expect(await pending).toBe(HANDED_OVER);
  });

  it('its own entry point exits 0 on every path but a hand-over: bad arguments, no session, no Claude Code', async () => {
    for (const args of [[], ['--session', '../x'], ['--bogus', '--session'], ['--session', 's1', '--root', dir, '--timeout', '1']]) {
      const r = await execa('node', [WAIT_BIN, ...args], { input: '{"hook_event_name":"Stop"}', reject: false });
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    // Started by sh from a plain `node -e` standing in for `claude -p`: not waiting, at once.
    const script = `require('child_process').execFileSync('sh', ['-c', 'node ${WAIT_BIN} --session s1 --root ${dir}'], { input: '{}', stdio: ['pipe', 'inherit', 'inherit'] })`;
    const r = await execa('node', ['-e', script, '--', '-p'], { reject: false, timeout: 20_000 });
    expect(r.exitCode).toBe(0);
  });
});

describe("the far half of a remote session's waiter (over the ssh channel)", () => {
  /** The waiter with --far, its channel a pair of in-memory streams. */
  function far() {
    const toFar = new PassThrough();
    const said: FarLine[] = [];
    let heard: () => void = () => {};
    const write = (l: string) => {
      for (const line of l.split('\n').filter(Boolean)) said.push(parseFarLine(line)!);
      heard();
    };
    const next = (t: FarLine['t']) =>
      new Promise<FarLine>((resolve) => {
        const look = () => {
          const hit = said.find((x) => x.t === t);
          if (hit) resolve(hit);
        };
        heard = look;
        look();
      });
    const run = runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30, far: { channel: new FarChannel(toFar), write } });
    return { toFar, said, next, run };
  }

  it('says it is ready, offers the reply with its nonce, and acks it only when the client takes it', async () => {
    const f = far();
    const ready = await f.next('ready');
    expect(ready).toEqual({ t: 'ready', t0: expect.any(Number) });
    expect(Number.isInteger((ready as { t0: number }).t0)).toBe(true);
    reply('late answer: ship it');
    const offer = (await f.next('reply')) as Extract<FarLine, { t: 'reply' }>;
    expect(offer.reason).toContain('late answer: ship it');
    expect(offer.reason).toContain(`[relay-tui delivery ${offer.nonce}]`);
    // Claimed, not acked, while the client decides.
    expect(readClaim(p, 's1')?.nonce).toBe(offer.nonce);
    expect(fs.existsSync(input())).toBe(true);
    f.toFar.write(`take ${offer.nonce}\n`);
    expect(await f.next('acked')).toEqual({ t: 'acked' });
    expect(await f.run).toBe(0);
    expect(fs.existsSync(input())).toBe(false);
    expect(fs.existsSync(claimFile())).toBe(false);
    expect(fs.existsSync(waiterLockPath(p, 's1'))).toBe(false);
  });

  it('releases the reply when the client leaves it, takes another nonce, or the channel ends', async () => {
    for (const answer of ['leave\n', 'take 000000000000\n', null]) {
      const f = far();
      await f.next('ready');
      reply(`answer for ${answer}`);
      await f.next('reply');
      if (answer === null) f.toFar.end();
      else f.toFar.write(answer);
      expect(await f.run).toBe(0);
      expect(f.said.some((x) => x.t === 'acked')).toBe(false);
      // input.txt stays for the next hook, with no claim on it.
      expect(fs.readFileSync(input(), 'utf8')).toBe(`answer for ${answer}`);
      expect(claimHeld(p, 's1')).toBe(false);
      fs.rmSync(input());
    }
  });

  it('reads only its own lines: noise on the channel is not a line of the protocol', () => {
    expect(parseFarLine('Welcome to Ubuntu')).toBeUndefined();
    expect(parseFarLine('{"t":"reply","nonce":1}')).toBeUndefined();
    expect(parseFarLine('{"t":"ready","t0":12}')).toEqual({ t: 'ready', t0: 12 });
  });
});
