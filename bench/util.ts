// Shared helpers for `npm run bench`: statistics, temp roots, the processes the
// benchmark starts (and must never leave behind), tmux, and /proc readers.
// Nothing here is imported by the CLI.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { DEFAULT_CONFIG_YAML } from '../src/config/defaults.js';
import { rootPaths, type RootPaths } from '../src/protocol/root.js';
import { writeEnvelope as writeEnvelopeFile } from '../src/protocol/envelope.js';
import { readFileOr } from './proc.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO, 'bin', 'relay-tui.js');
export const now = (): number => performance.now();

// ------------------------------------------------------------------ statistics

/** Nearest-rank percentile (p in 0..100) of a sample; NaN when empty. */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}
export const median = (xs: number[]): number => pct(xs, 50);
export const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export { seededRandom as rng } from './random.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when check() returns a value; re-checks every `everyMs`. */
export async function until<T>(check: () => T | undefined | false, timeoutMs: number, what: string, everyMs = 5): Promise<T> {
  const end = now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (now() > end) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------ log

const started = now();
export function log(msg: string): void {
  process.stderr.write(`[bench ${((now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}

// ------------------------------------------------------------------ temp roots

const tempDirs = new Set<string>();

export interface BenchRootOptions {
  /** Parent directory (default os.tmpdir()). */
  base?: string;
  sessions: string[];
  /** Merged into the config (history, guardrails, ...). */
  config?: Record<string, unknown>;
  /** Written to ROOT/.env. */
  env: Record<string, string>;
}

/**
 * A fresh relay root with a config whose guardrails are raised for the bench: the
 * defaults would (rightly) stop a session sending hundreds of turns an hour.
 */
export function makeRoot(o: BenchRootOptions): RootPaths {
  const root = fs.mkdtempSync(path.join(o.base ?? os.tmpdir(), 'relay-bench-'));
  tempDirs.add(root);
  const paths = rootPaths(root);
  const doc = YAML.parse(DEFAULT_CONFIG_YAML);
  const merged = deepMerge(doc, {
    sessions: o.sessions.map((id) => ({ id, description: `bench ${id}` })),
    guardrails: {
      budget_usd_per_day: 1_000_000,
      budget_usd_per_session_per_day: 1_000_000,
      max_turn_cost_usd: 1_000_000,
      max_auto_turns: 0,
      max_turns_per_hour: 0,
      repeat_threshold: 0,
    },
    ...(o.config ?? {}),
  });
  fs.writeFileSync(paths.config, YAML.stringify(merged));
  fs.writeFileSync(
    paths.env,
    Object.entries(o.env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  return paths;
}

export function removeTempDirs(): void {
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  tempDirs.clear();
}

export function tempDir(prefix: string, base = os.tmpdir()): string {
  const d = fs.mkdtempSync(path.join(base, prefix));
  tempDirs.add(d);
  return d;
}

function deepMerge(a: any, b: any): any {
  if (Array.isArray(b) || typeof b !== 'object' || b === null) return b;
  const out = { ...(a ?? {}) };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(a?.[k], v);
  return out;
}

/**
 * The environment of every process the bench starts: nothing from the caller's shell
 * that could point the relay somewhere real (ANTHROPIC_*, NTFY_*), nor CI (Ink renders
 * nothing when it thinks it is in CI). Each root's .env says where the fakes are.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), LANG: 'C.UTF-8' };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return { ...env, ...extra };
}

// ------------------------------------------------------------------ envelopes and consumers

let seq = 0;
/**
 * What a session does, through the protocol's one writer (not durable: the bench measures
 * the relay, not the session's disk). A sequence number in the name keeps envelopes
 * written in one millisecond in order. Returns the time taken just before the rename.
 */
export function writeEnvelope(p: RootPaths, session: string, content: string, extra: Record<string, unknown> = {}): number {
  const name = `${Date.now()}-${String(++seq).padStart(7, '0')}-${session}.json`;
  let t = 0;
  writeEnvelopeFile(p.queue, { session_id: session, content, ...extra }, { name, durable: false, beforeRename: () => (t = now()) });
  return t;
}

export interface Consumers {
  delivered: number;
  times: number[];
  close(): void;
}

/** Sessions that take their reply (delete input.txt) as soon as it appears, seen with fs.watch. */
export function startConsumers(p: RootPaths, sessions: string[], onTake?: (session: string, t: number) => void): Consumers {
  const c: Consumers = { delivered: 0, times: [], close: () => {} };
  const watchers: fs.FSWatcher[] = [];
  const take = (s: string) => {
    const file = path.join(p.dispatch, s, 'input.txt');
    try {
      fs.unlinkSync(file);
    } catch {
      return;
    }
    const t = now();
    c.delivered++;
    c.times.push(t);
    onTake?.(s, t);
  };
  for (const s of sessions) {
    const dir = path.join(p.dispatch, s);
    fs.mkdirSync(dir, { recursive: true });
    watchers.push(fs.watch(dir, (_e, name) => (!name || String(name) === 'input.txt' ? take(s) : undefined)));
  }
  // A slow safety net in case a watch event is coalesced away.
  const safety = setInterval(() => sessions.forEach(take), 50);
  c.close = () => {
    clearInterval(safety);
    for (const w of watchers) w.close();
  };
  return c;
}

/** Pseudo-prose of about `chars` characters (the fake's tokenizer counts 4 characters a token). */
const WORDS =
  'the relay session test build review change file module error fix commit branch merge pass fail api cache token summary reply queue dispatch config guard budget turn operator refactor parser schema migration deploy lint type check coverage patch release'.split(
    ' ',
  );
export function prose(r: () => number, chars: number): string {
  let s = '';
  while (s.length < chars) s += WORDS[Math.floor(r() * WORDS.length)] + (r() < 0.08 ? '. ' : ' ');
  return s.slice(0, chars).trimEnd() + '.';
}

// ------------------------------------------------------------------ processes

const children = new Set<ChildProcess>();
const foreignPids = new Set<number>();
export const TMUX_SOCKET = `relay-bench-${process.pid}`;
let tmuxUsed = false;

/** Registers a process the bench started, so cleanupAll() ends it. */
export function trackChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export function spawnRelay(args: string[], opts: { nodeArgs?: string[]; env?: Record<string, string> } = {}): ChildProcess {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], {
    env: childEnv(opts.env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let err = '';
  child.stderr?.on('data', (d) => (err = (err + d).slice(-4000)));
  (child as any).stderrTail = () => err;
  child.on('exit', () => children.delete(child));
  return child;
}

/** SIGTERM (the relay's graceful stop), then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits for a process we started (not our child: it runs in tmux) to exit; SIGKILL after `graceMs`. */
export async function waitGone(pid: number, graceMs = 5000): Promise<void> {
  const end = now() + graceMs;
  while (alive(pid)) {
    if (now() > end) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await sleep(50);
      if (!alive(pid)) break;
    }
    await sleep(20);
  }
  foreignPids.delete(pid);
}

export function tmux(args: string[]): Promise<string> {
  tmuxUsed = true;
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', TMUX_SOCKET, ...args], { env: childEnv() }, (err, stdout) => (err ? reject(err) : resolve(String(stdout))));
  });
}

/**
 * Starts `node bin/relay-tui.js ARGS` in a detached tmux session on the bench's own
 * tmux server (-L), so no user session is ever touched. Returns the relay's pid.
 */
export async function startTuiInTmux(name: string, args: string[], size = { x: 120, y: 40 }, nodeArgs: string[] = []): Promise<number> {
  // The TUI's diagnostics (RELAY_TUI_MEMLOG…) reach it through tmux only if passed here.
  const diag = Object.entries(process.env).filter(
    ([k]) => k.startsWith('RELAY_TUI_') || k.startsWith('MALLOC_') || k.startsWith('GLIBC_') || k.startsWith('UV_'),
  );
  const env = diag.length ? ['env', ...diag.map(([k, v]) => shq(`${k}=${v}`))] : [];
  const wrap = (process.env.RELAY_BENCH_WRAP ?? '').split(' ').filter(Boolean).map(shq);
  const cmd = ['exec', ...env, ...wrap, shq(process.execPath), ...nodeArgs.map(shq), shq(CLI), ...args.map(shq)].join(' ');
  await tmux(['new-session', '-d', '-s', name, '-x', String(size.x), '-y', String(size.y), cmd]);
  const panePid = Number((await tmux(['list-panes', '-t', name, '-F', '#{pane_pid}'])).trim().split('\n')[0]);
  // With `exec` the pane's process is node itself; otherwise it is a shell and node its child.
  let pid = panePid;
  const comm = readFileOr(`/proc/${panePid}/comm`, '').trim();
  if (comm !== 'node') {
    // A shell or a wrapper (RELAY_BENCH_WRAP, e.g. heaptrack) in between: the first node below it.
    const children = (p: number) => readFileOr(`/proc/${p}/task/${p}/children`, '').trim().split(/\s+/).filter(Boolean).map(Number);
    const nodeBelow = (p: number, depth: number): number | undefined => {
      const kids = children(p);
      for (const k of kids) if (readFileOr(`/proc/${k}/comm`, '').trim() === 'node') return k;
      for (const k of depth > 0 ? kids : []) {
        const found = nodeBelow(k, depth - 1);
        if (found) return found;
      }
      return undefined;
    };
    for (let i = 0; i < 50; i++) {
      const found = nodeBelow(panePid, 3);
      if (found) {
        pid = found;
        break;
      }
      await sleep(100);
    }
  }
  foreignPids.add(pid);
  return pid;
}

export async function killTmuxSession(name: string, pid?: number): Promise<void> {
  try {
    await tmux(['kill-session', '-t', name]);
  } catch {
    /* already gone */
  }
  if (pid) await waitGone(pid);
}

export function capturePane(name: string): Promise<string> {
  return tmux(['capture-pane', '-p', '-t', name]);
}

function shq(s: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Every process and tmux session the bench started, ended; temp roots removed. Safe to call twice. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 3000)));
  if (tmuxUsed) {
    try {
      const sessions = (await tmux(['list-sessions', '-F', '#{session_name}'])).trim().split('\n').filter(Boolean);
      for (const s of sessions) await tmux(['kill-session', '-t', s]).catch(() => undefined);
    } catch {
      /* no server */
    }
    await tmux(['kill-server']).catch(() => undefined);
  }
  await Promise.all([...foreignPids].map((p) => waitGone(p, 3000)));
  removeTempDirs();
}

/** Last resort on a synchronous exit path. */
export function cleanupSync(): void {
  for (const c of children) c.kill('SIGKILL');
  for (const p of foreignPids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (tmuxUsed) {
    try {
      execFileSync('tmux', ['-L', TMUX_SOCKET, 'kill-server'], { stdio: 'ignore' });
    } catch {
      /* no server */
    }
  }
  removeTempDirs();
}

/**
 * A marked section of BENCHMARKS.md (`<!-- NAME:start -->` … `<!-- NAME:end -->`), written by a
 * bench run of its own and kept by `npm run bench` (run.ts): replaced in place, else appended.
 */
export function writeSection(file: string, name: string, section: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${section}${end}\n`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  const next = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + end.length + 1) : `${text.trimEnd()}\n\n${block}`;
  fs.writeFileSync(`${file}.tmp`, next);
  fs.renameSync(`${file}.tmp`, file);
}
