import { mergeEnv, readDotenv, type RelayEnv } from '../../config/env.js';
import type { Config } from '../../config/schema.js';
import { rootPaths } from '../../protocol/root.js';
import { checkBackend } from './checks-backend.js';
import { checkClaudeCode, checkProjectHooks } from './checks-claude.js';
import { bad, checkConfig, checkInotify, checkLayout, checkNode, type Finding } from './checks-local.js';
import { checkApi, checkNtfy } from './checks-net.js';
import { checkRemote } from '../remote/check.js';
import { chooseRoot } from '../require-root.js';

/**
 * `relay-tui doctor`: checks a set-up before it is trusted at 2 a.m., one line per
 * finding, ok / warn / fail with the fix. Read-only: it creates nothing, writes
 * nothing, and spends nothing (the API check is count_tokens, which is free). Every
 * check is bounded, the network ones run side by side, so it answers in seconds.
 */

export interface DoctorOptions {
  root?: string;
  projects: string[];
  configFile?: string;
  /** Per network check and for `claude --version`. */
  timeoutS?: number;
  /** [USER@]HOST[:ROOT] of a relay on another machine (else $RELAY_REMOTE): checked the way the hooks will reach it. */
  remote?: string;
  env?: NodeJS.ProcessEnv;
  write?: (s: string) => void;
}

const DEFAULT_TIMEOUT_S = 8;
/** checkRemote bounds each ssh round trip at 30 s itself; its few round trips together get this. */
const REMOTE_BOUND_MS = 95_000;

/** A check that overruns its bound becomes a failure line instead of a hang. */
function bounded(name: string, ms: number, run: () => Promise<Finding[]>): Promise<Finding[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Finding[]>((resolve) => {
    timer = setTimeout(
      () => resolve([bad(`${name}: no answer within ${Math.round(ms / 1000)} s`, 'check the network; run relay-tui doctor again')]),
      ms,
    );
  });
  const done = run().catch((err: unknown) => [bad(`${name}: ${(err as Error)?.message ?? String(err)}`)]);
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

export function formatFinding(f: Finding): string {
  const tag = f.level === 'ok' ? 'ok  ' : f.level;
  return `${tag}  ${f.text}${f.fix ? `\n      fix: ${f.fix}` : ''}`;
}

export async function runDoctor(o: DoctorOptions): Promise<Finding[]> {
  const env = o.env ?? process.env;
  const timeoutMs = (o.timeoutS ?? DEFAULT_TIMEOUT_S) * 1000;
  const chosen = chooseRoot(o.root, env);
  const paths = rootPaths(chosen.dir);
  const out: Finding[] = [checkNode()];
  const layout = checkLayout(chosen, paths);
  out.push(...layout.findings);

  let config: Config | undefined;
  let relayEnv: RelayEnv = mergeEnv({}, env);
  if (layout.isRoot) {
    const c = checkConfig(o.configFile ?? paths.config);
    out.push(c.finding);
    config = c.config;
    try {
      relayEnv = mergeEnv(readDotenv(paths.env), env);
    } catch (err) {
      out.push(bad(`cannot read ${paths.env}: ${(err as Error).message}`, `make it a readable regular file (chmod 600 ${paths.env})`));
    }
  }

  // The slow checks side by side; each gets a little more than its own timeout as a hard bound.
  const bound = timeoutMs + 2000;
  const remote = o.remote ?? (env.RELAY_REMOTE || undefined);
  // On backend claude-code the relay needs no API key: Claude Code's own sign-in is checked instead.
  const onClaudeCode = config?.chat.backend === 'claude-code';
  const [api, ntfy, claude, far, backend] = await Promise.all([
    onClaudeCode
      ? Promise.resolve([])
      : bounded('the Messages API check', bound, () => checkApi(relayEnv, config?.model, timeoutMs, paths.env)),
    bounded('the ntfy check', bound, () => checkNtfy(relayEnv, Math.min(timeoutMs, 5000), paths.env)),
    bounded('claude --version', bound, async () => [await checkClaudeCode(Math.min(timeoutMs, 5000), env)]),
    remote === undefined
      ? Promise.resolve([])
      : bounded(`the remote check of ${remote}`, REMOTE_BOUND_MS, async () =>
          (await checkRemote(remote, env)).map((l) => ({ level: l.level, text: `remote: ${l.message}`, ...(l.fix ? { fix: l.fix } : {}) })),
        ),
    config
      ? bounded('the backend check', 2 * bound, () => checkBackend(config.chat, Math.min(timeoutMs, 10_000), env))
      : Promise.resolve([]),
  ]);
  out.push(...api, ...backend, ...ntfy, ...checkInotify());
  for (const project of o.projects) out.push(...checkProjectHooks(project, chosen.dir, config));
  out.push(...claude, ...far);
  return out;
}

export async function doctorCommand(o: DoctorOptions): Promise<number> {
  const write = o.write ?? ((s: string) => process.stdout.write(s));
  const findings = await runDoctor(o);
  for (const f of findings) write(formatFinding(f) + '\n');
  const fails = findings.filter((f) => f.level === 'fail').length;
  const warns = findings.filter((f) => f.level === 'warn').length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  write(
    fails
      ? `\n${plural(fails, 'failure')}, ${plural(warns, 'warning')}: fix the failures before trusting this set-up\n`
      : `\nno failures${warns ? `, ${plural(warns, 'warning')}` : ''}\n`,
  );
  return fails ? 1 : 0;
}
