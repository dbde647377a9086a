import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readClaim, takeHolderLock, waiterLockPath, wasDelivered } from '../src/commands/hook/claim.js';
import { procId } from '../src/commands/hook/proc.js';
import { runWaiter } from '../src/commands/hook/wait.js';
import { FarChannel, parseFarLine, type FarLine } from '../src/commands/hook/wait-far.js';
import { HANDED_OVER, runRemoteWaiter } from '../src/commands/remote/waiter.js';
import { rootPaths } from '../src/protocol/root.js';
import { me, writeReply } from './helpers/procs.js';
import { PassThrough } from 'node:stream';

/**
 * The remote waiter's two halves where the network misbehaves (issue 25 item 16; the
 * cases a fault review found). The client talks to a scripted far side standing in for
 * ssh (RELAY_SSH may be any program; it gets ssh's arguments and speaks the channel's
 * line protocol), so stalls and silent drops are exact and fast. The far half runs
 * in-process on a real root. test/e2e/ssh-waiter.test.ts has the real sshd.
 */

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-rwait-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A far side for RELAY_SSH: `script` gets the connection's number (1, 2, ...) and the far command line. */
function fakeFar(script: string): Record<string, string> {
  const file = path.join(dir, 'far.mjs');
  fs.writeFileSync(
    file,
    `import fs from 'node:fs';
import readline from 'node:readline';
const countFile = ${JSON.stringify(path.join(dir, 'connections'))};
const n = (Number(fs.existsSync(countFile) ? fs.readFileSync(countFile, 'utf8') : 0) || 0) + 1;
fs.writeFileSync(countFile, String(n));
const command = process.argv[process.argv.length - 1];
fs.appendFileSync(${JSON.stringify(path.join(dir, 'commands'))}, command + '\\n');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const lines = readline.createInterface({ input: process.stdin });
const next = () => new Promise((r) => { lines.once('line', r); lines.once('close', () => r(undefined)); });
${script}
`,
  );
  return { RELAY_SSH: `${process.execPath} ${file}` };
}

const cc = me;
const target = { host: 'relayhost', root: '/srv/relay' };

function captureStderr(): string[] {
  const seen: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    seen.push(String(s));
    return true;
  });
  return seen;
}

describe('the client half, on the session machine', () => {
  it('a reply offered while it was stalled past the far wait is not the end: it reconnects with --since and gets it again', async () => {
    const env = fakeFar(`
if (n === 1) {
  // The far half offered, heard nothing for its wait, released the claim and ended (exit 0).
  // A banner a far login shell printed, then the far half's own newline before "ready".
  process.stdout.write('motd without a newline');
  process.stdout.write('\\n');
  say({ t: 'ready', t0: 1796000000000 });
  say({ t: 'reply', nonce: 'aaaaaaaaaaaa', reason: 'R-first' });
  process.exit(0);
}
say({ t: 'ready', t0: 1796000009999 });
say({ t: 'reply', nonce: 'bbbbbbbbbbbb', reason: 'R-again' });
const answer = await next();
if (answer === 'take bbbbbbbbbbbb') say({ t: 'acked' });
await next();
process.exit(0);
`);
    const err = captureStderr();
    const code = await runRemoteWaiter({ session: 's1', target, env, cc: cc(), retryMs: [50], timeoutS: 60, err: (s) => err.push(s) });
    expect(code).toBe(HANDED_OVER);
    expect(err.join('')).toContain('R-again');
    const commands = fs.readFileSync(path.join(dir, 'commands'), 'utf8').trim().split('\n');
    expect(commands).toHaveLength(2);
    // The first channel's start (the far clock's) goes with the reconnect, though a banner ran into its line.
    expect(commands[1]).toMatch(/remote-guard hook wait --session s1 --since 1796000000000 --root/);
  }, 30_000);

  it('a far side that never says ready (a relay-tui there older than the waiter) is given up with one line, not held for a day', async () => {
    const env = fakeFar(`await next(); process.exit(0);`);
    const err: string[] = [];
    const code = await runRemoteWaiter({
      session: 's1',
      target,
      env,
      cc: cc(),
      readyTimeoutMs: 300,
      timeoutS: 60,
      err: (s) => err.push(s),
    });
    expect(code).toBe(0);
    expect(err.join('')).toMatch(
      /^relay-tui hook wait: no answer from the far side within 0.3 s \(relay-tui there too old .*\); not waiting/,
    );
    expect(fs.readFileSync(path.join(dir, 'connections'), 'utf8')).toBe('1');
  }, 30_000);

  it('a far side that stands down at once (another waiter serves the session) is said, and not retried', async () => {
    const env = fakeFar(`process.exit(0);`);
    const err: string[] = [];
    expect(await runRemoteWaiter({ session: 's1', target, env, cc: cc(), retryMs: [50], timeoutS: 60, err: (s) => err.push(s) })).toBe(0);
    expect(err.join('')).toMatch(/another waiter serves this session there/);
    expect(fs.readFileSync(path.join(dir, 'connections'), 'utf8')).toBe('1');
  }, 30_000);
});

describe('the far half, on the relay host', () => {
  const p = () => rootPaths(dir);
  const input = () => path.join(p().dispatch, 's1', 'input.txt');
  const reply = (text: string) => writeReply(p().dispatch, 's1', text);
  function far(startedAt?: number) {
    const toFar = new PassThrough();
    const said: FarLine[] = [];
    const write = (l: string) => {
      for (const line of l.split('\n').filter(Boolean)) said.push(parseFarLine(line)!);
    };
    const run = runWaiter({ session: 's1', root: dir, cc: cc(), timeoutS: 30, startedAt, far: { channel: new FarChannel(toFar), write } });
    const until = async <T>(f: () => T | undefined): Promise<T> => {
      for (let i = 0; i < 200; i++) {
        const v = f();
        if (v !== undefined) return v;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`never came; said ${JSON.stringify(said)}`);
    };
    return { toFar, said, run, until };
  }

  it('a reconnect takes over from its own old far half, which a silent network drop left alive', async () => {
    const since = Date.now() - 60_000;
    // The old channel's far half: another live process on the relay host, holding the lock under the same first start.
    const oldHalf = spawn('sleep', ['30']);
    await new Promise((r) => oldHalf.once('spawn', r));
    const old = procId(oldHalf.pid!)!;
    try {
      expect(takeHolderLock(waiterLockPath(p(), 's1'), { owner: old, cc: old, at: new Date(since).toISOString() })).toBeDefined();
      const fresh = far(since);
      await fresh.until(() => fresh.said.find((x) => x.t === 'ready'));
      // The lock is the reconnect's now: the old half, which checks it on every look, stands down.
      expect(JSON.parse(fs.readFileSync(waiterLockPath(p(), 's1'), 'utf8')).owner.pid).toBe(process.pid);
      reply('after the drop');
      const offer = (await fresh.until(() => fresh.said.find((x) => x.t === 'reply'))) as Extract<FarLine, { t: 'reply' }>;
      expect(offer.reason).toContain('after the drop');
      fresh.toFar.write(`take ${offer.nonce}\n`);
      expect(await fresh.run).toBe(0);
      expect(fresh.said.at(-1)).toEqual({ t: 'acked' });
      // Remembered as delivered, so the woken prompt's hook, which finds no claim to ack, stays quiet.
      expect(wasDelivered(p(), 's1', offer.nonce)).toBe(true);
    } finally {
      oldHalf.kill('SIGKILL');
    }
  });

  it('a different Stop (another first start) does not take over a live waiter whose turn is not over', async () => {
    const holder = { owner: cc(), cc: cc(), at: new Date(Date.now() - 5000).toISOString() };
    const release = takeHolderLock(waiterLockPath(p(), 's1'), holder)!;
    const other = far(Date.now() - 1000);
    expect(await other.run).toBe(0);
    expect(other.said).toEqual([]);
    release();
  });

  it('a reply taken from input.txt while it was offered (recv on the relay host) is not acked again: it is released', async () => {
    const f = far();
    await f.until(() => f.said.find((x) => x.t === 'ready'));
    reply('read by recv meanwhile');
    const offer = (await f.until(() => f.said.find((x) => x.t === 'reply'))) as Extract<FarLine, { t: 'reply' }>;
    fs.rmSync(input()); // what `relay-tui recv` does: prints it and deletes it, the relay's ack
    f.toFar.write(`take ${offer.nonce}\n`);
    expect(await f.run).toBe(0);
    expect(f.said.some((x) => x.t === 'acked')).toBe(false);
    expect(readClaim(p(), 's1')).toBeUndefined();
  });
});
