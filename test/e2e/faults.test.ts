import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/engine/mailboxes/dispatch.js';
import { watchDir } from '../../src/fs/watch.js';
import { RootFault } from '../../src/fs/faults.js';
import { Inbox } from '../../src/engine/mailboxes/inbox.js';
import { ensureLayout, inputRejectedDir, rootPaths } from '../../src/protocol/root.js';
import { API_KEY, CLI, createHarness, type Harness } from '../helpers/harness.js';

/**
 * Confinement and fault isolation with the real CLI (dist/) and real files: FIFOs via
 * mkfifo, links out of the root, a directory and an unreadable file in queue/, mode 000
 * with root's override dropped (CI runs as root), and a small tmpfs for a full disk.
 * After each, every file of the root and everything the process printed is searched
 * for the API key.
 */

const SECRET = 'BEGIN OPENSSH PRIVATE KEY -- outside the root';
let h: Harness | undefined;
let outside: string;
let child: ResultPromise | undefined;
let out = '';

beforeAll(() => {
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-outside-'));
});
afterAll(() => {
  fs.rmSync(outside, { recursive: true, force: true });
});
afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await child.catch(() => {});
  }
  child = undefined;
  if (h) {
    // Mode 000 directories would stop the cleanup's rm.
    for (const f of walk(h.root)) if (fs.lstatSync(f).isDirectory()) fs.chmodSync(f, 0o755);
    await h.close();
  }
  h = undefined;
  out = '';
});

const mkfifo = (file: string) => execFileSync('mkfifo', [file]);

/** Every path under dir, without following links. */
function walk(dir: string): string[] {
  const outp: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return outp;
  }
  for (const n of names) {
    const f = path.join(dir, n);
    outp.push(f);
    const st = fs.lstatSync(f);
    if (st.isDirectory()) outp.push(...walk(f));
  }
  return outp;
}

/** The API key must be in no file of the root (regular files only: FIFOs are not opened), nor in any output. */
function expectNoKeyAnywhere(root: string, output: string): void {
  let files = 0;
  for (const f of walk(root)) {
    const st = fs.lstatSync(f);
    if (!st.isFile()) continue;
    files++;
    if (path.basename(f) === '.env') continue; // where the operator keeps it, if anywhere
    expect(fs.readFileSync(f, 'utf8').includes(API_KEY), `API key found in ${f}`).toBe(false);
  }
  expect(files).toBeGreaterThan(0);
  expect(output.includes(API_KEY)).toBe(false);
}

/**
 * Spawns `relay-tui --no-ui` with root's file-permission override dropped, so a mode
 * 000 file means what it says (CI runs as root). Resolves once status.json names it.
 */
async function startRelayUnprivileged(hh: Harness): Promise<void> {
  if (!fs.existsSync(hh.paths.config)) hh.writeConfig({});
  // Only root needs its override dropped (setpriv is Linux's); any other user runs the CLI as it is (macOS).
  const argv = ['node', CLI, '--no-ui', '--root', hh.root];
  const [cmd, ...args] = process.getuid?.() === 0 ? ['setpriv', '--inh-caps=-all', '--bounding-set=-all', ...argv] : argv;
  child = execa(cmd, args, {
    env: hh.env,
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
  });
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const me = child;
  const exited = me.then(() => 'exited' as const);
  const ready = hh.waitStatus((s) => s.pid === me.pid, 20_000).then(() => 'ready' as const);
  if ((await Promise.race([ready, exited])) === 'exited') throw new Error(`relay exited early:\n${out}`);
}

async function stopRelay(): Promise<number> {
  const c = child!;
  c.kill('SIGTERM');
  const r = await c;
  child = undefined;
  return r.exitCode ?? -1;
}

describe('session-side commands at the edge', () => {
  it('recv --session ../x and send --session "bad id" exit 2 with one line, touching nothing', async () => {
    h = await createHarness();
    h.writeConfig({});
    const victim = path.join(h.root, 'x', 'input.txt');
    fs.mkdirSync(path.dirname(victim));
    fs.writeFileSync(victim, 'not yours');
    const recv = await h.cli(['recv', '--root', h.root, '--session', '../x']);
    expect(recv.exitCode).toBe(2);
    expect(recv.stderr.trim().split('\n')).toHaveLength(1);
    expect(recv.stderr).toMatch(/not a valid session id: "\.\.\/x"/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('not yours');

    const send = await h.cli(['send', '--root', h.root, '--session', 'bad id', 'hello']);
    expect(send.exitCode).toBe(2);
    expect(send.stderr.trim().split('\n')).toHaveLength(1);
    expect(send.stderr).not.toMatch(/\n\s+at /);
    expect(fs.readdirSync(h.paths.queue).filter((n) => !n.startsWith('.'))).toEqual([]);

    // input.txt as a link: refused with the reason, the target neither printed nor deleted.
    fs.writeFileSync(path.join(outside, 'secret'), SECRET);
    fs.mkdirSync(path.join(h.paths.dispatch, 'session-1'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'secret'), h.input('session-1'));
    const linked = await h.cli(['recv', '--root', h.root, '--session', 'session-1', '--wait', '--timeout', '5']);
    expect(linked.exitCode).toBe(1);
    expect(linked.stderr).toMatch(/session-1\/input\.txt: is a symlink; expected a regular file, refused/);
    expect(linked.stdout).not.toContain(SECRET);
    expect(fs.readFileSync(path.join(outside, 'secret'), 'utf8')).toBe(SECRET);

    // An operator input over limits.max_operator_input_bytes never reaches the inbox.
    const big = Array.from({ length: 3 }, () => 'w'.repeat(100_000));
    const say = await h.cli(['say', '--root', h.root, ...big]);
    expect(say.exitCode).toBe(2);
    expect(say.stderr).toMatch(/over limits\.max_operator_input_bytes \(262144\); not sent/);
    expect(fs.readdirSync(h.paths.operatorInbox).filter((n) => n.endsWith('.txt'))).toEqual([]);
    expectNoKeyAnywhere(h.root, recv.stderr + send.stderr + linked.stderr + say.stderr);
  });

  it("a linked .env is refused at start (exit 4), not chmod'ed and not replaced by a copy", async () => {
    h = await createHarness();
    h.writeConfig({});
    const target = path.join(outside, 'dotenv');
    fs.writeFileSync(target, 'NTFY_TOPIC=outside\n', { mode: 0o644 });
    fs.chmodSync(target, 0o644);
    fs.symlinkSync(target, h.paths.env);
    const r = await execa('node', [CLI, '--no-ui', '--root', h.root], { env: h.env, reject: false, stdin: 'ignore' });
    expect(r.exitCode).toBe(4);
    expect(String(r.stderr)).toMatch(/\.env: cannot use it: .*\.env: is a symlink; expected a regular file, refused/);
    expect(fs.lstatSync(h.paths.env).isSymbolicLink()).toBe(true);
    expect(fs.statSync(target).mode & 0o777).toBe(0o644);
    expect(fs.readFileSync(target, 'utf8')).toBe('NTFY_TOPIC=outside\n');

    // logs/relay.log as a link: refused with the reason, nothing appended outside.
    fs.unlinkSync(h.paths.env);
    const logTarget = path.join(outside, 'relay.log');
    fs.mkdirSync(h.paths.logs, { recursive: true });
    fs.symlinkSync(logTarget, h.paths.log);
    const r2 = await execa('node', [CLI, '--no-ui', '--root', h.root], { env: h.env, reject: false, stdin: 'ignore' });
    expect(r2.exitCode).toBe(1);
    expect(String(r2.stderr).trim()).toMatch(/^relay-tui: .*logs\/relay\.log: is a symlink; expected a regular file, refused$/);
    expect(fs.existsSync(logTarget)).toBe(false);
    expectNoKeyAnywhere(h.root, String(r.stdout) + String(r.stderr) + String(r2.stdout) + String(r2.stderr));
  });
});

describe('the relay, with hostile files in its root', () => {
  it('FIFOs, links, directories and unreadable files are refused; the loop goes on; SIGTERM works; restart does not hang', async () => {
    h = await createHarness();
    const secret = path.join(outside, 'id_ed25519');
    fs.writeFileSync(secret, SECRET);
    await startRelayUnprivileged(h);

    // A FIFO as jc_input.txt: never opened blocking, so the next envelope still flows.
    mkfifo(h.paths.jcInput);
    await h.waitGone(h.paths.jcInput);
    h.enqueue('session-1', 'first envelope after the FIFO');
    expect(await h.waitFile(h.input('session-1'))).toBeTruthy();
    fs.unlinkSync(h.input('session-1'));

    // A link as jc_input.txt: set aside unread; the target is never sent.
    fs.symlinkSync(secret, h.paths.jcInput);
    await h.waitGone(h.paths.jcInput);

    // 50 MB of operator input: set aside, never sent.
    const requestsBefore = h.api.requests.length;
    const fd = fs.openSync(path.join(h.paths.state, '.big.tmp'), 'w');
    fs.ftruncateSync(fd, 50 * 1024 * 1024);
    fs.closeSync(fd);
    fs.renameSync(path.join(h.paths.state, '.big.tmp'), h.paths.jcInput);
    await h.waitGone(h.paths.jcInput);

    const aside = fs.readdirSync(inputRejectedDir(h.paths)).filter((n) => n.endsWith('.reason'));
    const reasons = aside.map((n) => fs.readFileSync(path.join(inputRejectedDir(h!.paths), n), 'utf8')).join('');
    expect(reasons).toMatch(/jc_input\.txt is a FIFO; operator input must be a regular file; not read/);
    expect(reasons).toMatch(/jc_input\.txt is a symlink; operator input must be a regular file; not read/);
    expect(reasons).toMatch(/jc_input\.txt is 52428800 bytes, over limits\.max_operator_input_bytes \(262144\); not sent/);

    // A directory, a FIFO and an unreadable file in queue/: each rejected with a reason, none queued.
    fs.mkdirSync(path.join(h.paths.queue, 'd.json'));
    mkfifo(path.join(h.paths.queue, 'f.json'));
    fs.writeFileSync(path.join(h.paths.queue, 'u.json'), JSON.stringify({ session_id: 'session-1', content: 'hidden' }), { mode: 0o000 });
    const old = (Date.now() - 10_000) / 1000;
    fs.utimesSync(path.join(h.paths.queue, 'u.json'), old, old);
    const s = await h.waitStatus((st) => st.rejected_count >= 3);
    expect(s.queue_depth).toBe(0);
    expect(fs.readFileSync(path.join(h.paths.rejected, 'd.json.reason'), 'utf8')).toMatch(
      /d\.json is a directory; envelopes must be regular files/,
    );
    expect(fs.readFileSync(path.join(h.paths.rejected, 'f.json.reason'), 'utf8')).toMatch(/f\.json is a FIFO/);
    expect(fs.readFileSync(path.join(h.paths.rejected, 'u.json.reason'), 'utf8')).toMatch(/u\.json is unreadable \(EACCES\)/);

    // The loop is still alive and answering.
    h.enqueue('session-1', 'still there?');
    expect(await h.waitFile(h.input('session-1'))).toBeTruthy();
    for (const r of h.api.requests) {
      const body = JSON.stringify(r.body);
      expect(body.includes(SECRET)).toBe(false);
      expect(body.length).toBeLessThan(1024 * 1024);
    }
    expect(h.api.requests.length).toBe(requestsBefore + 1);

    expect(await stopRelay()).toBe(0);

    // A new FIFO planted while it was down: the restart neither hangs nor follows it.
    mkfifo(h.paths.jcInput);
    await startRelayUnprivileged(h);
    await h.waitGone(h.paths.jcInput);
    expect(await stopRelay()).toBe(0);
    expectNoKeyAnywhere(h.root, out);
  }, 90_000);

  it('dispatch/<session> as a link out of the root, another mode 000: each paused naming it, nothing written outside; each fix ends its pause by itself', async () => {
    h = await createHarness();
    const away = fs.mkdtempSync(path.join(outside, 'dispatch-'));
    fs.mkdirSync(h.paths.dispatch, { recursive: true });
    fs.symlinkSync(away, path.join(h.paths.dispatch, 'session-2'));
    // Mode 000 on another session's directory: its fault alone, never an uncaught EACCES.
    fs.mkdirSync(path.join(h.paths.dispatch, 'session-3'), { mode: 0o000 });
    fs.chmodSync(path.join(h.paths.dispatch, 'session-3'), 0o000);
    h.writeConfig({ sessions: [{ id: 'session-1' }, { id: 'session-2' }, { id: 'session-3' }] });
    await startRelayUnprivileged(h);
    h.enqueue('session-2', 'reply to me through the link');
    // Found at start: that session is paused naming the link (no money spent on a reply it cannot take), the others flow.
    const st = await h.waitStatus(
      (s) => s.sessions?.['session-2']?.paused_reason === 'fault' && s.sessions?.['session-3']?.paused_reason === 'fault',
    );
    expect(st.sessions['session-2'].paused_message).toBe('dispatch/session-2: is a symlink; expected a real directory, refused');
    expect(st.sessions['session-3'].paused_message).toMatch(/^dispatch\/session-3: is unreadable/);
    expect(st.state).toBe('running');
    h.enqueue('session-1', 'and me directly');
    await h.waitStatus(() => fs.existsSync(h!.input('session-1')));
    // Nothing lost: its envelope waits in queue/ for /resume session-2.
    expect(fs.readdirSync(h.paths.queue).filter((n) => n.endsWith('.json'))).toHaveLength(1);
    expect(fs.readdirSync(away)).toEqual([]);
    expect(child!.exitCode).toBeNull();
    expect(fs.lstatSync(path.join(h.paths.dispatch, 'session-2')).isSymbolicLink()).toBe(true);
    // Each session fixes its own fault, nobody types /resume: the relay sees the fix and the waiting envelopes go.
    h.enqueue('session-3', 'reply to me once I can be read');
    fs.unlinkSync(path.join(h.paths.dispatch, 'session-2'));
    fs.mkdirSync(path.join(h.paths.dispatch, 'session-2'));
    fs.chmodSync(path.join(h.paths.dispatch, 'session-3'), 0o755);
    expect(await h.waitFile(h.input('session-2'))).toMatch(/session-2/);
    expect(await h.waitFile(h.input('session-3'))).toMatch(/session-3/);
    const healed = await h.waitStatus((s) => s.queue_depth === 0);
    expect(healed.sessions['session-2'].paused_reason).toBeNull();
    expect(healed.sessions['session-3'].paused_reason).toBeNull();
    expect(await stopRelay()).toBe(0);
    expect(fs.readdirSync(away)).toEqual([]);
    expectNoKeyAnywhere(h.root, out);
  }, 60_000);
});

describe('a full disk (a 1 MiB tmpfs as the root)', () => {
  let mnt: string | undefined;
  afterEach(() => {
    if (mnt) {
      execFileSync('umount', [mnt]);
      fs.rmdirSync(mnt);
    }
    mnt = undefined;
  });

  it('writes under state/ fail as RootFault "disk full: …", the session side exits 1 with one line, nothing is lost', async () => {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', mnt]);
    const p = rootPaths(mnt);
    ensureLayout(p);
    const d = new Dispatcher({
      outboxDir: p.outbox,
      dispatchDir: p.dispatch,
      watch: watchDir,
      now: Date.now,
      onWritten: () => {},
      onAcked: () => {},
      onWaiting: () => {},
      onChange: () => {},
    });
    try {
      d.enqueue('session-1', 'made durable before the disk filled', 't1');
      // Fill the disk to the last block.
      const fill = fs.openSync(path.join(mnt, 'filler'), 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (let i = 0; i < 64; i++) fs.writeSync(fill, chunk);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        fs.closeSync(fill);
      }
      let thrown: unknown;
      try {
        d.enqueue('session-1', 'x'.repeat(8192), 't2');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(RootFault);
      expect((thrown as RootFault).message).toMatch(/^disk full: .*state\/outbox\/session-1\/.*\(ENOSPC\)$/);
      // The reply made durable before is still there and still goes out (a rename needs no space).
      expect(d.pump('session-1')).toBe(true);
      expect(fs.readFileSync(path.join(p.dispatch, 'session-1', 'input.txt'), 'utf8')).toBe('made durable before the disk filled');

      const inbox = new Inbox(p.operatorInbox, p.jcInput);
      expect(() => inbox.add('y'.repeat(8192), 'tui')).toThrow(/^disk full: .*\(ENOSPC\)$/);

      const send = await execa('node', [CLI, 'send', '--root', mnt, '--session', 'session-1', 'z'.repeat(8192)], {
        reject: false,
        stdin: 'ignore',
        env: { ANTHROPIC_API_KEY: API_KEY },
      });
      expect(send.exitCode).toBe(1);
      expect(String(send.stderr).trim()).toMatch(/^relay-tui: disk full: .*queue\/.*\(ENOSPC\)$/);
      expect(String(send.stderr)).not.toMatch(/\n\s+at /);
    } finally {
      d.close();
    }
  });
});
