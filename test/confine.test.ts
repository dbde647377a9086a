import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfinementError, InputError, readFileConfined, TooLargeError, within } from '../src/fs/confine.js';
import { JsonlAppender, readJson, readJsonl, writeAtomic } from '../src/fs/atomic.js';
import { acquireLock, lockHolder } from '../src/fs/lock.js';
import { watchDir } from '../src/fs/watch.js';
import { HOOK_NOTICES_NAME, HookNoticeReader } from '../src/protocol/hook-notices.js';
import { protectDotenv, readDotenv, setDotenvValue, ensureTopics } from '../src/config/env.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/load.js';
import { Dispatcher } from '../src/engine/mailboxes/dispatch.js';
import { RootFault, SessionFault } from '../src/fs/faults.js';
import { Inbox, writeInbox } from '../src/engine/mailboxes/inbox.js';
import { Intake } from '../src/engine/mailboxes/intake.js';
import { ensureLayout, inputRejectedDir, rootPaths, type RootPaths } from '../src/protocol/root.js';
import { checkSessionId } from '../src/protocol/session-id.js';
import { takeReply } from '../src/protocol/session-io.js';

/**
 * The confinement rule on real files: symlinks, FIFOs (mkfifo), directories where files
 * belong. Every FIFO test would hang the worker if the code opened it blocking, so a
 * passing test is itself the proof that nothing blocked.
 */

let tmp: string;
let root: string;
let outside: string;
let p: RootPaths;
const SECRET = 'PRIVATE KEY -- must never be read by the relay';

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-confine-'));
  root = path.join(tmp, 'root');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'id_ed25519'), SECRET, { mode: 0o600 });
  p = rootPaths(root);
  ensureLayout(p);
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const mkfifo = (file: string) => execFileSync('mkfifo', [file]);
const secretFile = () => path.join(outside, 'id_ed25519');
const outsideListing = () => fs.readdirSync(outside).sort();

describe('confine: the one rule', () => {
  it('reads a regular file; refuses a symlink, a FIFO and a directory with a reason naming the path', () => {
    const f = path.join(root, 'plain.txt');
    fs.writeFileSync(f, 'ok');
    expect(readFileConfined(f)?.toString()).toBe('ok');
    expect(readFileConfined(path.join(root, 'missing'))).toBeUndefined();

    const link = path.join(root, 'link.txt');
    fs.symlinkSync(secretFile(), link);
    expect(() => readFileConfined(link)).toThrow(new ConfinementError(link, 'symlink', 'file'));
    expect(() => readFileConfined(link)).toThrow(`${link}: is a symlink; expected a regular file, refused`);

    const fifo = path.join(root, 'fifo');
    mkfifo(fifo);
    expect(() => readFileConfined(fifo)).toThrow(/fifo: is a FIFO; expected a regular file/);

    expect(() => readFileConfined(p.queue)).toThrow(/queue: is a directory/);
  });

  it('refuses an oversized file before reading it', () => {
    const f = path.join(root, 'big');
    fs.writeFileSync(f, Buffer.alloc(2048));
    expect(() => readFileConfined(f, { maxBytes: 1024, limitName: 'limits.x' })).toThrow(TooLargeError);
    expect(() => readFileConfined(f, { maxBytes: 1024, limitName: 'limits.x' })).toThrow(/is 2048 bytes, over limits\.x \(1024\)/);
  });

  it('within() keeps a path under the root; session ids are checked by one function', () => {
    expect(within(root, 'dispatch', 'a')).toBe(path.join(root, 'dispatch', 'a'));
    expect(() => within(root, '..', 'x')).toThrow(InputError);
    expect(() => within(root, '/etc/passwd')).toThrow(InputError);
    for (const bad of ['../x', 'bad id', '', 'a/b', '.hidden', 'x'.repeat(65)]) expect(() => checkSessionId(bad)).toThrow(InputError);
    expect(checkSessionId('session-1')).toBe('session-1');
  });

  it('ensureLayout refuses a layout directory that is a symlink out of the root', () => {
    fs.rmSync(p.queue, { recursive: true });
    fs.symlinkSync(outside, p.queue);
    expect(() => ensureLayout(p)).toThrow(/queue: is a symlink; expected a real directory/);
    expect(outsideListing()).toEqual(['id_ed25519']);
  });
});

describe('every state file', () => {
  it('writeAtomic refuses a symlink at the target or as the directory, and writes nothing outside', () => {
    fs.symlinkSync(secretFile(), p.status);
    expect(() => writeAtomic(p.status, '{}')).toThrow(/status\.json: is a symlink/);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe(SECRET);
    const linkedDir = path.join(root, 'dispatch', 'linked');
    fs.symlinkSync(outside, linkedDir);
    expect(() => writeAtomic(path.join(linkedDir, 'input.txt'), 'x')).toThrow(/linked: is a symlink; expected a real directory/);
    expect(outsideListing()).toEqual(['id_ed25519']);
  });

  it('a JSONL state file as a FIFO or symlink is refused, never opened blocking or followed', () => {
    mkfifo(p.conversation);
    expect(() => readJsonl(p.conversation)).toThrow(/conversation\.jsonl: is a FIFO/);
    expect(() => new JsonlAppender(p.conversation)).toThrow(/is a FIFO/);
    fs.symlinkSync(secretFile(), p.ledger);
    expect(() => readJsonl(p.ledger)).toThrow(/ledger\.jsonl: is a symlink/);
    expect(() => new JsonlAppender(p.ledger)).toThrow(/is a symlink/);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe(SECRET);
    mkfifo(p.control);
    expect(() => readJson(p.control)).toThrow(/control\.json: is a FIFO/);
  });

  it('hook notices and the lock as FIFOs neither block nor crash; a planted lock is taken over, not followed', () => {
    const notices = path.join(p.state, HOOK_NOTICES_NAME);
    mkfifo(notices);
    expect(new HookNoticeReader(notices).readNew()).toEqual([]);
    fs.symlinkSync(secretFile(), p.lock);
    expect(lockHolder(p.lock)).toBeUndefined();
    const lock = acquireLock(p.lock);
    expect(fs.lstatSync(p.lock).isFile()).toBe(true);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe(SECRET);
    lock.release();
  });
});

describe('inbox and jc_input.txt', () => {
  const rig = (maxBytes = 262_144) => {
    const refused: Array<{ file: string; reason: string }> = [];
    const inbox = new Inbox(p.operatorInbox, p.jcInput, {
      maxBytes: () => maxBytes,
      onRefused: (file, reason) => refused.push({ file, reason }),
    });
    return { inbox, refused };
  };
  const asideNames = () => fs.readdirSync(inputRejectedDir(p)).sort();

  it('jc_input.txt as a symlink is set aside unread: the target never becomes input', () => {
    fs.symlinkSync(secretFile(), p.jcInput);
    const { inbox, refused } = rig();
    expect(inbox.claimJcInput()).toBeUndefined();
    expect(inbox.list()).toEqual([]);
    expect(refused).toHaveLength(1);
    expect(refused[0].reason).toMatch(/is a symlink; operator input must be a regular file; not read \(moved to .*state\/rejected-input\//);
    expect(fs.existsSync(p.jcInput)).toBe(false);
    const names = asideNames();
    expect(names).toHaveLength(2);
    const reason = fs.readFileSync(
      path.join(
        inputRejectedDir(p),
        names.find((n) => n.endsWith('.reason'))!,
      ),
      'utf8',
    );
    expect(reason).toContain(p.jcInput);
    expect(reason).not.toContain(SECRET);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe(SECRET);
  });

  it('jc_input.txt as a FIFO is set aside without being opened (no block)', () => {
    mkfifo(p.jcInput);
    const { inbox, refused } = rig();
    expect(inbox.claimJcInput()).toBeUndefined();
    expect(refused[0].reason).toMatch(/is a FIFO/);
    expect(fs.existsSync(p.jcInput)).toBe(false);
  });

  it('an oversized operator input (jc_input.txt or an inbox file) is set aside, never listed', () => {
    fs.writeFileSync(p.jcInput, 'x'.repeat(5000));
    const { inbox, refused } = rig(4096);
    expect(inbox.claimJcInput()).toBeUndefined();
    expect(refused[0].reason).toMatch(/is 5000 bytes, over limits\.max_operator_input_bytes \(4096\); not sent/);
    writeInbox(p.operatorInbox, 'y'.repeat(5000), 'cli');
    writeInbox(p.operatorInbox, '/pause', 'cli');
    const items = inbox.list();
    expect(items.map((i) => i.text)).toEqual(['/pause']);
    expect(refused).toHaveLength(2);
    expect(asideNames().filter((n) => !n.endsWith('.reason'))).toHaveLength(2);
  });

  it('inbox entries that are links, FIFOs or directories are set aside; good ones still come through', () => {
    fs.symlinkSync(secretFile(), path.join(p.operatorInbox, '00000000000000001-1-cli.txt'));
    mkfifo(path.join(p.operatorInbox, '00000000000000002-1-cli.txt'));
    fs.mkdirSync(path.join(p.operatorInbox, '00000000000000003-1-cli.txt'));
    writeInbox(p.operatorInbox, 'hello', 'cli');
    const { inbox, refused } = rig();
    expect(inbox.list().map((i) => i.text)).toEqual(['hello']);
    expect(refused.map((r) => r.reason.split(';')[0])).toEqual(['is a symlink', 'is a FIFO', 'is a directory']);
    expect(inbox.list().map((i) => i.text)).toEqual(['hello']);
  });
});

describe('dispatch/<session>/', () => {
  const rig = () => {
    const faults: Array<SessionFault | RootFault> = [];
    const written: string[] = [];
    const d = new Dispatcher({
      outboxDir: p.outbox,
      dispatchDir: p.dispatch,
      watch: watchDir,
      now: Date.now,
      onWritten: (s) => written.push(s),
      onAcked: () => {},
      onWaiting: () => {},
      onChange: () => {},
      onFault: (f) => faults.push(f),
    });
    return { d, faults, written };
  };
  let opened: Dispatcher[] = [];
  afterEach(() => {
    for (const d of opened) d.close();
    opened = [];
  });

  it("a symlink out of the root is that session's fault: nothing written outside, the reply waits, others flow", () => {
    fs.symlinkSync(outside, path.join(p.dispatch, 'session-2'));
    const { d, faults, written } = rig();
    opened.push(d);
    d.ensure('session-2');
    expect(faults).toHaveLength(1);
    expect(faults[0]).toBeInstanceOf(SessionFault);
    expect((faults[0] as SessionFault).session).toBe('session-2');
    expect(faults[0].message).toMatch(/dispatch\/session-2: is a symlink; expected a real directory, refused/);

    d.enqueue('session-2', 'for two', 't1');
    d.enqueue('session-1', 'for one', 't2');
    expect(() => d.pump('session-2')).toThrow(SessionFault);
    d.pumpAll();
    expect(written).toEqual(['session-1']);
    expect(fs.readFileSync(path.join(p.dispatch, 'session-1', 'input.txt'), 'utf8')).toBe('for one');
    expect(outsideListing()).toEqual(['id_ed25519']);
    expect(d.pending('session-2')).toBe(1);

    // Fixed by hand: the link replaced by a real directory; the waiting reply goes out.
    fs.unlinkSync(path.join(p.dispatch, 'session-2'));
    expect(d.pump('session-2')).toBe(true);
    expect(d.fault('session-2')).toBeNull();
    expect(fs.readFileSync(path.join(p.dispatch, 'session-2', 'input.txt'), 'utf8')).toBe('for two');
  });

  it('input.txt as a directory or a symlink is refused with a reason instead of waiting forever', () => {
    const { d } = rig();
    opened.push(d);
    fs.mkdirSync(path.join(p.dispatch, 'session-1', 'input.txt'), { recursive: true });
    d.enqueue('session-1', 'reply', 't1');
    expect(() => d.pump('session-1')).toThrow(/session-1\/input\.txt: is a directory; expected a regular file/);
    fs.rmdirSync(path.join(p.dispatch, 'session-1', 'input.txt'));
    fs.symlinkSync(secretFile(), path.join(p.dispatch, 'session-1', 'input.txt'));
    expect(() => d.pump('session-1')).toThrow(/input\.txt: is a symlink/);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe(SECRET);
    expect(d.pending('session-1')).toBe(1);
  });

  it('a bad input.txt found by the ack watcher is reported as a SessionFault, never thrown from the watcher', async () => {
    const { d, faults } = rig();
    opened.push(d);
    d.enqueue('session-1', 'one', 't1');
    d.enqueue('session-1', 'two', 't2');
    expect(d.pump('session-1')).toBe(true);
    // The session swaps its input.txt for a link, atomically (so no ack can slip in between).
    const input = path.join(p.dispatch, 'session-1', 'input.txt');
    fs.symlinkSync(secretFile(), `${input}.new`);
    fs.renameSync(`${input}.new`, input);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no fault reported: ${JSON.stringify(faults)}`)), 10_000);
      const iv = setInterval(() => {
        if (faults.length) {
          clearTimeout(t);
          clearInterval(iv);
          resolve();
        }
      }, 20);
    });
    expect(faults[0]).toBeInstanceOf(SessionFault);
    expect(faults[0].message).toMatch(/session-1\/input\.txt: is a symlink/);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe(SECRET);
    expect(d.fault('session-1')?.session).toBe('session-1');
    expect(d.pending('session-1')).toBe(1);
  });

  it('the session side (takeReply) neither reads nor deletes through a link', () => {
    fs.mkdirSync(path.join(p.dispatch, 'session-1'));
    fs.symlinkSync(secretFile(), path.join(p.dispatch, 'session-1', 'input.txt'));
    expect(() => takeReply(p, 'session-1')).toThrow(/input\.txt: is a symlink/);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe(SECRET);
    expect(() => takeReply(p, '../x')).toThrow(InputError);
  });
});

describe('queue entries that are not regular files', () => {
  const rig = () => {
    const rejected: Array<{ file: string; reason: string }> = [];
    const intake = new Intake({
      queueDir: p.queue,
      rejectedDir: p.rejected,
      maxBytes: () => 262_144,
      isRegistered: () => true,
      strictSessions: () => false,
      now: () => Date.now() + 60_000,
      onRejected: (file, reason) => rejected.push({ file, reason }),
      onQueued: () => {},
      scheduleRetry: () => {},
    });
    return { intake, rejected };
  };

  it('a FIFO is rejected to .rejected/ with a reason, without being opened', () => {
    mkfifo(path.join(p.queue, 'f.json'));
    const { intake, rejected } = rig();
    intake.rescan();
    expect(rejected).toEqual([{ file: 'f.json', reason: 'is a FIFO; envelopes must be regular files' }]);
    expect(intake.depth).toBe(0);
    expect(intake.rejectedCount).toBe(1);
    expect(fs.lstatSync(path.join(p.rejected, 'f.json')).isFIFO()).toBe(true);
  });

  it('one that cannot be moved aside is counted and reported once, not queued, and moved once it can be', () => {
    fs.mkdirSync(path.join(p.queue, 'd.json'));
    fs.rmSync(p.rejected, { recursive: true });
    fs.symlinkSync(outside, p.rejected);
    const { intake, rejected } = rig();
    intake.rescan();
    intake.rescan();
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toMatch(/^is a directory; .* \(left in queue\/: cannot move it to \.rejected\/: .*\.rejected: is a symlink/);
    expect(intake.rejectedCount).toBe(1);
    expect(intake.depth).toBe(0);
    expect(outsideListing()).toEqual(['id_ed25519']);
    fs.unlinkSync(p.rejected);
    fs.mkdirSync(p.rejected);
    intake.rescan();
    expect(intake.rejectedCount).toBe(1);
    expect(fs.statSync(path.join(p.rejected, 'd.json')).isDirectory()).toBe(true);
  });
});

describe('.env and config.yaml', () => {
  it(".env as a symlink is refused: not read, not chmod'ed, not replaced by a copy", () => {
    fs.chmodSync(secretFile(), 0o644);
    fs.symlinkSync(secretFile(), p.env);
    expect(() => readDotenv(p.env)).toThrow(ConfigError);
    expect(() => readDotenv(p.env)).toThrow(/\.env: cannot use it: .*\.env: is a symlink/);
    expect(protectDotenv(p.env)).toMatch(/is a symlink/);
    expect(() => setDotenvValue(p.env, 'NTFY_TOPIC', 't')).toThrow(/is a symlink/);
    expect(() => ensureTopics(p.env, {})).toThrow(ConfigError);
    expect(fs.lstatSync(p.env).isSymbolicLink()).toBe(true);
    expect(fs.statSync(secretFile()).mode & 0o777).toBe(0o644);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe(SECRET);
  });

  it('a regular .env is still made 0600', () => {
    fs.writeFileSync(p.env, 'NTFY_TOPIC=x\n', { mode: 0o644 });
    fs.chmodSync(p.env, 0o644);
    expect(protectDotenv(p.env)).toBeUndefined();
    expect(fs.statSync(p.env).mode & 0o777).toBe(0o600);
  });

  it('config.yaml as a symlink or a FIFO is a config error naming the file (never seeded over)', () => {
    fs.symlinkSync(secretFile(), p.config);
    expect(() => loadConfig(p.config)).toThrow(/config\.yaml: cannot use it: .*config\.yaml: is a symlink/);
    fs.unlinkSync(p.config);
    mkfifo(p.config);
    expect(() => loadConfig(p.config)).toThrow(/is a FIFO/);
  });

  it('a YAML alias bomb is refused at the line of the alias that trips the cap', () => {
    const rows = ['model: x', 'a: &a ["l","l","l","l","l","l","l","l","l"]'];
    for (const [n, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
    ])
      rows.push(`${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]`);
    fs.writeFileSync(p.config, rows.join('\n') + '\n');
    let err: unknown;
    try {
      loadConfig(p.config);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toMatch(/^line [3-6], column \d+$/);
    expect((err as ConfigError).reason).toMatch(/aliases expand beyond 100 nodes \(\*[a-d]; a YAML alias bomb\?\)/);
  });

  it('other parse failures name the line too', () => {
    fs.writeFileSync(p.config, 'model: x\nsessions: [unclosed\n');
    expect(() => loadConfig(p.config)).toThrow(/config\.yaml: line \d+, column \d+: not valid YAML/);
  });
});
