// Idle CPU of the TUI the way a user leaves it (issue 25 item 6): in a tmux pane of
// tmux's default size (80x24) with a client attached, after some turns, one session's
// question held for the operator and that session's next envelope waiting behind it,
// every other session's reply unread. bench/idle.ts measures a fresh, empty relay in a
// detached pane; this is the screen a user walks away from.
//
// `node .bench/bench/idle-user.js [SECONDS] [COLUMNS] [ROWS]` runs it alone and prints the figure.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { startFakes, TAG_RE } from './fakes.js';
import { cpuSeconds, memMiB } from './proc.js';
import { HEADER_RE, waitScreen } from './startup.js';
import {
  childEnv,
  cleanupAll,
  cleanupSync,
  killTmuxSession,
  log,
  makeRoot,
  now,
  sleep,
  startTuiInTmux,
  TMUX_SOCKET,
  trackChild,
  until,
  writeEnvelope,
} from './util.js';

export interface IdleUserFigures {
  cpuPct: number;
  /** CPU ticks (1/100 s) the TUI used in the window: the raw count behind cpuPct. */
  ticks: number;
  seconds: number;
  /** CPU% in the minute right after the last event, while its ages still count seconds. */
  firstMinutePct: number;
  rssMiB: number;
  columns: number;
  rows: number;
}

const ASK = '#ask#';
const FIRST_MINUTE_S = 62;

export async function measureIdleAsUser(o: { seconds: number; columns?: number; rows?: number }): Promise<IdleUserFigures> {
  const columns = o.columns ?? 80;
  const rows = o.rows ?? 24;
  // Its own fake: one session's update gets a [NEEDS-JC] reply, the rest an acknowledgement.
  const fakes = await startFakes({
    respond: (req) =>
      req.lastUserText.includes(ASK)
        ? { text: '[NEEDS-JC] Run the billing migration tonight against production, or wait for Monday?' }
        : { text: `Reviewed update ${TAG_RE.exec(req.lastUserText)?.[1] ?? ''}. Carry on.` },
  });
  const sessions = ['api-refactor', 'billing-tests', 'docs-site'];
  const p = makeRoot({ sessions, env: fakes.env });
  const name = `idle-user-${process.pid}`;
  const pid = await startTuiInTmux(name, ['--root', p.root], { x: columns, y: rows });
  // A client attached, as a user's terminal is (tmux then draws for it and sends focus events).
  const client = trackChild(
    spawn('tmux', ['-L', TMUX_SOCKET, '-C', 'attach-session', '-t', name], { stdio: ['pipe', 'ignore', 'ignore'], env: childEnv() }),
  );
  const status = () => {
    try {
      return JSON.parse(fs.readFileSync(p.status, 'utf8')) as { state: string; queue_depth: number; last_dispatch_at: string | null };
    } catch {
      return undefined;
    }
  };
  try {
    await waitScreen(name, HEADER_RE, 20_000);
    writeEnvelope(p, 'api-refactor', 'Refactor done, tests green. #t1#');
    writeEnvelope(p, 'docs-site', 'Docs rebuilt. #t2#');
    await until(() => status()?.last_dispatch_at, 20_000, 'the first replies', 20);
    writeEnvelope(p, 'billing-tests', `The migration is ready. ${ASK} #t3#`);
    await until(() => status()?.state === 'needs_jc', 20_000, 'the question to be held', 20);
    writeEnvelope(p, 'billing-tests', 'While you decide: the nightly build is green. #t4#');
    await until(() => (status()?.queue_depth ?? 0) > 0, 20_000, 'the next envelope to wait behind the question', 20);
    // The first minute after the last event: its ages show seconds, so the screen changes
    // every second (measured apart). Then the window: every figure shows minutes.
    const f0 = cpuSeconds(pid);
    const tf = now();
    await sleep(FIRST_MINUTE_S * 1000);
    const firstMinutePct = ((cpuSeconds(pid) - f0) / ((now() - tf) / 1000)) * 100;
    log(
      `idle as a user runs it: ${columns}x${rows}, a client attached, a question held; first minute ${firstMinutePct.toFixed(2)}%; watching for ${o.seconds} s`,
    );
    const c0 = cpuSeconds(pid);
    const t0 = now();
    await sleep(o.seconds * 1000);
    const used = cpuSeconds(pid) - c0;
    const seconds = (now() - t0) / 1000;
    const r: IdleUserFigures = {
      cpuPct: (used / seconds) * 100,
      ticks: Math.round(used * 100),
      seconds,
      firstMinutePct,
      rssMiB: memMiB(pid).rss,
      columns,
      rows,
    };
    log(
      `idle as a user runs it: ${r.cpuPct.toFixed(2)}% of a core (${r.ticks} ticks in ${seconds.toFixed(0)} s), ${r.rssMiB.toFixed(0)} MiB`,
    );
    return r;
  } finally {
    client.stdin?.end();
    await killTmuxSession(name, pid);
    await fakes.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.on('exit', cleanupSync);
  const seconds = Number(process.argv[2] ?? 180);
  measureIdleAsUser({ seconds, columns: Number(process.argv[3] ?? 80), rows: Number(process.argv[4] ?? 24) })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => void cleanupAll());
}
