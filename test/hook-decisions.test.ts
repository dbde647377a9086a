import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { markContinued, writeRecord } from '../src/commands/hook/chain.js';
import {
  claimReply,
  deliveryState,
  isRevoked,
  queuedWake,
  readClaim,
  revokeClaim,
  takeHolderLock,
  waiterLockPath,
} from '../src/commands/hook/claim.js';
import { decidedNothingComing, heldNote, sessionView } from '../src/commands/hook/decision.js';
import { HANDED_OVER, runWaiter } from '../src/commands/hook/wait.js';
import { readWaits } from '../src/commands/hook/waits.js';
import { acquireLock } from '../src/fs/lock.js';
import { rootPaths, type RootPaths } from '../src/protocol/root.js';
import type { Status } from '../src/protocol/status.js';
import { session as sessionStatus, status } from './ui/fake-relay.js';
import { deadProc, me, writeReply } from './helpers/procs.js';

/**
 * Issue 23, the session side: claims and waiters of turns that are over, and what a
 * waiting hook learns from status.json about the operator's decisions. Hooks run as the
 * real CLI (bin/relay-tui-hook.js, built) under this process, which stands in for their
 * Claude Code; the relay is this process holding the root's lock.
 */

const HOOK_BIN = path.resolve(__dirname, '../bin/relay-tui-hook.js');

let dir: string;
let p: RootPaths;
let relayLock: { release(): void } | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-decide-'));
  p = rootPaths(dir);
  fs.mkdirSync(path.join(p.dispatch, 's1'), { recursive: true });
  fs.mkdirSync(p.state, { recursive: true });
  fs.mkdirSync(p.queue, { recursive: true });
  fs.writeFileSync(p.config, 'hooks:\n  evidence: off\n');
});
afterEach(() => {
  relayLock?.release();
  relayLock = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

const input = () => path.join(p.dispatch, 's1', 'input.txt');
const claimFile = () => path.join(p.dispatch, 's1', '.claim');
const reply = (text: string) => writeReply(p.dispatch, 's1', text);
function writeStatus(st: Status): void {
  const tmp = `${p.status}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(st));
  fs.renameSync(tmp, p.status);
}
/** Resolves when the file exists: a watch on its directory, created if need be. */
function waitForFile(file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return new Promise((resolve) => {
    const w = fs.watch(path.dirname(file), () => {
      if (fs.existsSync(file)) done();
    });
    const done = () => {
      w.close();
      resolve();
    };
    if (fs.existsSync(file)) done();
  });
}
const s1 = (over: Parameters<typeof sessionStatus>[0] = {}) => ({ sessions: { s1: sessionStatus(over) } });
const hook = (sub: string, stdin: object, extra: string[] = []) =>
  execa('node', [HOOK_BIN, sub, '--session', 's1', '--root', dir, ...extra], { input: JSON.stringify(stdin), reject: false });
const stopInput = { hook_event_name: 'Stop', stop_hook_active: false, last_assistant_message: 'Did step 3.' };

describe('a wake queued in a busy Claude Code', () => {
  it('is a wake claim of this Claude Code whose waiter has exited; revoking it frees the reply and marks the nonce', async () => {
    reply('late reply');
    const dead = await deadProc();
    const c = claimReply(p, 's1', { owner: dead, cc: me(), via: 'wake' })!;
    expect(queuedWake(p, 's1', me())?.nonce).toBe(c.record.nonce);
    // Another Claude Code's, or one whose waiter still runs, or a Stop hook's: not this.
    expect(queuedWake(p, 's1', dead)).toBeUndefined();
    expect(deliveryState(p, 's1', c.record.nonce)).toBe('current');
    revokeClaim(p, 's1', c.record.nonce);
    expect(fs.existsSync(claimFile())).toBe(false);
    expect(isRevoked(p, 's1', c.record.nonce)).toBe(true);
    expect(deliveryState(p, 's1', c.record.nonce)).toBe('withdrawn');
    expect(claimReply(p, 's1', { owner: me(), via: 'stop' })?.text).toBe('late reply');
    expect(queuedWake(p, 's1', me())).toBeUndefined();
  });

  it('a live waiter between its claim and its exit is not queued yet', () => {
    reply('x');
    claimReply(p, 's1', { owner: me(), cc: me(), via: 'wake' });
    expect(queuedWake(p, 's1', me())).toBeUndefined();
  });

  it('a delivery whose input.txt the relay replaced or removed is withdrawn; another nonce is unknown', async () => {
    reply('first');
    const c = claimReply(p, 's1', { owner: await deadProc(), cc: me(), via: 'wake' })!;
    expect(deliveryState(p, 's1', 'ffffffffffff')).toBe('unknown');
    reply("the operator's redirect");
    expect(deliveryState(p, 's1', c.record.nonce)).toBe('withdrawn');
  });

  it('the Stop hook of the busy turn takes the reply at once instead of waiting behind the claim', async () => {
    relayLock = acquireLock(p.lock);
    reply('the reply that was queued as a wake');
    const c = claimReply(p, 's1', { owner: await deadProc(), cc: me(), via: 'wake' })!;
    const r = await hook('stop', stopInput, ['--timeout', '120']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.decision).toBe('block');
    expect(out.reason).toContain('the reply that was queued as a wake');
    expect(fs.existsSync(input())).toBe(false); // acked
    expect(readWaits(p, 's1')).toMatchObject([{ outcome: 'earlier-reply', waited_ms: 0 }]);
    // When Claude Code gets to the queued wake, its prompt hook blocks it: the session has it already.
    const woken = await hook('prompt', {
      hook_event_name: 'UserPromptSubmit',
      prompt: `Stop hook blocking error: [relay-tui delivery ${c.record.nonce}] relay-tui ...`,
    });
    expect(JSON.parse(woken.stdout)).toMatchObject({ decision: 'block' });
    expect(JSON.parse(woken.stdout).reason).toContain(c.record.nonce);
  });

  it('a typed prompt revokes a wake queued before it; the wake itself is then blocked', async () => {
    reply('late');
    const c = claimReply(p, 's1', { owner: await deadProc(), cc: me(), via: 'wake' })!;
    const typed = await hook('prompt', { hook_event_name: 'UserPromptSubmit', prompt: 'Something else now' });
    expect(typed.stdout).toBe('');
    expect(readClaim(p, 's1')).toBeUndefined();
    expect(fs.readFileSync(input(), 'utf8')).toBe('late'); // for this turn's Stop hook
    const woken = await hook('prompt', { prompt: `[relay-tui delivery ${c.record.nonce}] late` });
    expect(JSON.parse(woken.stdout).decision).toBe('block');
    expect(fs.readFileSync(input(), 'utf8')).toBe('late');
  });

  it('a woken prompt whose claim stands is acked and goes through, as before', async () => {
    reply('late');
    const c = claimReply(p, 's1', { owner: await deadProc(), cc: me(), via: 'wake' })!;
    const woken = await hook('prompt', { prompt: `[relay-tui delivery ${c.record.nonce}] late` });
    expect(woken.stdout).toBe('');
    expect(fs.existsSync(input())).toBe(false);
  });
});

describe('the waiter serves only the idle time after its own Stop', () => {
  it('stands down when the turn went on (a Stop hook handed a reply over), leaving later replies alone', async () => {
    const started = Date.now() - 50;
    const w = runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30, startedAt: started });
    await new Promise((r) => setTimeout(r, 200));
    markContinued(p, 's1');
    expect(await w).toBe(0);
    reply('the stale reply');
    expect(fs.existsSync(claimFile())).toBe(false);
    expect(fs.existsSync(waiterLockPath(p, 's1'))).toBe(false);
  });

  it('stands down on a prompt after its Stop, typed or woken', async () => {
    const w = runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30, startedAt: Date.now() - 50 });
    await new Promise((r) => setTimeout(r, 200));
    writeRecord(p, 's1', { chain_base: 0, last_prompt: 'typed', prompt_at: new Date().toISOString() });
    expect(await w).toBe(0);
  });

  it("a newer Stop's waiter takes the lock over from one whose turn is over; the old one stands down", async () => {
    const old = runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30, startedAt: Date.now() - 5000 });
    await new Promise((r) => setTimeout(r, 200));
    // Without anything in between, a second waiter leaves it to the first.
    expect(await runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30, startedAt: Date.now() })).toBe(0);
    // The turn went on and ended: the new Stop's waiter serves the session now.
    writeRecord(p, 's1', { chain_base: 0, last_prompt: 'wake', prompt_at: new Date(Date.now() - 1000).toISOString() });
    const fresh = runWaiter({ session: 's1', root: dir, cc: me(), timeoutS: 30, startedAt: Date.now() - 500 });
    expect(await old).toBe(0);
    reply('for the new turn');
    expect(await fresh).toBe(HANDED_OVER);
    expect(readClaim(p, 's1')?.via).toBe('wake');
  });

  it('a live holder is kept when nothing says its turn is over', () => {
    const first = takeHolderLock(waiterLockPath(p, 's1'), { owner: me(), cc: me(), at: 'a' }, () => false);
    expect(first).toBeDefined();
    expect(takeHolderLock(waiterLockPath(p, 's1'), { owner: me(), cc: me(), at: 'b' }, () => false)).toBeUndefined();
    const second = takeHolderLock(waiterLockPath(p, 's1'), { owner: me(), cc: me(), at: 'b' }, () => true)!;
    first!(); // the old holder's release leaves the new holder's lock alone
    expect(fs.existsSync(waiterLockPath(p, 's1'))).toBe(true);
    second();
    expect(fs.existsSync(waiterLockPath(p, 's1'))).toBe(false);
  });
});

describe("what the relay says about the session's holds and the operator's decisions", () => {
  it('reads the per-session state when the relay writes it, and the older fields when it does not', () => {
    expect(sessionView(status(s1({ state: 'paused', state_reason: 'loop', paused_message: 'same text 3 times' })), 's1')).toMatchObject({
      hold: 'paused',
      reason: 'loop',
      message: 'same text 3 times',
    });
    expect(sessionView(status(s1({ paused_reason: 'auto_turns' })), 's1')).toMatchObject({ hold: 'paused', reason: 'auto_turns' });
    const held = { turn: 4, session: 's1', text: '[NEEDS-JC] which db?', reason: 'needs_jc' as const, at: '', code: 'k3' };
    expect(sessionView(status({ ...s1(), state: 'needs_jc', held }), 's1')).toMatchObject({ hold: 'asking' });
    expect(sessionView(status({ ...s1({ state: 'flowing' }), state: 'paused', pause_reason: 'budget_day' }), 's1')).toMatchObject({
      hold: 'relay_paused',
      reason: 'budget_day',
    });
    expect(sessionView(status(s1()), 's1')).toEqual({ busy: false });
    expect(sessionView(status(s1({ queued: 1 })), 's1').busy).toBe(true);
  });

  it('a decision counts only once the relay counts them, and only when nothing of the session is on its way', () => {
    const v = (over: Parameters<typeof sessionStatus>[0]) => sessionView(status(s1(over)), 's1');
    expect(decidedNothingComing(v({}), undefined)).toBe(false);
    expect(decidedNothingComing(v({ decision_seq: 3 }), 3)).toBe(false);
    expect(decidedNothingComing(v({ decision_seq: 4 }), 3)).toBe(true);
    expect(decidedNothingComing(v({ decision_seq: 4, queued: 1 }), 3)).toBe(false);
    expect(decidedNothingComing(v({ decision_seq: 4, awaiting_ack: true }), 3)).toBe(false);
    expect(decidedNothingComing(v({ decision_seq: 4, state: 'asking' }), 3)).toBe(false);
  });

  it('says how the operator lets a held session go on', () => {
    const note = (over: Parameters<typeof sessionStatus>[0]) => heldNote(sessionView(status(s1(over)), 's1'), 's1');
    expect(note({})).toBeUndefined();
    expect(note({ state: 'paused', state_reason: 'loop' })).toMatch(/s1 is paused by the loop guard.*say '\/resume s1'.*say '@s1: …'/);
    expect(note({ paused_reason: 'auto_turns', paused_message: 'leash: 2 turns' })).toMatch(/max_auto_turns\) \(leash: 2 turns\)/);
    expect(note({ state: 'asking', state_reason: 'needs_jc' })).toMatch(/asking the operator.*\/approve s1/);
    expect(note({ state: 'awaiting_approval', state_reason: 'approval' })).toMatch(/\/approve s1.*\/drop s1/);
  });

  it("the Stop hook's 'no review' message says the session is paused, why, and how to resume it", async () => {
    relayLock = acquireLock(p.lock);
    writeStatus(status(s1({ paused_reason: 'loop', paused_message: 'the same message 3 times in a row' })));
    const r = await hook('stop', stopInput, ['--timeout', '1']);
    const msg = JSON.parse(r.stdout).systemMessage as string;
    expect(msg).toMatch(/no review within 1 s: s1 is paused by the loop guard/);
    expect(msg).toContain('the same message 3 times in a row');
    expect(msg).toContain("relay-tui say '/resume s1'");
    expect(readWaits(p, 's1')).toMatchObject([{ outcome: 'timeout' }]);
  });

  it('the Stop hook stands down when the operator decided and no reply is coming (a drop)', async () => {
    relayLock = acquireLock(p.lock);
    writeStatus(status(s1({ decision_seq: 2, state: 'asking', state_reason: 'needs_jc', queued: 0 })));
    const stop = hook('stop', stopInput, ['--timeout', '120']);
    // The hook has read decision_seq 2 once it says it waits.
    await waitForFile(path.join(p.state, 'hooks', 's1.stop-wait.json'));
    writeStatus(status(s1({ decision_seq: 3, state: 'flowing', queued: 0 })));
    const r = await stop;
    expect(JSON.parse(r.stdout).systemMessage).toMatch(/operator decided about this session and no reply to this message is coming/);
    const [w] = readWaits(p, 's1');
    expect(w.outcome).toBe('decided');
    expect(w.waited_ms).toBeLessThan(60_000);
  });
});
