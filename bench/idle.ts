// Idle: CPU% (utime+stime from /proc/PID/stat) and RSS (VmRSS) over a window with
// nothing happening, for a spawned `relay-tui --no-ui` and a TUI in a tmux pane,
// measured side by side.
import type { Fakes } from './fakes.js';
import { HEADER_RE, waitScreen } from './startup.js';
import { waitRunning } from './throughput.js';
import { killTmuxSession, log, makeRoot, now, sleep, spawnRelay, startTuiInTmux, stopChild } from './util.js';
import { cpuSeconds, memMiB } from './proc.js';

export interface IdleFigures {
  cpuPct: number;
  rssMiB: number;
  maxRssMiB: number;
  seconds: number;
}

async function watchIdle(pid: number, seconds: number): Promise<IdleFigures> {
  const c0 = cpuSeconds(pid);
  const t0 = now();
  let maxRss = memMiB(pid).rss;
  const end = t0 + seconds * 1000;
  while (now() < end) {
    await sleep(Math.min(5000, Math.max(0, end - now())));
    maxRss = Math.max(maxRss, memMiB(pid).rss);
  }
  const c1 = cpuSeconds(pid);
  const wall = (now() - t0) / 1000;
  return { cpuPct: ((c1 - c0) / wall) * 100, rssMiB: memMiB(pid).rss, maxRssMiB: maxRss, seconds: wall };
}

export async function measureIdle(o: {
  fakes: Fakes;
  seconds: number;
  settleMs?: number;
}): Promise<{ headless: IdleFigures; tui: IdleFigures }> {
  const sessions = ['s1', 's2', 's3'];
  const hp = makeRoot({ sessions, env: o.fakes.env });
  const tp = makeRoot({ sessions, env: o.fakes.env });
  const child = spawnRelay(['--no-ui', '--root', hp.root]);
  const name = 'idle-tui';
  const tuiPid = await startTuiInTmux(name, ['--root', tp.root]);
  try {
    await Promise.all([waitRunning(hp.status, child.pid!), waitScreen(name, HEADER_RE, 20_000)]);
    await sleep(o.settleMs ?? 3000);
    log(`idle: watching both for ${o.seconds} s`);
    const [headless, tui] = await Promise.all([watchIdle(child.pid!, o.seconds), watchIdle(tuiPid, o.seconds)]);
    log(
      `idle: headless ${headless.cpuPct.toFixed(2)}% ${headless.rssMiB.toFixed(0)} MiB, TUI ${tui.cpuPct.toFixed(2)}% ${tui.rssMiB.toFixed(0)} MiB`,
    );
    return { headless, tui };
  } finally {
    await stopChild(child);
    await killTmuxSession(name, tuiPid);
  }
}
