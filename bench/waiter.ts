// The late-reply waiter's memory (issue 25 item 15): every interactive Claude Code session
// keeps one idle for as long as it is open, so what one costs is paid once per session.
//
//   node .bench/bench/waiter.js      measures and rewrites the "Late-reply waiter" section of BENCHMARKS.md
//
// Measured the way a user runs it: the command line `hook install` writes, run through
// `sh -c` by a node process that stands in for Claude Code (as Claude Code runs hooks),
// 8 sessions on one root; VmRSS of each waiter after it has idled through a few of its
// liveness ticks, beside a bare node that only idles (the floor no entry point goes under).
// One waiter is then handed a reply, so the figure is of waiters that work.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waiterLockPath } from '../src/commands/hook/claim.js';
import { hookCommandLine, remoteHookSpecs } from '../src/commands/hook/install.js';
import { readProc } from '../src/fs/process-table.js';
import { startSshd, sshdUnavailable } from './sshd.js';
import { rootPaths } from '../src/protocol/root.js';
import { memMiB } from './proc.js';
import { CLI, childEnv, cleanupAll, median, REPO, sleep, tempDir, trackChild, until, writeSection } from './util.js';

export interface WaiterFigures {
  sessions: number;
  /** MiB, one per waiter. */
  rss: number[];
  /** MiB: a bare `node` (ESM) that only idles, started the same way. */
  floor: number;
  handedOver: boolean;
  idleS: number;
  load: string;
  /** A session on another machine (issue 25 item 16), when an sshd is here to measure it. */
  remote?: RemoteWaiterFigures | { skipped: string };
}

export interface RemoteWaiterFigures {
  /** MiB: the hook's node on the session's machine, its ssh, and the far half (one process) on the relay's host. */
  client: number;
  ssh: number;
  far: number;
  handedOver: boolean;
}

/** The first descendant of `pid` whose command name is `comm`. */
function descendant(pid: number, comm: string): number | undefined {
  const all = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  const kids = (p: number) => all.filter((c) => readProc(c)?.ppid === p);
  const queue = kids(pid);
  while (queue.length) {
    const c = queue.shift()!;
    if (readProc(c)?.comm === comm) return c;
    queue.push(...kids(c));
  }
  return undefined;
}

/** One remote session's waiter over a real sshd on 127.0.0.1, through the restricted key. */
export async function measureRemoteWaiter(idleMs: number): Promise<RemoteWaiterFigures | { skipped: string }> {
  const missing = sshdUnavailable();
  if (missing) return { skipped: missing };
  const root = tempDir('relay-bench-rwaiter-');
  const p = rootPaths(root);
  fs.mkdirSync(path.join(p.dispatch, 'session-1'), { recursive: true });
  fs.writeFileSync(path.join(root, 'config.yaml'), 'sessions: [session-1]\n');
  const sshd = await startSshd({
    keys: ['restricted'],
    authorized: (k) => [`restrict,command="${process.execPath} ${CLI} remote-shell --root ${root}" ${k.restricted.pub}`],
  });
  try {
    const spec = remoteHookSpecs({
      bin: CLI,
      session: 'session-1',
      target: `relayhost-restricted:${root}`,
      env: { RELAY_SSH: `ssh -F ${sshd.sshConfig} -o ControlPath=none` },
    }).find((x) => x.asyncRewake)!;
    const parent = standIn(spec.command, {});
    const far = await until(
      () => {
        try {
          return (JSON.parse(fs.readFileSync(waiterLockPath(p, 'session-1'), 'utf8')) as { owner: { pid: number } }).owner.pid;
        } catch {
          return undefined;
        }
      },
      30_000,
      'the far half of the remote waiter',
    );
    const client = await until(() => descendant(parent.pid!, 'node'), 10_000, 'the remote waiter');
    const ssh = await until(() => descendant(client, 'ssh'), 10_000, "the remote waiter's ssh");
    await sleep(idleMs);
    const figures = { client: memMiB(client).rss, ssh: memMiB(ssh).rss, far: memMiB(far).rss };
    const done = new Promise<string>((resolve) => {
      let out = '';
      parent.stdout!.on('data', (d) => (out += d));
      parent.on('exit', () => resolve(out));
    });
    const tmp = path.join(p.dispatch, 'session-1', '.reply.tmp');
    fs.writeFileSync(tmp, 'a late answer\n');
    fs.renameSync(tmp, path.join(p.dispatch, 'session-1', 'input.txt'));
    return { ...figures, handedOver: (await done) === '2' };
  } finally {
    await sshd.stop();
  }
}

/** A node process standing in for Claude Code: runs `cmd` through sh with the hook's JSON on stdin, prints the exit code. */
function standIn(cmd: string, env: Record<string, string>): ChildProcess {
  const script = `const r = require('child_process').spawnSync('sh', ['-c', ${JSON.stringify(cmd)}], { input: '{"hook_event_name":"Stop"}', stdio: ['pipe', 'ignore', 'pipe'] }); process.stdout.write(String(r.status));`;
  return trackChild(spawn(process.execPath, ['-e', script], { env: childEnv(env), stdio: ['ignore', 'pipe', 'ignore'] }));
}

export async function measureWaiter(o: { sessions: number; idleMs: number }): Promise<WaiterFigures> {
  const root = tempDir('relay-bench-waiter-');
  const p = rootPaths(root);
  const ids = Array.from({ length: o.sessions }, (_, i) => `session-${i + 1}`);
  for (const s of ids) fs.mkdirSync(path.join(p.dispatch, s), { recursive: true });
  const parents = ids.map((session) => standIn(hookCommandLine('wait', { bin: CLI, session, root }), {}));
  const pids = await Promise.all(
    ids.map((s) =>
      until(
        () => {
          try {
            return (JSON.parse(fs.readFileSync(waiterLockPath(p, s), 'utf8')) as { owner: { pid: number } }).owner.pid;
          } catch {
            return undefined;
          }
        },
        30_000,
        `the waiter of ${s}`,
      ),
    ),
  );
  const idle = path.join(root, 'idle.mjs');
  const pidFile = path.join(root, 'idle.pid');
  fs.writeFileSync(
    idle,
    `import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nsetInterval(() => {}, 1e9);\n`,
  );
  standIn(`node ${idle}`, {});
  const floorPid = await until(
    () => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) || undefined : undefined),
    10_000,
    'the bare node',
  );
  await sleep(o.idleMs);
  const rss = pids.map((pid) => memMiB(pid).rss);
  const floor = memMiB(floorPid).rss;
  process.kill(floorPid, 'SIGTERM');

  // The first waiter hands a reply over (exit 2 through sh to its Claude Code).
  const done = new Promise<string>((resolve) => {
    let out = '';
    parents[0].stdout!.on('data', (d) => (out += d));
    parents[0].on('exit', () => resolve(out));
  });
  const tmp = path.join(p.dispatch, ids[0], '.reply.tmp');
  fs.writeFileSync(tmp, 'a late answer\n');
  fs.renameSync(tmp, path.join(p.dispatch, ids[0], 'input.txt'));
  const handedOver = (await done) === '2';
  // The others end when their Claude Code does (the liveness tick).
  for (const c of parents.slice(1)) c.kill('SIGKILL');
  await until(() => ids.every((s) => !fs.existsSync(waiterLockPath(p, s))) || undefined, 30_000, 'the waiters to end');
  const remote = await measureRemoteWaiter(o.idleMs);
  return { sessions: o.sessions, rss, floor, handedOver, idleS: o.idleMs / 1000, load: os.loadavg()[0].toFixed(2), remote };
}

const REMOTE_HOW =
  "Rows 12r: one session on another machine, measured the same way: the waiter command `hook install --remote` writes, a real sshd on 127.0.0.1 and the restricted key; VmRSS of the hook's node and its ssh on the session's machine and of the forced command's one process on the relay's host, after the same idle time; then a reply handed over.";

const mb = (mib: number) => (mib * 1.048576).toFixed(1);

export function renderWaiter(f: WaiterFigures, before?: string): string {
  const m = median(f.rss);
  return [
    '## Late-reply waiter (issue 25 items 15 and 16)',
    '',
    `One idle waiter per interactive session (\`node .bench/bench/waiter.js\`): the command line \`hook install\` writes, run through \`sh -c\` by a stand-in for Claude Code, ${f.sessions} sessions on one root, VmRSS after ${f.idleS} s idle (a few of its liveness ticks); load ${f.load}.`,
    '',
    ...(f.remote && !('skipped' in f.remote) ? [REMOTE_HOW, ''] : []),
    '| # | figure | value |',
    '|---|---|---|',
    `| 12 | waiter RSS, median of ${f.sessions} (max) | ${mb(m)} MB (${mb(Math.max(...f.rss))}) |`,
    `| 12 | ↳ all ${f.sessions} sessions' waiters | ${mb(f.rss.reduce((a, b) => a + b, 0))} MB |`,
    `| 12 | ↳ floor: a bare \`node\` that only idles | ${mb(f.floor)} MB (the waiter's own: ${mb(m - f.floor)} MB) |`,
    ...(before ? [`| 12 | ↳ before (the same bench) | ${before} |`] : []),
    `| 12 | ↳ a waiter handed a reply over (exit 2 through sh) | ${f.handedOver ? 'yes' : '**NO**'} |`,
    ...remoteRows(f.remote),
    '',
  ].join('\n');
}

function remoteRows(r: WaiterFigures['remote']): string[] {
  if (!r) return [];
  if ('skipped' in r) return [`| 12r | a remote session's waiter | not measured: ${r.skipped} |`];
  return [
    `| 12r | a remote session's waiter (one session over a real sshd on 127.0.0.1, the restricted key), on the session's machine: the hook's node + its ssh | ${mb(r.client)} MB + ${mb(r.ssh)} MB |`,
    `| 12r | ↳ on the relay's host: the far half, in the forced command's one process | ${mb(r.far)} MB |`,
    `| 12r | ↳ handed a reply over (far ack, then exit 2 through sh) | ${r.handedOver ? 'yes' : '**NO**'} |`,
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const stop = () => void cleanupAll().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  measureWaiter({ sessions: Number(process.env.WAITER_BENCH_SESSIONS ?? 8), idleMs: 8000 })
    .then((f) => {
      const section = renderWaiter(f, process.env.WAITER_BENCH_BEFORE);
      if (process.env.WAITER_BENCH_WRITE !== '0') writeSection(path.join(REPO, 'BENCHMARKS.md'), 'waiter-bench', section);
      process.stdout.write(section);
    })
    .catch((err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exitCode = 1;
    })
    .finally(() => cleanupAll());
}
