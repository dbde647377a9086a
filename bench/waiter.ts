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
import { hookCommandLine } from '../src/commands/hook/install.js';
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
  return { sessions: o.sessions, rss, floor, handedOver, idleS: o.idleMs / 1000, load: os.loadavg()[0].toFixed(2) };
}

const mb = (mib: number) => (mib * 1.048576).toFixed(1);

export function renderWaiter(f: WaiterFigures, before?: string): string {
  const m = median(f.rss);
  return [
    '## Late-reply waiter (issue 25 item 15)',
    '',
    `One idle waiter per interactive session (\`node .bench/bench/waiter.js\`): the command line \`hook install\` writes, run through \`sh -c\` by a stand-in for Claude Code, ${f.sessions} sessions on one root, VmRSS after ${f.idleS} s idle (a few of its liveness ticks); load ${f.load}.`,
    '',
    '| # | figure | value |',
    '|---|---|---|',
    `| 12 | waiter RSS, median of ${f.sessions} (max) | ${mb(m)} MB (${mb(Math.max(...f.rss))}) |`,
    `| 12 | ↳ all ${f.sessions} sessions' waiters | ${mb(f.rss.reduce((a, b) => a + b, 0))} MB |`,
    `| 12 | ↳ floor: a bare \`node\` that only idles | ${mb(f.floor)} MB (the waiter's own: ${mb(m - f.floor)} MB) |`,
    ...(before ? [`| 12 | ↳ before (the same bench) | ${before} |`] : []),
    `| 12 | ↳ a waiter handed a reply over (exit 2 through sh) | ${f.handedOver ? 'yes' : '**NO**'} |`,
    '',
  ].join('\n');
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
