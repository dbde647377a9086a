import fs from 'node:fs';
import { readStdin } from '../hook/io.js';
import { parseArgs } from 'node:util';
import { formatTarget, parseTarget, RemoteSpecError, type RemoteTarget } from '../../adapters/ssh.js';
import { checkRemote } from './check.js';
import { runRemote, type RemoteIo } from './ssh-run.js';

/**
 * `--remote [USER@]HOST[:ROOT]` (or $RELAY_REMOTE): the session-side commands run on
 * the relay's host over ssh, as `relay-tui <same command> --root ROOT` there. stdin and
 * stdout go straight through, the exit code is the far command's; an ssh failure is
 * one line saying what failed. The hooks exit 0 whatever happens (the session just is
 * not relayed), like they do locally with the relay down.
 */

export const REMOTE_HELP = `Remote sessions (the relay on another machine, reached over ssh):
  relay-tui send   --remote [USER@]HOST[:ROOT] --session ID [--evidence FILE] [TEXT|-]
  relay-tui recv   --remote ... --session ID [--wait] [--timeout S]
  relay-tui say    --remote ... TEXT...
  relay-tui status --remote ... [--json]
  relay-tui hook stop|notify|prompt --remote ... --session ID [--timeout S]
  relay-tui hook install --remote [USER@]HOST:/ABSOLUTE/ROOT --session ID [--project DIR] [--timeout S] [--print]
  relay-tui remote-shell --root DIR [--no-say]   the forced command of a restricted authorized_keys line

  $RELAY_REMOTE       the target when --remote is not given
  $RELAY_SSH          the ssh command (like GIT_SSH_COMMAND), e.g. "ssh -F ~/.ssh/relay_config"
  $RELAY_REMOTE_BIN   relay-tui's command on the far side (default: relay-tui from its PATH)
  $RELAY_SESSION_HOST the name this machine shows under at the relay (default: its hostname)
Exit codes: the far command's; 255 when ssh itself failed, 127 when relay-tui is not
installed there; hook stop/notify/prompt always 0. The late-reply waiter:
  relay-tui-hook-wait.js --remote ... --session ID   (hook install --remote writes it)
`;

class RemoteUsage extends Error {}

const OPTIONS = {
  remote: { type: 'string' },
  root: { type: 'string' },
  session: { type: 'string' },
  evidence: { type: 'string' },
  timeout: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  project: { type: 'string' },
  print: { type: 'boolean' },
  'no-say': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

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
    if (h >= 0 && ['stop', 'notify', 'prompt'].includes(argv[h + 1])) {
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
  const remoteable =
    ['send', 'recv', 'say', 'status'].includes(command ?? '') || ['stop', 'notify', 'prompt', 'install'].includes(hookSub ?? '');
  if (!remoteable) {
    if (!flagged) return undefined;
    io.err(
      `relay-tui: --remote is for send, recv, say, status and hook stop|notify|prompt|install${command ? `, not ${command}${sub && command === 'hook' ? ` ${sub}` : ''}` : ''} (the relay itself runs on its own host)\n`,
    );
    return 2;
  }
  if (values.help) {
    io.out(REMOTE_HELP);
    return 0;
  }
  const isHook = hookSub === 'stop' || hookSub === 'notify' || hookSub === 'prompt';
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
      const [{ frame }, { withSessionEvidence }] = await Promise.all([import('./guard.js'), import('./evidence.js')]);
      // The turn's digest is built here, where its transcript and work tree are (remote/evidence.ts).
      const stop = await withSessionEvidence(await readStdin(10_000, 16 * 1024 * 1024, { keepOpen: true }), env);
      return await runRemote({
        target,
        argv: far.argv,
        stdinText: frame(stop),
        holdStdin: true,
        readsStdin: false,
        hook: true,
        env,
        io,
      });
    }
    if (values.evidence !== undefined) {
      // Read and checked here as a local send would, then framed with the text (`send --evidence -` there).
      const stdinText = await sendEvidenceStdin(values.evidence, far.stdinText, env, io.err);
      return await runRemote({ target, argv: far.argv, stdinText, readsStdin: false, hook: false, env, io });
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
  if (v.evidence !== undefined && command !== 'send') throw new RemoteUsage('--evidence is for send');
  switch (command) {
    case 'send': {
      if (text.length > 1 && text.includes('-')) throw new RemoteUsage('send takes TEXT or - (stdin), not both');
      // The text travels on stdin: no quoting through the far shell, no length limit of a command line.
      const joined = text.join(' ');
      // With --evidence, both go framed on stdin (remote/evidence.ts): the far side reads `-` as that.
      if (v.evidence !== undefined)
        return {
          argv: ['send', ...opt('session'), '--evidence', '-'],
          stdinText: text.length && joined !== '-' ? joined : undefined,
          readsStdin: false,
        };
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

async function installRemote(target: RemoteTarget, v: Values, env: NodeJS.ProcessEnv, io: RemoteIo): Promise<number> {
  if (!target.root || !target.root.startsWith('/')) {
    throw new RemoteUsage(
      `hook install --remote needs the relay root's absolute path on ${target.host}: --remote ${formatTarget({ ...target, root: '/ABSOLUTE/PATH' })} (a hook must not depend on the far side's current directory)`,
    );
  }
  const { installCommand } = await import('../hook/install.js');
  const carried: Record<string, string> = {};
  for (const k of ['RELAY_SSH', 'RELAY_REMOTE_BIN', 'RELAY_SESSION_HOST'] as const) if (env[k]) carried[k] = env[k]!;
  // The Stop hook's window, checked as the local install does; the far `hook stop` gets it as --timeout.
  const timeoutS = v.timeout === undefined ? undefined : Number(v.timeout);
  if (timeoutS !== undefined && (v.timeout!.trim() === '' || !Number.isFinite(timeoutS) || timeoutS < 0))
    throw new RemoteUsage(`--timeout takes a number, got ${v.timeout}`);
  const code = installCommand(
    { session: v.session, project: v.project, print: !!v.print, timeoutS, remote: { target: formatTarget(target), env: carried } },
    io,
  );
  if (code !== 0 || v.print) return code;
  for (const l of await checkRemote(target, env, { version: false })) {
    if (l.level !== 'ok') io.err(`relay-tui hook install: note: ${l.message}${l.fix ? ` (${l.fix})` : ''}\n`);
  }
  return 0;
}

/**
 * The client half of `send --remote --evidence FILE`: the file read and checked here as a local
 * send reads it (a link, a FIFO or a missing file refused with the same words, JSON of another
 * shape sent as text with the same warning), before the text is read from stdin, as locally;
 * then both framed for the far `send --evidence -`.
 */
async function sendEvidenceStdin(
  file: string,
  text: string | undefined,
  env: NodeJS.ProcessEnv,
  err: (s: string) => void,
): Promise<string> {
  const [{ readEvidenceFile }, { evidenceFromFile }, { secretValues }, { CARRY_MAX_BYTES, sendFrames }] = await Promise.all([
    import('../send-recv.js'),
    import('../hook/evidence/digest.js'),
    import('../hook/evidence/redact.js'),
    import('./evidence.js'),
  ]);
  const buf = readEvidenceFile(file);
  const { evidence, warning } = evidenceFromFile(buf.toString('utf8'), CARRY_MAX_BYTES, secretValues(env));
  if (warning) err(`relay-tui send: --evidence ${file}: ${warning}\n`);
  return sendFrames(text ?? fs.readFileSync(0, 'utf8'), evidence);
}
