import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { classifyFailure, formatTarget, parseTarget, type RemoteTarget } from '../../adapters/ssh.js';
import { readStdin } from '../hook/io.js';
import { cmdline, findClaudeCode, isLive, isPrintModeWithoutStreamInput, type ProcId } from '../hook/proc.js';
import { HANDED_OVER, LIVENESS_TICK_MS, timeoutSeconds, WAITER_TIMEOUT_S } from '../hook/wait.js';
import { parseFarLine } from '../hook/wait-far.js';
import { planFor } from './ssh-run.js';

export { HANDED_OVER };

/**
 * The late-reply waiter of a session whose relay is on another machine (issue 25, item
 * 16): the asyncRewake Stop hook `relay-tui-hook-wait.js --remote TARGET`. It holds one
 * ssh channel to `remote-guard hook wait` on the relay's host (the protocol is in
 * hook/wait-far.ts) through the same restricted key as the other hooks, and exits 2 with
 * the reply — which wakes the idle session — only once the far side has acked it.
 *
 * Bound to this machine's Claude Code as a local waiter is: when that process is gone the
 * channel is closed, and the far waiter releases what it holds. A channel that breaks
 * (the network, the laptop's sleep, sshd restarting) is opened again with backoff while
 * Claude Code lives; the far side's first start is carried over (--since), so a prompt
 * typed while the channel was down still ends this turn's wait. Every path but a hand-over
 * exits 0 (bin/relay-tui-hook-wait.js): an exit 2 would wake the session.
 */

/** The far half says "ready" as soon as it has its lock; a far side that does not has no waiter. */
const READY_TIMEOUT_MS = 60_000;
const RETRY_MS = [5_000, 10_000, 20_000, 40_000, 60_000];
/** After this long connected, a channel that breaks starts the backoff over. */
const STEADY_MS = 120_000;

export interface RemoteWaiterOptions {
  session: string;
  target: RemoteTarget;
  env: NodeJS.ProcessEnv;
  /** For tests: the Claude Code to bind to, instead of the ancestry's. */
  cc?: ProcId;
  timeoutS?: number;
  err?: (s: string) => void;
  /** For tests: the backoff between channels, and how long to wait for the far side's "ready". */
  retryMs?: number[];
  readyTimeoutMs?: number;
}

export async function runRemoteWaiterCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const err = (s: string) => process.stderr.write(s);
  let o: RemoteWaiterOptions;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { session: { type: 'string' }, remote: { type: 'string' }, root: { type: 'string' }, timeout: { type: 'string' } },
    });
    let target = parseTarget(values.remote ?? '', '--remote');
    if (values.root !== undefined) target = { ...target, root: values.root };
    o = { session: values.session ?? '', target, env, err, timeoutS: timeoutSeconds(values.timeout) };
  } catch (e) {
    err(`relay-tui hook wait: ${(e as Error).message}; not waiting\n`);
    return 0;
  }
  // Claude Code writes the hook's JSON: read it so the pipe closes cleanly.
  await readStdin(5000);
  return runRemoteWaiter(o);
}

export async function runRemoteWaiter(o: RemoteWaiterOptions): Promise<number> {
  const say = (line: string): 0 => {
    (o.err ?? ((s) => process.stderr.write(s)))(`relay-tui hook wait: ${line}\n`);
    return 0;
  };
  const cc = o.cc ?? findClaudeCode();
  if (!cc) return say('cannot tell which Claude Code runs this hook (started by init?); not waiting');
  if (!o.cc && isPrintModeWithoutStreamInput(cmdline(cc.pid))) return say('claude -p does not wake from a background hook; not waiting');
  const deadline = Date.now() + Math.max(1, (o.timeoutS ?? WAITER_TIMEOUT_S - 60) * 1000);
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  for (const s of signals) process.once(s, onSignal);
  const retry = o.retryMs ?? RETRY_MS;
  let since: number | undefined;
  let failures = 0;
  try {
    while (!ac.signal.aborted && isLive(cc) && Date.now() < deadline) {
      const r = await oneChannel(o, cc, since, deadline, ac.signal);
      if ('t0' in r && r.t0 !== undefined) since ??= r.t0;
      if (r.kind === 'handed-over') {
        process.stderr.write(r.reason + '\n');
        return HANDED_OVER;
      }
      if (r.kind === 'refused') return say(`${r.line}; not waiting (a reply waits in dispatch/ there for the next Stop)`);
      if (r.kind === 'done') return r.quiet ? 0 : say('the far side did not wait: another waiter serves this session there');
      // ssh's own failure (255) of a kind that may pass is tried again; the far side refusing
      // (an older relay-tui there, not a relay root) or a key or host key problem is not.
      const failure = classifyFailure(r.code, r.stderr, o.target);
      if (r.code !== 255 || (failure && failure.kind !== 'unreachable' && failure.kind !== 'ssh')) {
        const why = failure?.line ?? (lastLine(r.stderr) || `the far side ended with exit ${r.code}`);
        return say(
          `${why}; not waiting (a reply waits in dispatch/ on ${formatTarget({ ...o.target, root: undefined })} for the next Stop)`,
        );
      }
      failures = r.connectedMs > STEADY_MS ? 1 : failures + 1;
      const wait = retry[Math.min(failures - 1, retry.length - 1)];
      if (!(await sleepWhileLive(wait, cc, deadline, ac.signal))) return 0;
    }
    return 0;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

type ChannelEnd =
  | { kind: 'handed-over'; reason: string; t0?: number }
  /** quiet: it had said it was ready; otherwise it stood down at once (another waiter serves the session). */
  | { kind: 'done'; t0?: number; quiet?: boolean }
  | { kind: 'broken'; code: number; stderr: string; connectedMs: number; t0?: number }
  | { kind: 'refused'; line: string };

/** One ssh channel to the far waiter, until it hands a reply over, stands down or breaks. */
function oneChannel(
  o: RemoteWaiterOptions,
  cc: ProcId,
  since: number | undefined,
  deadline: number,
  signal: AbortSignal,
): Promise<ChannelEnd> {
  const argv = ['remote-guard', 'hook', 'wait', '--session', o.session, ...(since !== undefined ? ['--since', String(since)] : [])];
  const plan = planFor(o.target, argv, o.env, false);
  return new Promise((resolve) => {
    const started = Date.now();
    let child: ChildProcess;
    try {
      child = spawn(plan.file, plan.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      return resolve({ kind: 'broken', code: 255, stderr: (e as Error).message, connectedMs: 0 });
    }
    let t0: number | undefined;
    let offered: { nonce: string; reason: string } | undefined;
    let acked = false;
    let stderr = '';
    let settled = false;
    const close = () => {
      // The channel's end is what the far guard watches: its waiter then releases what it holds.
      child.stdin?.end();
      const kill = setTimeout(() => child.kill('SIGTERM'), 3000);
      kill.unref();
    };
    let tooOld = false;
    const tick = setInterval(() => {
      if (!isLive(cc) || Date.now() >= deadline) close();
      // A far relay-tui that predates the waiter's channel runs something else and never says "ready".
      else if (t0 === undefined && !tooOld && Date.now() - started > (o.readyTimeoutMs ?? READY_TIMEOUT_MS)) {
        tooOld = true;
        close();
      }
    }, LIVENESS_TICK_MS);
    const onAbort = () => close();
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdin!.on('error', () => {});
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
    });
    const lines = readline.createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on('line', (raw) => {
      const l = parseFarLine(raw);
      if (!l) return;
      if (l.t === 'ready') t0 = l.t0;
      else if (l.t === 'reply') {
        // Its Claude Code must still be here to be woken; otherwise the reply stays over there.
        if (isLive(cc) && !signal.aborted) {
          offered = { nonce: l.nonce, reason: l.reason };
          child.stdin!.write(`take ${l.nonce}\n`);
        } else {
          child.stdin!.write('leave\n');
          close();
        }
      } else if (l.t === 'acked' && offered) {
        acked = true;
        close();
      }
    });
    child.once('error', (e) => finish({ kind: 'broken', code: 255, stderr: e.message, connectedMs: 0 }));
    child.once('close', (code) => {
      if (acked && offered) return finish({ kind: 'handed-over', reason: offered.reason, t0 });
      if (tooOld)
        return finish({
          kind: 'refused',
          line: `no answer from the far side within ${(o.readyTimeoutMs ?? READY_TIMEOUT_MS) / 1000} s (relay-tui there too old for the late-reply waiter, or not answering)`,
        });
      // Offered but not acked, and the far half gave up on us (a stall past its wait for "take",
      // a laptop asleep): the reply is back in dispatch/, so this is a broken channel, not the end.
      if (offered && !acked) return finish({ kind: 'broken', code: 255, stderr, connectedMs: Date.now() - started, t0 });
      // The far waiter stood down (another waiter, the turn is over, its own timeout): exit 0 there.
      if (code === 0) return finish({ kind: 'done', t0, quiet: t0 !== undefined });
      finish({ kind: 'broken', code: code ?? 255, stderr, connectedMs: t0 !== undefined ? Date.now() - started : 0, t0 });
    });
    function finish(end: ChannelEnd) {
      if (settled) return;
      settled = true;
      clearInterval(tick);
      signal.removeEventListener('abort', onAbort);
      lines.close();
      resolve(end);
    }
  });
}

/** Waits ms, or less when Claude Code goes, the deadline passes or the hook is told to stop; false then. */
function sleepWhileLive(ms: number, cc: ProcId, deadline: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const end = Math.min(Date.now() + ms, deadline);
    const tick = setInterval(
      () => {
        if (!isLive(cc) || signal.aborted) done(false);
        else if (Date.now() >= end) done(Date.now() < deadline);
      },
      Math.min(LIVENESS_TICK_MS, ms),
    );
    function done(v: boolean) {
      clearInterval(tick);
      resolve(v);
    }
  });
}

function lastLine(s: string): string {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? '';
}
