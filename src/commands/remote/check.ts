import fs from 'node:fs';
import {
  classifyFailure,
  controlDir,
  formatTarget,
  parseTarget,
  type RemoteFailure,
  type RemoteTarget,
  type SshPlan,
} from '../../adapters/ssh.js';
import { localSpawnFailure, planFor, spawnSsh } from './ssh-run.js';

/** The remote set-up's checks, for doctor and for hook install --remote's notes. */

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
