import { readStdin } from '../hook/io.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  buildSshPlan,
  classifyFailure,
  controlDir,
  formatTarget,
  parseTarget,
  RemoteSpecError,
  sessionHostName,
  type RemoteFailure,
  type RemoteTarget,
  type SshPlan,
} from '../../adapters/ssh.js';

/**
 * `--remote [USER@]HOST[:ROOT]` (or $RELAY_REMOTE): the session-side commands run on
 * the relay's host over ssh, as `relay-tui <same command> --root ROOT` there. stdin and
 * stdout go straight through, the exit code is the far command's; an ssh failure is
 * one line saying what failed. The hooks exit 0 whatever happens (the session just is
 * not relayed), like they do locally with the relay down.
 */

export const REMOTE_HELP = `Remote sessions (the relay on another machine, reached over ssh):
  relay-tui send   --remote [USER@]HOST[:ROOT] --session ID [TEXT|-]
  relay-tui recv   --remote ... --session ID [--wait] [--timeout S]
  relay-tui say    --remote ... TEXT...
  relay-tui status --remote ... [--json]
  relay-tui hook stop|notify --remote ... --session ID [--timeout S]
  relay-tui hook install --remote [USER@]HOST:/ABSOLUTE/ROOT --session ID [--project DIR] [--print]
  relay-tui remote-shell --root DIR [--no-say]   the forced command of a restricted authorized_keys line

  $RELAY_REMOTE       the target when --remote is not given
  $RELAY_SSH          the ssh command (like GIT_SSH_COMMAND), e.g. "ssh -F ~/.ssh/relay_config"
  $RELAY_REMOTE_BIN   relay-tui's command on the far side (default: relay-tui from its PATH)
  $RELAY_SESSION_HOST the name this machine shows under at the relay (default: its hostname)
Exit codes: the far command's; 255 when ssh itself failed, 127 when relay-tui is not
installed there; hook stop/notify always 0.
`;

class RemoteUsage extends Error {}

const OPTIONS = {
  remote: { type: 'string' },
  root: { type: 'string' },
  session: { type: 'string' },
  timeout: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  project: { type: 'string' },
  print: { type: 'boolean' },
  'no-say': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface RemoteIo {
  err: (s: string) => void;
  out: (s: string) => void;
}
const stdio: RemoteIo = { err: (s) => process.stderr.write(s), out: (s) => process.stdout.write(s) };

/**
 * The CLI's early branch. Returns an exit code when the arguments are a remote call
 * (or `remote-shell`), undefined when they are for the local CLI: e.g. RELAY_REMOTE
 * is set but the command is the relay itself, or doctor (which checks a remote itself).
 */
export async function remoteEntry(argv: string[], env: NodeJS.ProcessEnv = process.env, io: RemoteIo = stdio): Promise<number | undefined> {
  if (argv[0] === 'remote-guard') {
    const { remoteGuard } = await import('./guard.js');
    return remoteGuard(argv.slice(1), { ...env, RELAY_REMOTE: '' }, io.err);
  }
  const explicit = argv.some((a) => a === '--remote' || a.startsWith('--remote=') || a === 'remote-shell');
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    if (!explicit) return undefined;
    const msg = (err as Error).message.replace(/\s*\n\s*/g, ' ');
    const h = argv.indexOf('hook');
    if (h >= 0 && ['stop', 'notify'].includes(argv[h + 1])) {
      io.err(`relay-tui hook: ${msg}; letting Claude Code go on (this turn is not relayed)\n`);
      return 0;
    }
    io.err(`relay-tui: ${msg} (with --remote)\n  see relay-tui --help\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, sub, ...words] = positionals;
  if (command === 'remote-shell') {
    const { remoteShell } = await import('./shell.js');
    return remoteShell({ root: values.root, noSay: !!values['no-say'], extra: positionals.slice(1), env, io });
  }
  if (command === 'doctor' || command === 'remote-shell') return undefined;
  const flagged = values.remote !== undefined;
  const spec = values.remote ?? env.RELAY_REMOTE?.trim();
  if (!spec) {
    if (!flagged) return undefined;
    io.err('relay-tui: --remote needs [USER@]HOST[:ROOT]\n');
    return 2;
  }
  const hookSub = command === 'hook' ? sub : undefined;
  const remoteable = ['send', 'recv', 'say', 'status'].includes(command ?? '') || ['stop', 'notify', 'install'].includes(hookSub ?? '');
  if (!remoteable) {
    if (!flagged) return undefined;
    io.err(
      `relay-tui: --remote is for send, recv, say, status and hook stop|notify|install${command ? `, not ${command}${sub && command === 'hook' ? ` ${sub}` : ''}` : ''} (the relay itself runs on its own host)\n`,
    );
    return 2;
  }
  if (values.help) {
    io.out(REMOTE_HELP);
    return 0;
  }
  const isHook = hookSub === 'stop' || hookSub === 'notify';
  let target: RemoteTarget;
  try {
    target = parseTarget(spec, values.remote !== undefined ? '--remote' : 'RELAY_REMOTE');
    if (values.root !== undefined) {
      if (target.root !== undefined && target.root !== values.root)
        throw new RemoteUsage(`--root ${values.root} and the root in ${formatTarget(target)} differ: give it once`);
      target = { ...target, root: values.root };
    }
    if (hookSub === 'install') return await installRemote(target, values, env, io);
    const far = farArgv(command!, hookSub, words, values, command === 'hook' ? [] : [sub, ...words].filter((w) => w !== undefined));
    if (far.guarded) {
      // Framed and held open (remote-guard.ts): the far hook ends when this side does.
      const { frame } = await import('./guard.js');
      return await runRemote({
        target,
        argv: far.argv,
        stdinText: frame(await readStdin(10_000, 16 * 1024 * 1024, { keepOpen: true })),
        holdStdin: true,
        readsStdin: false,
        hook: true,
        env,
        io,
      });
    }
    return await runRemote({ target, argv: far.argv, stdinText: far.stdinText, readsStdin: far.readsStdin, hook: isHook, env, io });
  } catch (err) {
    if (err instanceof RemoteSpecError || err instanceof RemoteUsage) {
      io.err(
        isHook ? `relay-tui hook: ${err.message}; letting Claude Code go on (this turn is not relayed)\n` : `relay-tui: ${err.message}\n`,
      );
      return isHook ? 0 : 2;
    }
    throw err;
  }
}

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

/** The far side's argv, rebuilt from what was parsed here (nothing passes through unread). */
function farArgv(
  command: string,
  hookSub: string | undefined,
  hookExtra: string[],
  v: Values,
  text: string[],
): { argv: string[]; stdinText?: string; readsStdin: boolean; guarded?: boolean } {
  const opt = (name: 'session' | 'timeout') => (v[name] !== undefined ? [`--${name}`, v[name] as string] : []);
  const flag = (name: 'wait' | 'json') => (v[name] ? [`--${name}`] : []);
  if (v.project !== undefined || v.print) throw new RemoteUsage('--project and --print are for hook install');
  switch (command) {
    case 'send': {
      if (text.length > 1 && text.includes('-')) throw new RemoteUsage('send takes TEXT or - (stdin), not both');
      // The text travels on stdin: no quoting through the far shell, no length limit of a command line.
      const joined = text.join(' ');
      return {
        argv: ['send', ...opt('session'), '-'],
        stdinText: text.length && joined !== '-' ? joined : undefined,
        readsStdin: !text.length || joined === '-',
      };
    }
    case 'recv':
      return { argv: ['recv', ...opt('session'), ...flag('wait'), ...opt('timeout')], readsStdin: false };
    case 'status':
      return { argv: ['status', ...flag('json')], readsStdin: false };
    case 'say':
      return { argv: ['say', '--', ...text], readsStdin: false };
    default:
      if (hookExtra.length) throw new RemoteUsage(`hook ${hookSub}: unexpected argument ${hookExtra[0]}`);
      // The Stop hook waits for a reply: it runs under remote-guard, which ends it if this side goes away.
      if (hookSub === 'stop')
        return { argv: ['remote-guard', 'hook', 'stop', ...opt('session'), ...opt('timeout')], readsStdin: true, guarded: true };
      return { argv: ['hook', hookSub!, ...opt('session')], readsStdin: true };
  }
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

function localSpawnFailure(r: SshResult, plan: SshPlan): RemoteFailure | undefined {
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

// ------------------------------------------------------------------ doctor, hook install

export interface CheckLine {
  level: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

function localVersion(): string | undefined {
  try {
    return JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * A remote set-up, checked the way the hooks will use it (same ssh command, same
 * options): ssh reaches the host without a prompt, relay-tui runs there, ROOT is a
 * relay root, a relay is running on it, and connections can be shared. For `doctor`.
 */
export async function checkRemote(
  spec: string | RemoteTarget,
  env: NodeJS.ProcessEnv = process.env,
  o: { version?: boolean } = {},
): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  let target: RemoteTarget;
  try {
    target = typeof spec === 'string' ? parseTarget(spec) : spec;
  } catch (err) {
    return [{ level: 'fail', message: (err as Error).message, fix: 'write it as [USER@]HOST[:ROOT]' }];
  }
  const name = formatTarget(target);
  const run = async (argv: string[]) => {
    let plan: SshPlan;
    try {
      plan = planFor(target, argv, env, true);
    } catch (err) {
      return { failure: { kind: 'ssh', line: (err as Error).message } as RemoteFailure };
    }
    const res = await spawnSsh(plan, { stdin: 'ignore', capture: true, timeoutMs: 30_000 });
    return { res, failure: localSpawnFailure(res, plan) ?? classifyFailure(res.code, res.stderr, target) };
  };
  // The version probe costs a round trip; hook install skips it (status --json finds the same failures).
  const version = o.version === false ? undefined : await run(['--version']);
  if (version?.failure) {
    const fix: Record<string, string> = {
      unreachable: 'check the host name, that sshd runs there, and the port (ssh_config or RELAY_SSH)',
      auth: `add this machine's public key to ~/.ssh/authorized_keys on ${target.host} (see README: Sessions on other machines)`,
      hostkey: `ssh ${target.host} once by hand and check the key fingerprint`,
      'not-installed': `install relay-tui on ${target.host}, or set RELAY_REMOTE_BIN`,
    };
    lines.push({ level: 'fail', message: version.failure.line, fix: fix[version.failure.kind] });
    return lines;
  }
  if (version?.res) {
    const farVersion = version.res.stdout.trim();
    const mine = localVersion();
    const there =
      version.res.code === 0
        ? `relay-tui ${farVersion || '?'} there`
        : 'relay-tui there does not answer --version (a command=-restricted key?)';
    lines.push({ level: 'ok', message: `ssh reaches ${target.host} with no prompt (${Math.round(version.res.ms)} ms); ${there}` });
    if (mine && /^\d+\.\d+/.test(farVersion) && farVersion !== mine) {
      lines.push({
        level: 'warn',
        message: `relay-tui ${farVersion} on ${target.host}, ${mine} here`,
        fix: 'install the same version on both machines',
      });
    }
  }
  const status = await run(['status', '--json']);
  if (status.failure) {
    lines.push({
      level: 'fail',
      message: status.failure.line,
      fix:
        status.failure.kind === 'not-root'
          ? `start the relay on ${target.host}: relay-tui --no-ui --root ${target.root ?? 'DIR'}`
          : undefined,
    });
  } else {
    let s: { running?: boolean; pid?: number; state?: string } | undefined;
    try {
      s = JSON.parse(status.res!.stdout);
    } catch {
      s = undefined;
    }
    if (!s)
      lines.push({
        level: 'fail',
        message: `status on ${name} did not answer with JSON (exit ${status.res!.code}): ${status.res!.stderr.trim().split('\n')[0] ?? ''}`,
      });
    else if (s.running) lines.push({ level: 'ok', message: `relay running on ${name} (pid ${s.pid}, ${s.state})` });
    else
      lines.push({
        level: 'warn',
        message: `no relay running on ${name}: hooks will let each turn end unrelayed`,
        fix: `start it there: relay-tui --no-ui${target.root ? ` --root ${target.root}` : ''}`,
      });
  }
  const dir = controlDir(env);
  if (dir === 'given') lines.push({ level: 'ok', message: `ssh connection sharing as RELAY_SSH sets it (${env.RELAY_SSH})` });
  else if (dir) lines.push({ level: 'ok', message: `ssh connections are shared (ControlMaster; sockets in ${dir})` });
  else
    lines.push({
      level: 'warn',
      message: 'no private, short directory for ssh control sockets: every hook call opens a new connection',
      fix: 'set XDG_RUNTIME_DIR, or create ~/.ssh with mode 700',
    });
  return lines;
}

async function installRemote(target: RemoteTarget, v: Values, env: NodeJS.ProcessEnv, io: RemoteIo): Promise<number> {
  if (!target.root || !target.root.startsWith('/')) {
    throw new RemoteUsage(
      `hook install --remote needs the relay root's absolute path on ${target.host}: --remote ${formatTarget({ ...target, root: '/ABSOLUTE/PATH' })} (a hook must not depend on the far side's current directory)`,
    );
  }
  const { installCommand } = await import('../hook/install.js');
  const carried: Record<string, string> = {};
  for (const k of ['RELAY_SSH', 'RELAY_REMOTE_BIN', 'RELAY_SESSION_HOST'] as const) if (env[k]) carried[k] = env[k]!;
  const code = installCommand(
    { session: v.session, project: v.project, print: !!v.print, remote: { target: formatTarget(target), env: carried } },
    io,
  );
  if (code !== 0 || v.print) return code;
  for (const l of await checkRemote(target, env, { version: false })) {
    if (l.level !== 'ok') io.err(`relay-tui hook install: note: ${l.message}${l.fix ? ` (${l.fix})` : ''}\n`);
  }
  return 0;
}
