import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The ssh side of remote sessions (README: "Sessions on other machines"): the target
 * `[USER@]HOST[:ROOT]`, the ssh argv (from $RELAY_SSH like GIT_SSH_COMMAND, else
 * `ssh`), the command the far side runs, and ssh's failures read back as one line
 * each. Pure functions except for the control-socket directory; nothing here spawns.
 */

export interface RemoteTarget {
  user?: string;
  host: string;
  /** As given: absolute, `~/...`, or relative to the far side's home (like scp). */
  root?: string;
}

export class RemoteSpecError extends Error {}

const USER_RE = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;
// A name from DNS or ssh_config; never starting with '-' (ssh would read an option).
const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/;
const IPV6_RE = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?$/;

export function parseTarget(spec: string, from = '--remote'): RemoteTarget {
  const bad = (why: string) =>
    new RemoteSpecError(`${from} ${JSON.stringify(spec)}: ${why} (expected [USER@]HOST[:ROOT], e.g. jc@workstation:/home/jc/relay)`);
  if (!spec) throw bad('empty');
  let rest = spec;
  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER_RE.test(user)) throw bad(`${JSON.stringify(user)} is not a user name`);
  }
  let host: string;
  let root: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw bad('an IPv6 address opened with [ is not closed with ]');
    host = rest.slice(1, close);
    if (!IPV6_RE.test(host)) throw bad(`${JSON.stringify(host)} is not an IPv6 address`);
    const after = rest.slice(close + 1);
    if (after && !after.startsWith(':')) throw bad(`unexpected ${JSON.stringify(after)} after the address`);
    root = after ? after.slice(1) : undefined;
  } else {
    const colon = rest.indexOf(':');
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    root = colon >= 0 ? rest.slice(colon + 1) : undefined;
    if (!HOST_RE.test(host)) throw bad(host ? `${JSON.stringify(host)} is not a host name` : 'no host');
  }
  if (root !== undefined) {
    if (!root) throw bad('nothing after ":" (leave the colon out to use the far side\'s default root)');
    if (/[\0\n\r]/.test(root)) throw bad('the root contains a newline or NUL');
  }
  return { user, host, root };
}

export function formatTarget(t: RemoteTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user ? `${t.user}@` : ''}${host}${t.root ? `:${t.root}` : ''}`;
}

// ------------------------------------------------------------------ words

export class ShellWordsError extends Error {}

/**
 * Splits a command line the way sh would split one simple command: quotes, backslashes,
 * and (with `env`) $VAR, ${VAR} and a leading ~ expanded — enough for RELAY_SSH and
 * GIT_SSH_COMMAND-style values such as `ssh -F ~/.ssh/relay_config -i "$HOME/key"`.
 * Anything sh would do more with (pipes, ;, &&, redirections, $(...), backticks, globs)
 * is refused rather than guessed: relay-tui runs no shell. Without `env` (a command
 * line from the far end), a $ outside single quotes is refused too.
 */
export function splitShellWords(line: string, o: { env?: NodeJS.ProcessEnv; home?: string | null } = {}): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const refuse = (what: string) =>
    new ShellWordsError(`${what} at character ${i + 1} of ${JSON.stringify(line)}: shell syntax is not run here`);
  const expand = (): string => {
    if (!o.env) throw refuse('a $ expansion');
    const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(line.slice(i));
    if (!m) throw refuse('a $ that is not $NAME or ${NAME}');
    i += m[0].length;
    return o.env[m[1] ?? m[2]] ?? '';
  };
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    if (!inWord && c === '~' && o.home !== null && (line[i + 1] === '/' || i + 1 === line.length || /\s/.test(line[i + 1]))) {
      cur = o.home ?? os.homedir();
      inWord = true;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw refuse('an unclosed single quote');
      cur += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw refuse('an unclosed double quote');
        const d = line[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1])) {
          if (line[i + 1] !== '\n') cur += line[i + 1];
          i += 2;
        } else if (d === '$') cur += expand();
        else if (d === '`') throw refuse('a backtick');
        else {
          cur += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw refuse('a trailing backslash');
      if (line[i + 1] !== '\n') cur += line[i + 1];
      i += 2;
    } else if (c === '$') cur += expand();
    else if ('|&;<>()`*?'.includes(c) || (c === '#' && cur === '' && (i === 0 || /\s/.test(line[i - 1])))) {
      throw refuse(`a ${JSON.stringify(c)}`);
    } else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** POSIX shell quoting for a word the far side's shell will read (only where needed). */
export function quoteWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Like quoteWord, but a leading ~/ stays unquoted so the far side's shell expands it to its home. */
export function quoteFarPath(s: string): string {
  if (s === '~') return '~';
  return s.startsWith('~/') ? `~/${s.length > 2 ? quoteWord(s.slice(2)) : ''}` : quoteWord(s);
}

// ------------------------------------------------------------------ argv

/** Defaults come after $RELAY_SSH's own words: ssh takes the first value of an option, so the user's -o wins. */
export const CONNECT_TIMEOUT_S = 10;
export const CONTROL_PERSIST_S = 600;

export interface SshPlan {
  /** argv[0] and the rest, for spawn without a shell. */
  file: string;
  args: string[];
  /** The one string the far side's shell runs. */
  remoteCommand: string;
}

export interface SshPlanInput {
  target: RemoteTarget;
  /** relay-tui's own arguments on the far side, without --root (added from the target). */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** The name this machine goes by at the relay (envelope `host`). */
  sessionHost?: string;
  /** ssh -n: the command reads nothing, so ssh must not eat the caller's stdin. */
  noStdin?: boolean;
  /** Where the connection-sharing socket lives; undefined turns sharing off, 'given' leaves ControlPath to $RELAY_SSH. */
  controlDir?: string | 'given';
}

export function sshBaseCommand(env: NodeJS.ProcessEnv): string[] {
  const raw = env.RELAY_SSH?.trim();
  if (!raw) return ['ssh'];
  let words: string[];
  try {
    words = splitShellWords(raw, { env, home: env.HOME });
  } catch (err) {
    throw new RemoteSpecError(`RELAY_SSH: ${(err as Error).message}; put the command in a script and set RELAY_SSH to its path`);
  }
  if (!words.length) return ['ssh'];
  return words;
}

/** The far side's program: $RELAY_REMOTE_BIN split into words (its ~/ left for the far shell), else relay-tui. */
export function remoteProgram(env: NodeJS.ProcessEnv): string[] {
  const raw = env.RELAY_REMOTE_BIN?.trim();
  if (!raw) return ['relay-tui'];
  try {
    // No local expansion: the value names things on the far side, whose shell expands ~/.
    return splitShellWords(raw, { home: null });
  } catch (err) {
    throw new RemoteSpecError(`RELAY_REMOTE_BIN: ${(err as Error).message}`);
  }
}

export function buildSshPlan(i: SshPlanInput): SshPlan {
  const base = sshBaseCommand(i.env);
  // --root goes before a `--` (say's words), or it would be read as one of them.
  const end = i.argv.indexOf('--') < 0 ? i.argv.length : i.argv.indexOf('--');
  const rootArgs = i.target.root !== undefined ? ['--root', i.target.root] : [];
  const farArgv = [...i.argv.slice(0, end), ...rootArgs, ...i.argv.slice(end)];
  // `env` puts the variables in place whatever the far login shell is; RELAY_REMOTE is
  // emptied so a far side that exports it (shared dotfiles) cannot bounce the call on.
  const envWords = ['env', 'RELAY_REMOTE=', ...(i.sessionHost ? [`RELAY_SESSION_HOST=${i.sessionHost}`] : [])];
  const remoteCommand = [
    ...envWords.map(quoteWord),
    ...remoteProgram(i.env).map(quoteFarPath),
    ...farArgv.map((w, k) => (k > 0 && farArgv[k - 1] === '--root' ? quoteFarPath(w) : quoteWord(w))),
  ].join(' ');
  const opts = [
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${CONNECT_TIMEOUT_S}`,
    '-o',
    'ServerAliveInterval=30',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'LogLevel=ERROR',
    ...(i.controlDir
      ? [
          '-o',
          'ControlMaster=auto',
          ...(i.controlDir !== 'given' ? ['-o', `ControlPath=${path.join(i.controlDir, 'relay-tui-%C')}`] : []),
          '-o',
          `ControlPersist=${CONTROL_PERSIST_S}`,
        ]
      : []),
    '-T',
    ...(i.noStdin ? ['-n'] : []),
    ...(i.target.user ? ['-l', i.target.user] : []),
  ];
  return { file: base[0], args: [...base.slice(1), ...opts, '--', i.target.host, remoteCommand], remoteCommand };
}

// ------------------------------------------------------------------ connection sharing

/** Unix socket paths are short (108 bytes on Linux), and ssh adds ".XXXXXXXXXXXXXXXX" while it creates one. */
const MAX_CONTROL_DIR = 108 - '/relay-tui-'.length - 40 - 18;

function privateDir(dir: string, create: boolean): boolean {
  try {
    if (create) fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  // Someone else's directory, a symlink or a shared mode would let another user hijack the socket.
  return !!st && st.isDirectory() && (st.mode & 0o077) === 0 && st.uid === (process.getuid?.() ?? st.uid);
}

/**
 * Where connection-sharing sockets go: $XDG_RUNTIME_DIR/relay-tui, else ~/.ssh, else
 * a private dir under the temp dir. undefined (sharing off) when none is private and
 * short enough; $RELAY_SSH can always override with -o ControlPath=...
 */
export function controlDir(env: NodeJS.ProcessEnv = process.env): string | 'given' | undefined {
  // RELAY_SSH chose its own socket (or none): make no directory for it.
  if (/ControlPath/i.test(env.RELAY_SSH ?? '')) return 'given';
  const candidates: Array<[string, boolean]> = [];
  if (env.XDG_RUNTIME_DIR) candidates.push([path.join(env.XDG_RUNTIME_DIR, 'relay-tui'), true]);
  const home = env.HOME || os.homedir();
  if (home) candidates.push([path.join(home, '.ssh'), false]);
  candidates.push([path.join(os.tmpdir(), `relay-tui-ssh-${process.getuid?.() ?? 'u'}`), true]);
  for (const [dir, create] of candidates) {
    if (dir.length <= MAX_CONTROL_DIR && privateDir(dir, create)) return dir;
  }
  return undefined;
}

// ------------------------------------------------------------------ failures

export type FailureKind = 'unreachable' | 'auth' | 'hostkey' | 'not-installed' | 'not-root' | 'ssh';

export interface RemoteFailure {
  kind: FailureKind;
  /** One line, naming the host (and root) and what to do. */
  line: string;
}

/**
 * Reads ssh's exit status and stderr back as what failed. 255 is ssh's own failure;
 * 127/126 come from the far shell when the program is missing or not executable; the
 * far relay-tui refuses a folder that is not a relay root with exit 2. Anything else
 * is the far command's own result, passed through untouched (undefined here).
 */
export function classifyFailure(code: number, stderr: string, t: RemoteTarget): RemoteFailure | undefined {
  const where = formatTarget({ ...t, root: undefined });
  const lastLine = (re?: RegExp) => {
    const lines = stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return (re ? lines.find((l) => re.test(l)) : undefined) ?? lines[lines.length - 1] ?? '';
  };
  if (code === 255) {
    if (/Permission denied|Too many authentication failures|no mutual signature|Authentication failed/i.test(stderr)) {
      return {
        kind: 'auth',
        line: `${where} refused the ssh login${t.user ? ` as ${t.user}` : ''} (${lastLine(/Permission denied|authentication|signature/i).replace(/^[^:]*:\s*/, '')}): this machine's key is not in authorized_keys there, or ssh-agent has no key (BatchMode: no password is asked)`,
      };
    }
    if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No (?:ED25519|RSA|ECDSA)? ?host key is known/i.test(stderr)) {
      return {
        kind: 'hostkey',
        line: `${where}: the host key is not known here or has changed; connect once by hand (ssh ${t.host}) to check and accept it`,
      };
    }
    const unreachable: Array<[RegExp, string]> = [
      [/Connection refused/i, 'connection refused (is sshd running there, on that port?)'],
      [
        /Could not resolve hostname|Name or service not known|nodename nor servname|Temporary failure in name resolution/i,
        'the name does not resolve',
      ],
      [/timed out|Operation timed out/i, `no answer within ${CONNECT_TIMEOUT_S} s`],
      [/No route to host|Network is unreachable|Host is down/i, 'no route to the host'],
      [
        /Connection closed by|Connection reset|kex_exchange_identification|Broken pipe|Connection to .* closed/i,
        'the connection was closed',
      ],
    ];
    for (const [re, why] of unreachable)
      if (re.test(stderr)) return { kind: 'unreachable', line: `cannot reach ${where} over ssh: ${why}` };
    const last = lastLine();
    return { kind: 'ssh', line: `ssh to ${where} failed${last ? `: ${last}` : ' (exit 255)'}` };
  }
  if (
    code === 127 ||
    code === 126 ||
    (code !== 0 &&
      /relay-tui(\.js)?[^\n]*(command not found|No such file or directory|not found|Permission denied)/.test(stderr) &&
      !/relay root/i.test(stderr))
  ) {
    return {
      kind: 'not-installed',
      line: `relay-tui is not installed on ${where} (${lastLine(/not found|No such file|Permission denied|Cannot find module/i)}); install it there, or set RELAY_REMOTE_BIN to its path on that machine`,
    };
  }
  if (code !== 0 && /Cannot find module .*relay-tui|Cannot find module .*dist\/cli(\/main)?\.js/i.test(stderr)) {
    return {
      kind: 'not-installed',
      line: `relay-tui on ${where} is not built or is broken (${lastLine(/Cannot find module/i)}); run npm run build there, or fix RELAY_REMOTE_BIN`,
    };
  }
  if (code === 2 && /not a relay root/i.test(stderr)) {
    return {
      kind: 'not-root',
      line: `${t.root ?? 'the default root'} on ${where} is not a relay root (${lastLine(/not a relay root/i).replace(/^relay-tui[^:]*:\s*/, '')}); start the relay there first (relay-tui --no-ui --root DIR), or fix the :ROOT part`,
    };
  }
  return undefined;
}

/** The name this machine goes by in the relay's status (envelope `host`). */
export function sessionHostName(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.RELAY_SESSION_HOST?.trim();
  const name = given || os.hostname() || 'unknown-host';
  return name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 253);
}
