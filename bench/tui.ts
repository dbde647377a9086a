// The TUI in a real tmux pane: frames per second and keystroke-to-echo latency while
// envelopes flow at a paced rate; its RSS while turns flow; and the engine's RSS over
// 10,000 turns.
//
// A tmux control-mode client (`tmux -C attach`) sends the keys and receives the pane's
// output as %output notifications, so neither side pays for spawning a tmux client per
// keystroke or per poll. Frames: Ink brackets every frame it writes to a TTY with a
// synchronized-update pair (ESC[?2026h ... ESC[?2026l), so ESC[?2026h in the output
// counts frames actually written to the terminal. Echo: from writing `send-keys` to the
// control client until the typed text comes back in the pane's output; the same
// measurement against `cat` in a pane is the tooling's own floor.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import type { RootPaths } from '../src/protocol/root.js';
import type { Fakes } from './fakes.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { HEADER_RE, waitScreen } from './startup.js';
import {
  childEnv,
  killTmuxSession,
  log,
  makeRoot,
  now,
  prose,
  REPO,
  rng,
  sleep,
  startConsumers,
  startTuiInTmux,
  tempDir,
  tmux,
  TMUX_SOCKET,
  trackChild,
  until,
  writeEnvelope,
  type Consumers,
} from './util.js';
import { memMiB } from './proc.js';

const BSU = '\x1b[?2026h';

export interface TuiLoadResult {
  offeredPerS: number;
  achievedPerS: number;
  windowS: number;
  framesPerS: number;
  bytesPerS: number;
  echoMs: number[];
  /** The same measurement against `cat`: what tmux and the control client cost by themselves. */
  echoFloorMs: number[];
}

export interface TuiMemoryResult {
  turns: number;
  seconds: number;
  /** [turns, VmRSS MiB] samples */
  rss: Array<[number, number]>;
  hwmMiB: number;
  turnsPerS: number;
  /** VmRSS MiB once the flood stopped and the TUI sat idle SETTLE_S (V8 shrinks idle heaps). */
  settledMiB?: number;
  /** The CPU profile, and the run it was taken in when that was another (a profiler's memory is not the TUI's). */
  profile?: ProfileSummary;
  profileTurns?: number;
  profileSeconds?: number;
}

/** How long the memory run watches the TUI sit idle after its last turn. */
export const SETTLE_S = 15;

export interface EngineMemoryResult {
  turns: number;
  seconds: number;
  /** [turns, RSS MiB] */
  rss: Array<[number, number]>;
  /** [turns, heap used after a full GC, MiB] */
  heap: Array<[number, number]>;
}

/** A tmux control-mode client attached to one session. */
class TmuxControl {
  private readonly proc: ChildProcess;
  private partial = '';
  private recent = '';
  bytes = 0;
  frames = 0;
  private waiters: Array<{ token: string; resolve: (t: number) => void }> = [];

  constructor(session: string) {
    this.proc = trackChild(
      spawn('tmux', ['-L', TMUX_SOCKET, '-C', 'attach-session', '-t', session], { stdio: ['pipe', 'pipe', 'ignore'], env: childEnv() }),
    );
    this.proc.stdout!.setEncoding('latin1');
    this.proc.stdout!.on('data', (chunk: string) => this.onData(chunk));
  }

  private onData(chunk: string): void {
    const t = now();
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('%output ')) continue;
      const data = line.slice(line.indexOf(' ', 8) + 1).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      this.bytes += data.length;
      this.frames += data.split(BSU).length - 1;
      this.recent = (this.recent + data).slice(-16_384);
    }
    if (this.waiters.length) {
      this.waiters = this.waiters.filter((w) => {
        if (!this.recent.includes(w.token)) return true;
        w.resolve(t);
        return false;
      });
    }
  }

  send(command: string): number {
    const t = now();
    this.proc.stdin!.write(`${command}\n`);
    return t;
  }

  /** Resolves with the time the token appeared in the pane's output. */
  waitFor(token: string, timeoutMs: number): Promise<number> {
    if (this.recent.includes(token)) return Promise.resolve(now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: "${token}" did not appear in the pane within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ token, resolve: (t) => (clearTimeout(timer), resolve(t)) });
    });
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin!.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

/** Feeds envelopes at `perS` (round robin over sessions) while keeping the backlog under `maxBacklog`. */
function startFeeder(
  p: RootPaths,
  sessions: string[],
  consumers: Consumers,
  perS: number,
  maxBacklog: number,
  limit = Infinity,
): { written: () => number; stop: () => void } {
  const r = rng(23);
  let written = 0;
  const t0 = now();
  const tick = () => {
    const due = Math.min(limit, Math.floor(((now() - t0) / 1000) * perS));
    while (written < due && written - consumers.delivered < maxBacklog) {
      writeEnvelope(p, sessions[written % sessions.length], `${prose(r, 300)} #t${written}#`);
      written++;
    }
  };
  const timer = setInterval(tick, 10);
  return { written: () => written, stop: () => clearInterval(timer) };
}

async function echoSeries(ctl: TmuxControl, session: string, n: number, clear: string, prefix: string): Promise<number[]> {
  const r = rng(5);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const token = `${prefix}${String(i).padStart(2, '0')}w`;
    const t0 = ctl.send(`send-keys -t ${session} -l ${token}`);
    out.push((await ctl.waitFor(token, 10_000)) - t0);
    ctl.send(`send-keys -t ${session} ${clear}`);
    await sleep(120 + Math.floor(r() * 200));
  }
  return out;
}

/** The tooling by itself: echo of `cat` in a pane (the tty echoes what is typed). */
export async function measureEchoFloor(n: number): Promise<number[]> {
  const name = 'echo-floor';
  await tmux(['new-session', '-d', '-s', name, '-x', '120', '-y', '40', 'exec cat']);
  const ctl = new TmuxControl(name);
  try {
    await sleep(300);
    return await echoSeries(ctl, name, n, 'Enter', 'kf');
  } finally {
    await ctl.close();
    await tmux(['kill-session', '-t', name]).catch(() => undefined);
  }
}

export async function measureTuiLoad(o: {
  fakes: Fakes;
  perS: number;
  keystrokes: number;
  windowMs: number;
  base?: string;
}): Promise<TuiLoadResult> {
  const sessions = ['s1', 's2', 's3', 's4'];
  const paths = makeRoot({ base: o.base, sessions, env: o.fakes.env, config: { history: { cap_tokens: 30_000, keep_recent: 10 } } });
  const name = 'tui-load';
  const pid = await startTuiInTmux(name, ['--root', paths.root]);
  const consumers = startConsumers(paths, sessions);
  let feeder: ReturnType<typeof startFeeder> | undefined;
  let ctl: TmuxControl | undefined;
  try {
    await waitScreen(name, HEADER_RE, 20_000);
    ctl = new TmuxControl(name);
    feeder = startFeeder(paths, sessions, consumers, o.perS, 300);
    await sleep(2000);
    const b0 = ctl.bytes;
    const f0 = ctl.frames;
    const d0 = consumers.delivered;
    const t0 = now();
    log(`TUI under load: ${o.perS} turns/s offered, ${o.keystrokes} keystrokes`);
    const echoMs = await echoSeries(ctl, name, o.keystrokes, 'C-u', 'kq');
    while (now() - t0 < o.windowMs) await sleep(50);
    const windowS = (now() - t0) / 1000;
    const r: TuiLoadResult = {
      offeredPerS: o.perS,
      achievedPerS: (consumers.delivered - d0) / windowS,
      windowS,
      framesPerS: (ctl.frames - f0) / windowS,
      bytesPerS: (ctl.bytes - b0) / windowS,
      echoMs,
      echoFloorMs: [],
    };
    log(
      `TUI under load: ${r.achievedPerS.toFixed(0)} turns/s achieved, ${r.framesPerS.toFixed(1)} frames/s, echo p50 ${echoMs
        .slice()
        .sort((a, b) => a - b)
        [echoMs.length >> 1].toFixed(1)} ms`,
    );
    return r;
  } finally {
    feeder?.stop();
    consumers.close();
    await ctl?.close();
    await killTmuxSession(name, pid);
  }
}

/** RELAY_BENCH_SMAPS_OUT=DIR keeps /proc/PID/smaps: which mappings the RSS is in. */
function keepSmaps(pid: number, when: string): void {
  const dir = process.env.RELAY_BENCH_SMAPS_OUT;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `smaps-${when}.txt`), fs.readFileSync(`/proc/${pid}/smaps`));
  const threads = fs.readdirSync(`/proc/${pid}/task`).map((t) => fs.readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim());
  fs.writeFileSync(path.join(dir, `threads-${when}.txt`), `${threads.join('\n')}\n`);
}

/**
 * Turns through the TUI as fast as it takes them for `timeLimitS` (or `turns`), its RSS
 * sampled every 1,000, under --cpu-prof if asked (the profile says where its time goes). The
 * root is on `base` (tmpfs when available): memory does not depend on the disk.
 */
export async function measureTuiMemory(o: {
  fakes: Fakes;
  turns: number;
  base?: string;
  timeLimitS: number;
  /** under --cpu-prof: the profile says where the time goes, but the profiler's own ~20 MB count in the RSS */ profile: boolean;
}): Promise<TuiMemoryResult> {
  const sessions = ['s1', 's2', 's3', 's4'];
  const paths = makeRoot({ base: o.base, sessions, env: o.fakes.env, config: { history: { cap_tokens: 8_000, keep_recent: 10 } } });
  const profDir = tempDir('relay-bench-tuiprof-');
  const name = 'tui-memory';
  const pid = await startTuiInTmux(name, ['--root', paths.root], undefined, o.profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []);
  const rss: Array<[number, number]> = [];
  let next = 250;
  const consumers: Consumers = startConsumers(paths, sessions, () => {
    if (consumers.delivered >= next) {
      rss.push([consumers.delivered, memMiB(pid).rss]);
      next += next < 1000 ? 250 : 1000;
    }
  });
  let feeder: ReturnType<typeof startFeeder> | undefined;
  let result: TuiMemoryResult;
  try {
    await waitScreen(name, HEADER_RE, 20_000);
    rss.push([0, memMiB(pid).rss]);
    const t0 = now();
    log(`TUI memory: up to ${o.turns} turns or ${o.timeLimitS} s`);
    feeder = startFeeder(paths, sessions, consumers, 100_000, 64, o.turns);
    await until(() => consumers.delivered >= o.turns || now() - t0 > o.timeLimitS * 1000, o.timeLimitS * 1000 + 5000, 'TUI memory run', 50);
    const seconds = (now() - t0) / 1000;
    const m = memMiB(pid);
    keepSmaps(pid, 'flood');
    if (rss[rss.length - 1][0] !== consumers.delivered) rss.push([consumers.delivered, m.rss]);
    log(`TUI memory: ${consumers.delivered} turns in ${seconds.toFixed(1)} s, RSS ${m.rss.toFixed(0)} MiB (peak ${m.hwm.toFixed(0)})`);
    result = { turns: consumers.delivered, seconds, rss, hwmMiB: m.hwm, turnsPerS: consumers.delivered / seconds };
    feeder.stop();
    await sleep(SETTLE_S * 1000);
    result.settledMiB = memMiB(pid).rss;
    keepSmaps(pid, 'idle');
    log(`TUI memory: ${result.settledMiB.toFixed(0)} MiB after ${SETTLE_S} s idle`);
  } finally {
    feeder?.stop();
    consumers.close();
    // SIGHUP: the TUI stops gracefully and node writes the profile on exit.
    await killTmuxSession(name, pid);
  }
  const profs = fs.readdirSync(profDir).filter((n) => n.endsWith('.cpuprofile'));
  // One profile per thread, named CPU.<date>.<time>.<pid>.<thread id>.<seq>: the view's is thread 0.
  const prof = profs.find((n) => n.split('.')[4] === '0') ?? profs[0];
  if (prof) result.profile = summarizeProfile(path.join(profDir, prof));
  // RELAY_BENCH_PROF_OUT=DIR keeps the profiles (both threads) for a closer look.
  const keep = process.env.RELAY_BENCH_PROF_OUT;
  if (keep) {
    fs.mkdirSync(keep, { recursive: true });
    for (const p of profs) fs.copyFileSync(path.join(profDir, p), path.join(keep, p));
  }
  return result;
}

/** The engine alone (.bench/bench/engine-mem.js in a child process) through `turns` turns. */
export async function measureEngineMemory(o: {
  fakes: Fakes;
  turns: number;
  base?: string;
  timeoutS: number;
}): Promise<EngineMemoryResult> {
  const sessions = ['s1', 's2', 's3', 's4'];
  const paths = makeRoot({ base: o.base, sessions, env: o.fakes.env, config: { history: { cap_tokens: 8_000, keep_recent: 10 } } });
  const child = trackChild(
    spawn(process.execPath, ['--expose-gc', path.join(REPO, '.bench', 'bench', 'engine-mem.js'), paths.root, String(o.turns)], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const rss: Array<[number, number]> = [];
  const heap: Array<[number, number]> = [];
  let err = '';
  let out = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  child.stdout!.on('data', (d) => {
    out += d;
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const l of lines) {
      try {
        const j = JSON.parse(l) as { turns: number; rss: number; heap: number };
        rss.push([j.turns, j.rss / 1048576]);
        heap.push([j.turns, j.heap / 1048576]);
      } catch {
        /* not ours */
      }
    }
  });
  const t0 = now();
  log(`engine memory: ${o.turns} turns (API stubbed in-process)`);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutS * 1000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const seconds = (now() - t0) / 1000;
  if (code !== 0) log(`engine memory: child exited ${code}${err ? `: ${err.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
  const turns = rss.length ? rss[rss.length - 1][0] : 0;
  log(
    `engine memory: ${turns} turns in ${seconds.toFixed(1)} s, RSS ${rss.map(([n, v]) => `${n}:${v.toFixed(0)}`).join(' ')} MiB; heap after GC ${heap.map(([n, v]) => `${n}:${v.toFixed(1)}`).join(' ')} MiB`,
  );
  return { turns, seconds, rss, heap };
}
