import { spawn } from 'node:child_process';
import {
  buildSshPlan,
  classifyFailure,
  controlDir,
  formatTarget,
  sessionHostName,
  type RemoteFailure,
  type RemoteTarget,
  type SshPlan,
} from '../../adapters/ssh.js';

/**
 * One remote call: ssh spawned for a plan (adapters/ssh.ts builds it), its stderr read
 * back to say in one line what failed, signals passed on. Used by the remote commands
 * (remote.ts), the remote shell's guard and the doctor's checks (check.ts).
 */

/** Where a remote command's own output goes (the process's stdio, or a test's). */
export interface RemoteIo {
  err: (s: string) => void;
  out: (s: string) => void;
}

export interface RunRemote {
  target: RemoteTarget;
  argv: string[];
  /** Written to the far command's stdin (then closed). */
  stdinText?: string;
  /** Keep ssh's stdin open after stdinText (closed when ssh ends): the far side watches it. */
  holdStdin?: boolean;
  /** The far command reads this process's stdin; otherwise ssh gets -n. */
  readsStdin: boolean;
  hook: boolean;
  env: NodeJS.ProcessEnv;
  io: RemoteIo;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  /** ssh itself could not be started here. */
  spawnError?: string;
}

/** Output kept for classifying a failure; beyond this it is passed on and dropped. */
const STDERR_KEEP = 256 * 1024;

/** Spawns ssh for a plan. stdout goes to the caller's stdout unless `capture`; stderr is always read back. */
export function spawnSsh(
  plan: SshPlan,
  o: { stdin: 'inherit' | 'ignore' | string; holdStdin?: boolean; capture?: boolean; timeoutMs?: number; onSignal?: boolean },
): Promise<SshResult & { signalled?: boolean }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(plan.file, plan.args, {
      stdio: [
        typeof o.stdin === 'string' && o.stdin !== 'inherit' && o.stdin !== 'ignore' ? 'pipe' : o.stdin,
        o.capture ? 'pipe' : 'inherit',
        'pipe',
      ],
    });
    let stderr = '';
    let stdout = '';
    let settled = false;
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    let signalled = false;
    const forward = (sig: NodeJS.Signals) => {
      signalled = true;
      child.kill(sig);
    };
    if (o.onSignal) for (const s of signals) process.on(s, forward);
    const timer = o.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), o.timeoutMs) : undefined;
    const done = (code: number, spawnError?: string) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (o.onSignal) for (const s of signals) process.off(s, forward);
      // A ControlPersist master forked by this ssh must not keep this process alive through an inherited pipe.
      child.stderr?.destroy();
      child.stdout?.destroy();
      child.stdin?.destroy();
      resolve({ code, stdout, stderr, ms: performance.now() - t0, spawnError, signalled });
    };
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < STDERR_KEEP) stderr += d.toString('utf8');
    });
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    if (child.stdin && typeof o.stdin === 'string') {
      child.stdin.on('error', () => {});
      if (o.holdStdin) child.stdin.write(o.stdin);
      else child.stdin.end(o.stdin);
    }
    child.once('error', (err: NodeJS.ErrnoException) => {
      done(err.code === 'ENOENT' ? 127 : 255, err.code === 'ENOENT' ? 'not found' : err.message);
    });
    child.once('exit', (code, signal) => {
      const status = code ?? 128 + (signal ? (os_signals[signal] ?? 15) : 15);
      // Let the pipes drain; a stream held open by a forked master is cut after a moment.
      let closed = false;
      child.once('close', () => {
        closed = true;
        done(status);
      });
      setTimeout(() => !closed && done(status), 1000).unref();
    });
  });
}

const os_signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };

export function localSpawnFailure(r: SshResult, plan: SshPlan): RemoteFailure | undefined {
  if (r.spawnError === undefined) return undefined;
  return { kind: 'ssh', line: `cannot run ${plan.file} here (${r.spawnError}); install openssh-client or fix RELAY_SSH` };
}

export function planFor(target: RemoteTarget, argv: string[], env: NodeJS.ProcessEnv, noStdin: boolean): SshPlan {
  return buildSshPlan({ target, argv, env, sessionHost: sessionHostName(env), noStdin, controlDir: controlDir(env) });
}

export async function runRemote(r: RunRemote): Promise<number> {
  const plan = planFor(r.target, r.argv, r.env, !r.readsStdin && r.stdinText === undefined);
  const res = await spawnSsh(plan, { stdin: r.stdinText ?? (r.readsStdin ? 'inherit' : 'ignore'), holdStdin: r.holdStdin, onSignal: true });
  if (res.signalled && r.hook) {
    r.io.err(
      `relay-tui hook: interrupted; the far hook on ${formatTarget(r.target)} stops too, and a reply that comes later waits in dispatch/ there\n`,
    );
    return 0;
  }
  const failure = localSpawnFailure(res, plan) ?? classifyFailure(res.code, res.stderr, r.target);
  if (failure) {
    r.io.err(
      r.hook ? `relay-tui hook: ${failure.line}; letting Claude Code go on (this turn is not relayed)\n` : `relay-tui: ${failure.line}\n`,
    );
    return r.hook ? 0 : res.code;
  }
  if (res.stderr) r.io.err(res.stderr.endsWith('\n') ? res.stderr : `${res.stderr}\n`);
  return r.hook ? 0 : res.code;
}
