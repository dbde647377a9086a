import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { splitShellWords } from '../../adapters/ssh.js';
import type { RemoteIo } from './ssh-run.js';

/**
 * `relay-tui remote-shell --root DIR`: the forced command of a restricted
 * authorized_keys line (README: "Security model"). sshd runs it whatever the client
 * asked for and puts the request in $SSH_ORIGINAL_COMMAND; this allows exactly the
 * session-side commands — send (with its evidence only framed on stdin), recv, say, status,
 * hook stop, hook notify, hook prompt, and the late-reply waiter's channel (remote-guard hook
 * wait) — on DIR and nothing
 * else: no shell, no other root, no other option, no other variable.
 */

const ALLOWED = 'send, recv, say, status, hook stop, hook notify, hook prompt, hook wait';

interface Rule {
  options: Record<string, { type: 'string' | 'boolean' }>;
  positionals: (n: number) => boolean;
}

const RULES: Record<string, Rule> = {
  // --evidence only as `-` (the text and the evidence framed on stdin): never a file on this host.
  send: { options: { session: { type: 'string' }, evidence: { type: 'string' } }, positionals: (n) => n <= 1 },
  recv: { options: { session: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } }, positionals: (n) => n === 0 },
  say: { options: {}, positionals: (n) => n >= 1 },
  status: { options: { json: { type: 'boolean' } }, positionals: (n) => n === 0 },
  'hook stop': { options: { session: { type: 'string' }, timeout: { type: 'string' } }, positionals: (n) => n === 0 },
  'hook notify': { options: { session: { type: 'string' } }, positionals: (n) => n === 0 },
  'hook prompt': { options: { session: { type: 'string' } }, positionals: (n) => n === 0 },
  // Only under remote-guard (below); --since is the first channel's start, digits only.
  'hook wait': { options: { session: { type: 'string' }, since: { type: 'string' } }, positionals: (n) => n === 0 },
};

/** Only what relay-tui's own client sends; RELAY_REMOTE must be empty (no onward hop). */
const ENV_RULES: Record<string, RegExp> = { RELAY_REMOTE: /^$/, RELAY_SESSION_HOST: /^[A-Za-z0-9._-]{1,253}$/ };

export class Refused extends Error {}

export interface Allowed {
  argv: string[];
  env: Record<string, string>;
  /** Run under remote-guard (a remote Stop hook; see remote-guard.ts). */
  guard?: boolean;
}

function resolveFar(p: string, home: string): string {
  if (p === '~') return home;
  return path.resolve(home, p.startsWith('~/') ? p.slice(2) : p);
}

/**
 * What a request may run, or Refused saying why. `root` is the one the key is pinned
 * to; a --root in the request must name the same directory.
 */
export function allowRequest(original: string | undefined, root: string, home = os.homedir(), o: { noSay?: boolean } = {}): Allowed {
  if (original === undefined || !original.trim())
    throw new Refused(`this key runs only relay-tui's session commands (${ALLOWED}) on ${root}: no shell`);
  let words: string[];
  try {
    words = splitShellWords(original, { home: null });
  } catch (err) {
    throw new Refused((err as Error).message);
  }
  const env: Record<string, string> = {};
  let i = 0;
  if (words[i] === 'env') i++;
  for (; i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]); i++) {
    const eq = words[i].indexOf('=');
    const [k, v] = [words[i].slice(0, eq), words[i].slice(eq + 1)];
    if (!ENV_RULES[k]?.test(v)) throw new Refused(`variable ${k} is not allowed here`);
    env[k] = v;
  }
  // The program the client named (relay-tui, a path to it, or node and a path to bin/relay-tui.js)
  // is not run: this process runs its own relay-tui. It only marks where the arguments start.
  const prog = words.slice(i, i + 3).findIndex((w) => /^relay-tui(\.js)?$/.test(path.basename(w)));
  if (prog < 0 || words.slice(i, i + prog).some((w) => !/^node(js)?$/.test(path.basename(w)))) {
    throw new Refused(`not a relay-tui command: ${JSON.stringify(words.slice(i).join(' ').slice(0, 80))} (allowed: ${ALLOWED})`);
  }
  let args = words.slice(i + prog + 1);
  const guard = args[0] === 'remote-guard';
  if (guard) {
    args = args.slice(1);
    if (args[0] !== 'hook' || (args[1] !== 'stop' && args[1] !== 'wait'))
      throw new Refused('remote-guard is only for hook stop and hook wait');
  }
  const name = args[0] === 'hook' ? `hook ${args[1] ?? ''}` : (args[0] ?? '');
  if (name === 'hook wait' && !guard) throw new Refused('hook wait runs only under remote-guard (it holds the channel open)');
  const rule = RULES[name];
  if (!rule || (o.noSay && name === 'say'))
    throw new Refused(
      `relay-tui ${name.trim() || '(nothing)'} is not allowed with this key (allowed: ${o.noSay ? ALLOWED.replace('say, ', '') : ALLOWED})`,
    );
  let parsed;
  try {
    parsed = parseArgs({
      args: args.slice(name.split(' ').length),
      options: { ...rule.options, root: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new Refused(`${name}: ${(err as Error).message}`);
  }
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (!rule.positionals(positionals.length)) throw new Refused(`${name}: unexpected arguments`);
  if (typeof values.since === 'string' && !/^\d{1,15}$/.test(values.since)) throw new Refused(`${name}: --since takes milliseconds`);
  if (values.evidence !== undefined && values.evidence !== '-')
    throw new Refused(`${name}: --evidence takes only - here (framed on stdin by send --remote); no file on this host is read`);
  if (typeof values.root === 'string' && resolveFar(values.root, home) !== path.resolve(root)) {
    throw new Refused(`this key may use only the relay root ${root}, not ${values.root}`);
  }
  const argv = [...name.split(' ')];
  for (const [k, spec] of Object.entries(rule.options)) {
    const v = values[k];
    if (v === undefined || v === false) continue;
    argv.push(...(spec.type === 'boolean' ? [`--${k}`] : [`--${k}`, String(v)]));
  }
  argv.push('--root', path.resolve(root));
  if (positionals.length) argv.push('--', ...positionals);
  return guard ? { argv, env, guard } : { argv, env };
}

/** A relay root is a directory the relay has started on: it has its config or its state/. */
function rootProblem(root: string): string | undefined {
  const st = fs.lstatSync(root, { throwIfNoEntry: false });
  if (!st) return 'it does not exist';
  if (!st.isDirectory()) return st.isSymbolicLink() ? 'it is a symlink' : 'it is not a directory';
  const has = (f: string) => fs.existsSync(path.join(root, f));
  if (!has('config.yaml') && !has('state')) return 'it has no config.yaml and no state/ (the relay was never started there)';
  return undefined;
}

export async function remoteShell(o: {
  root?: string;
  noSay?: boolean;
  extra: string[];
  env: NodeJS.ProcessEnv;
  io: RemoteIo;
}): Promise<number> {
  const say = (s: string) => o.io.err(`relay-tui remote-shell: ${s}\n`);
  if (!o.root || o.extra.length) {
    say('usage: relay-tui remote-shell --root DIR [--no-say] (as the command="..." of an authorized_keys line)');
    return 2;
  }
  const root = path.resolve(o.root);
  let allowed: Allowed;
  try {
    allowed = allowRequest(o.env.SSH_ORIGINAL_COMMAND, root, os.homedir(), { noSay: o.noSay });
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    say(`refused: ${err.message}`);
    return 2;
  }
  const problem = rootProblem(root);
  if (problem) {
    say(`${root} is not a relay root (${problem}; chosen by remote-shell --root in authorized_keys)`);
    return 2;
  }
  const bin = fileURLToPath(new URL('../../../bin/relay-tui.js', import.meta.url));
  const env: NodeJS.ProcessEnv = { ...o.env, ...allowed.env, RELAY_REMOTE: '' };
  delete env.SSH_ORIGINAL_COMMAND;
  if (allowed.guard) return (await import('./guard.js')).remoteGuard(allowed.argv, env, o.io.err);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...allowed.argv], { stdio: 'inherit', env });
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const forward = (s: NodeJS.Signals) => child.kill(s);
    for (const s of signals) process.on(s, forward);
    const finish = (code: number) => {
      for (const s of signals) process.off(s, forward);
      resolve(code);
    };
    child.once('error', (err) => {
      say(`cannot start relay-tui: ${err.message}`);
      finish(127);
    });
    child.once('exit', (code, signal) => finish(code ?? (signal === 'SIGINT' ? 130 : 143)));
  });
}
