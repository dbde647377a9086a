import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, isAlive, lockHolder, LockHeldError, readLock } from '../src/fs/lock.js';

let dir: string;
let file: string;
let deadPid: number;
/** A live node process that is not us: another would-be relay. */
let livePid: number;
let live: ReturnType<typeof spawn>;

beforeAll(async () => {
  live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' });
  livePid = live.pid!;
  // A pid that certainly belonged to a node process and is now dead.
  const child = spawn(process.execPath, ['-e', '']);
  deadPid = child.pid!;
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
});

afterAll(async () => {
  const gone = new Promise<void>((resolve) => live.on('exit', () => resolve()));
  process.kill(livePid, 'SIGTERM');
  await gone;
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-lock-'));
  file = path.join(dir, 'relay.lock');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeLock(pid: number, at = '2026-01-01T00:00:00.000Z'): void {
  fs.writeFileSync(file, JSON.stringify({ pid, started_at: at }) + '\n');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('isAlive', () => {
  it('is true for this process and false for a dead one or a nonsense pid', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(deadPid)).toBe(false);
    expect(isAlive(0)).toBe(false);
    expect(isAlive(-1)).toBe(false);
    expect(isAlive(1.5)).toBe(false);
  });
});

describe('acquireLock', () => {
  it('creates a 0600 pid file naming us, and release removes it', () => {
    const lock = acquireLock(file);
    const info = readLock(file);
    expect(info?.pid).toBe(process.pid);
    expect(Number.isNaN(Date.parse(info!.started_at))).toBe(false);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(lockHolder(file)?.pid).toBe(process.pid);
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
    expect(lockHolder(file)).toBeUndefined();
    // No temp or takeover files left behind.
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a second acquire while the holder lives throws LockHeldError naming its pid', () => {
    const lock = acquireLock(file);
    const other = livePid;
    expect(isAlive(other)).toBe(true);
    const err = thrown(() => acquireLock(file, other));
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).holder.pid).toBe(process.pid);
    expect((err as LockHeldError).message).toContain(`pid ${process.pid}`);
    expect((err as LockHeldError).message).toContain(file);
    // The holder's lock is untouched.
    expect(readLock(file)?.pid).toBe(process.pid);
    lock.release();
    // Once released, the other can take it.
    const second = acquireLock(file, other);
    expect(readLock(file)?.pid).toBe(other);
    second.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('takes over a stale lock whose pid is dead', () => {
    writeLock(deadPid);
    expect(lockHolder(file)).toBeUndefined();
    const lock = acquireLock(file);
    expect(readLock(file)?.pid).toBe(process.pid);
    expect(fs.existsSync(`${file}.takeover`)).toBe(false);
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('takes over an unreadable (hand-made) lock file', () => {
    fs.writeFileSync(file, 'garbage');
    const lock = acquireLock(file);
    expect(readLock(file)?.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over when a dead process left its takeover mutex behind', () => {
    writeLock(deadPid);
    fs.writeFileSync(`${file}.takeover`, JSON.stringify({ pid: deadPid, started_at: 'x' }));
    const lock = acquireLock(file);
    expect(readLock(file)?.pid).toBe(process.pid);
    expect(fs.existsSync(`${file}.takeover`)).toBe(false);
    lock.release();
  });

  it('refuses while a live process holds the takeover mutex', () => {
    writeLock(deadPid);
    fs.writeFileSync(`${file}.takeover`, JSON.stringify({ pid: livePid, started_at: 'x' }));
    const err = thrown(() => acquireLock(file));
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).holder.pid).toBe(livePid);
    expect(readLock(file)?.pid).toBe(deadPid);
  });

  it('release only removes our own lock', () => {
    const lock = acquireLock(file);
    // Someone else took the lock over (e.g. we were presumed dead).
    writeLock(livePid);
    lock.release();
    expect(fs.existsSync(file)).toBe(true);
    expect(readLock(file)?.pid).toBe(livePid);
  });

  it('release is harmless when the file is already gone, and twice', () => {
    const lock = acquireLock(file);
    fs.rmSync(file);
    expect(() => lock.release()).not.toThrow();
    expect(() => lock.release()).not.toThrow();
  });
});
