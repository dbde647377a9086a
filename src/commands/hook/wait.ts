import { parseArgs } from 'node:util';
import type { RootPaths } from '../../protocol/root.js';
import { lastActivityMs, readRecord } from './chain.js';
import {
  claimHeld,
  claimReply,
  holdsLock,
  hooksDir,
  releaseClaim,
  sessionDir,
  stopHookWaiting,
  takeHolderLock,
  waiterLockPath,
  type Holder,
} from './claim.js';
import { isSessionId } from '../../protocol/session-id.js';
import { openRoot, parseInput, readStdin } from './io.js';
import { cmdline, findClaudeCode, isLive, isPrintModeWithoutStreamInput, procId, type ProcId } from './proc.js';
import { replyReason } from './text.js';
import { waitUntil } from './watch.js';
import { farLine, offerFar, type FarEnd } from './wait-far.js';

/**
 * The late-reply waiter: a Stop hook that Claude Code runs in the background with
 * "async": true, "asyncRewake": true. When it exits 2, Claude Code makes its stderr the
 * idle session's next turn. So a reply that comes after the windowed Stop hook gave up
 * (the operator answered a [NEEDS-JC] twenty minutes later) still reaches the session.
 *
 * Exit 2 wakes the session, and every woken turn ends in another Stop that starts
 * another waiter: an exit 2 on any path but a deliberate hand-over would loop with no
 * cap. So this runs from its own entry point (bin/relay-tui-hook-wait.js), which maps
 * every outcome but HANDED_OVER to 0, and:
 *   - one waiter per session (state/hooks/<session>.waiter.json); a second exits 0;
 *   - bound to its Claude Code process: it ends when that is gone, and checks it is
 *     alive before it claims a reply, so a hook that outlived Claude Code never takes one;
 *   - it claims the reply (hook-claim.ts) without acking it; the woken turn's
 *     UserPromptSubmit hook, whose prompt carries the nonce, acks it. A claim whose
 *     Claude Code dies first is dropped by the next hook, and the reply goes out again;
 *   - it leaves the reply to a windowed Stop hook that is still waiting for it;
 *   - it serves only the idle time right after its own Stop: once the session has done
 *     anything since (a prompt, typed or woken; a Stop hook's hand-over that continued the
 *     turn), its turn is over and it stands down, releasing a claim it just made. A reply
 *     handed over while Claude Code is busy would only queue behind that turn (and the
 *     next Stop hook would find it claimed); the next Stop starts a waiter of its own,
 *     which takes over the lock from one whose turn is over;
 *   - in plain `claude -p` (which never wakes from it, and would wait) it does not start.
 */

export const HANDED_OVER = 2;
/** Claude Code kills a hook at its `timeout`; hook install sets that to this, the waiter ends a minute before. */
export const WAITER_TIMEOUT_S = 86_400;
/** How often a waiter looks whether its Claude Code (or its channel's client) is still there. */
export const LIVENESS_TICK_MS = 2000;
/**
 * Claude Code starts this waiter and the windowed Stop hook together; a reply already in
 * input.txt at the Stop is the Stop hook's to take. The waiter leaves it alone this long,
 * so that the Stop hook, slower to start (it loads the config), has put up its marker.
 */
const STOP_HOOK_START_MS = 3000;

const NONCE_RE = /\[relay-tui delivery ([0-9a-f]{12})\]/;

export function deliveryNonce(prompt: string): string | undefined {
  return NONCE_RE.exec(prompt)?.[1];
}

export interface WaiterOptions {
  session: string;
  root?: string;
  timeoutS?: number;
  /** For tests: the Claude Code process to bind to, instead of the ancestry's. */
  cc?: ProcId;
  /** For tests: when its Stop happened (ms); by default this process's start. */
  startedAt?: number;
  /**
   * The far half of a remote session's waiter (wait-far.ts, run by remote/guard.ts): bound
   * to the ssh channel, it offers a claimed reply over the channel instead of exiting 2.
   */
  far?: FarEnd;
}

export async function runWaiterCli(argv: string[]): Promise<number> {
  let o: WaiterOptions;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: false,
      options: { session: { type: 'string' }, root: { type: 'string' }, timeout: { type: 'string' } },
    });
    const session = typeof values.session === 'string' ? values.session : '';
    o = {
      session,
      root: typeof values.root === 'string' ? values.root : undefined,
      timeoutS: timeoutSeconds(values.timeout),
    };
  } catch (err) {
    return note(`bad arguments: ${(err as Error).message}`);
  }
  // The hook's JSON is not needed, but Claude Code writes it: read it so the pipe closes cleanly.
  parseInput(await readStdin(5000));
  try {
    return await runWaiter(o);
  } catch (err) {
    return note(`the waiter failed: ${(err as Error)?.message ?? err}`);
  }
}

/** A waiter's --timeout: seconds, when a positive number; otherwise the default. */
export function timeoutSeconds(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function note(line: string): 0 {
  process.stderr.write(`relay-tui hook wait: ${line}\n`);
  return 0;
}

export async function runWaiter(o: WaiterOptions): Promise<number> {
  if (!isSessionId(o.session)) return note(`needs --session ID (a valid session id), got ${JSON.stringify(o.session)}`);
  const cc = o.cc ?? findClaudeCode();
  if (!cc) return note('cannot tell which Claude Code runs this hook (started by init?); not waiting');
  if (!o.cc && !o.far && isPrintModeWithoutStreamInput(cmdline(cc.pid)))
    return note('claude -p does not wake from a background hook; not waiting');
  const p = openRoot(o.root);
  const me = procId(process.pid) ?? { pid: process.pid, start: 0 };
  // Claude Code spawned this hook at its Stop: the process's start is the Stop's time, near enough.
  const t0 = o.startedAt ?? Date.now() - process.uptime() * 1000;
  const holder: Holder = { owner: me, cc, at: new Date(t0).toISOString() };
  const lock = waiterLockPath(p, o.session);
  // A live waiter started before the session's last activity serves a turn that is over: this one takes over.
  // So does a remote client's reconnect (same first start): the far half of its old channel may live on
  // for hours when the network dropped it silently (sshd hears nothing without ClientAliveInterval).
  const outdated = (h: Holder) => {
    const at = Date.parse(h.at) || 0;
    if (o.far && o.startedAt !== undefined && at === Math.floor(o.startedAt)) return true;
    return at < t0 && lastActivityMs(readRecord(p, o.session)) > at;
  };
  const release = takeHolderLock(lock, holder, outdated);
  if (!release) return 0; // another waiter serves this session
  // After a newline: text a far login shell printed without one would otherwise swallow the line.
  o.far?.write('\n' + farLine({ t: 'ready', t0: Math.floor(t0) }));
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  // The far half: the channel's end is its Claude Code going away.
  o.far?.channel.onEnd(onSignal);
  // on, not once: a second signal must not find the handler gone and kill the waiter mid-release.
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, onSignal);
  try {
    const timeoutMs = Math.max(1, (o.timeoutS ?? WAITER_TIMEOUT_S - 60) * 1000);
    const state: Turn = { p, session: o.session, me, cc, t0, lock, holder };
    const got = await waitUntil([sessionDir(p, o.session), hooksDir(p)], () => next(state, ac), {
      timeoutMs,
      tickMs: LIVENESS_TICK_MS,
      signal: ac.signal,
    });
    if (!got || got === 'gone' || got === 'over') return 0;
    if (!isLive(cc) || turnOver(state)) {
      releaseClaim(p, o.session, got.record.nonce);
      return 0;
    }
    const { reason } = replyReason(got.text, {
      session: o.session,
      root: p.root,
      repliesDir: p.replies,
      late: true,
      prefix: `[relay-tui delivery ${got.record.nonce}] `,
    });
    if (o.far) {
      await offerFar(o.far, p, o.session, got, reason, ac.signal);
      return 0;
    }
    process.stderr.write(reason + '\n');
    return HANDED_OVER;
  } finally {
    release();
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(s, onSignal);
  }
}

type Step = ReturnType<typeof claimReply> | 'gone' | 'over';

interface Turn {
  p: RootPaths;
  session: string;
  me: ProcId;
  cc: ProcId;
  /** When its Stop happened. */
  t0: number;
  lock: string;
  holder: Holder;
}

/** The session did something since this waiter's Stop, or a newer waiter took the lock. */
function turnOver(t: Turn): boolean {
  return !holdsLock(t.lock, t.holder) || lastActivityMs(readRecord(t.p, t.session)) > t.t0;
}

function next(t: Turn, ac: AbortController): Step {
  if (!isLive(t.cc)) {
    ac.abort();
    return 'gone';
  }
  if (turnOver(t)) return 'over';
  if (Date.now() - t.t0 < STOP_HOOK_START_MS) return undefined; // the tick looks again
  // A windowed Stop hook still waiting gets it first; a claim in flight is someone else's.
  if (stopHookWaiting(t.p, t.session) || claimHeld(t.p, t.session)) return undefined;
  const got = claimReply(t.p, t.session, { owner: t.me, cc: t.cc, via: 'wake' });
  // The turn may have ended between the look and the claim: the claim goes back at once.
  if (got && turnOver(t)) {
    releaseClaim(t.p, t.session, got.record.nonce);
    return 'over';
  }
  return got;
}
