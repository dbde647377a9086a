import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfinementError, InputError } from './adapters/confine.js';
import { LockHeldError } from './adapters/lock.js';
import { RootFault, SessionFault } from './engine/faults.js';
import { ConfigError } from './config/load.js';
import { runView } from './cli-view.js';
import { MissingKeyError, openPaths, openRelay } from './open.js';

/**
 * Arguments to one command, and the one place that turns errors into exit codes:
 * 0 ok, 1 failure (recv timeout), 2 usage or no TTY, 3 another relay holds the
 * root, 4 bad config or missing key. Only the TUI path imports Ink and React.
 */

const HELP = `relay-tui: relay between Claude Code sessions and one chat-Claude conversation

Usage:
  relay-tui [--root DIR] [--config FILE]      the TUI: relay loop in-process, panes, prompt line
  relay-tui --no-ui [--root DIR] [--log-json] the same loop headless: logs to stdout and logs/relay.log
  relay-tui --demo [--root DIR] [--no-ui]     try it with no API key: simulated chat-Claude and sessions
  relay-tui status [--json]                   read state/status.json (works with the relay down)
  relay-tui cost [--days N] [--json]          spend by day and by session, from the ledger
  relay-tui topic                             print the ntfy subscription URL
  relay-tui say TEXT...                       operator input from another shell
  relay-tui send --session ID [TEXT|-]        a session's side: enqueue an envelope atomically
  relay-tui recv --session ID [--wait] [--timeout S]   print and consume the session's reply
  relay-tui hook stop|notify|install ...      Claude Code hooks (see README: Connect a Claude Code session)

Options:
  --root DIR      the relay root (default: $RELAY_ROOT, else the current directory)
  --config FILE   config file (default: ROOT/config.yaml)
  -h, --help      this help
  -v, --version   the version

Operator input (prompt line, state/jc_input.txt, relay-tui say):
  @session-1: text   send text straight to a session (no API call)
  plain text         a turn from you to chat-Claude; answers a [NEEDS-JC] pause
  /approve /drop     dispatch or discard the held reply
  /pause /resume     stop and restart taking envelopes (also after a guardrail or error)
  /budget USD        raise today's budget      /allow SESSION N   N more automatic turns
  /quit              leave the TUI
`;

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return pkg.version;
}

class UsageError extends Error {}

function fail(message: string, code: number): number {
  process.stderr.write(`relay-tui: ${message}\n`);
  return code;
}

async function main(argv: string[]): Promise<number> {
  // Remote sessions (--remote, RELAY_REMOTE, remote-shell) go over ssh: src/commands/remote.ts.
  if (process.env.RELAY_REMOTE || argv.some((a) => a === '--remote' || a.startsWith('--remote=') || a === 'remote-shell' || a === 'remote-guard')) {
    const code = await (await import('./commands/remote.js')).remoteEntry(argv);
    if (code !== undefined) return code;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      root: { type: 'string' },
      config: { type: 'string' },
      'no-ui': { type: 'boolean' },
      demo: { type: 'boolean' },
      'log-json': { type: 'boolean' },
      json: { type: 'boolean' },
      session: { type: 'string' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      days: { type: 'string' },
      project: { type: 'string' },
      print: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} takes a number of seconds, got ${v}`);
    return n;
  };
  const needSession = () => {
    if (!values.session) throw new UsageError(`${command} needs --session ID`);
    return values.session;
  };

  switch (command) {
    case undefined:
      break;
    case 'status':
      return (await import('./commands/status.js')).statusCommand(openPaths(values.root), !!values.json);
    case 'cost':
      return (await import('./commands/cost.js')).costCommand(openPaths(values.root), num(values.days, 'days') ?? 14, !!values.json);
    case 'topic':
      return (await import('./commands/topic.js')).topicCommand(openPaths(values.root));
    case 'say':
      return (await import('./commands/say.js')).sayCommand(openPaths(values.root), rest);
    case 'send':
      return (await import('./commands/send-recv.js')).sendCommand(openPaths(values.root), needSession(), rest.length ? rest.join(' ') : undefined);
    case 'recv':
      return (await import('./commands/send-recv.js')).recvCommand(openPaths(values.root), needSession(), !!values.wait, num(values.timeout, 'timeout'));
    case 'hook':
      return (await import('./commands/hook.js')).hookCommand(rest, { root: values.root, session: values.session, timeoutS: num(values.timeout, 'timeout'), project: values.project, print: !!values.print });
    default:
      throw new UsageError(`unknown command ${command} (see relay-tui --help)`);
  }

  if (values.demo) {
    const { runDemo } = await import('./demo/run.js');
    return runDemo({ root: values.root, headless: !!values['no-ui'] });
  }
  if (!values['no-ui'] && !process.stdin.isTTY) {
    return fail('the terminal UI needs a TTY (stdin is not a terminal); run `relay-tui --no-ui` for the headless daemon', 2);
  }
  const opened = await openRelay({ root: values.root, configFile: values.config, interactive: !values['no-ui'] });
  return runView(opened, { headless: !!values['no-ui'], json: !!values['log-json'] });
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || (err as any)?.code?.startsWith?.('ERR_PARSE_ARGS')) return fail(`${(err as Error).message}\n  see relay-tui --help`, 2);
  if (err instanceof InputError) return fail(err.message, 2);
  // The root refused something (a link, a FIFO, a full disk): the reason, not a stack.
  if (err instanceof ConfinementError || err instanceof RootFault || err instanceof SessionFault) return fail(err.message, 1);
  if (err instanceof LockHeldError) return fail(`${err.message}: stop it first (kill ${err.holder.pid}), or use another --root`, 3);
  if (err instanceof ConfigError) return fail(`config error: ${err.message}`, 4);
  if (err instanceof MissingKeyError) return fail(err.message, 4);
  return fail(`${(err as Error)?.stack ?? err}`, 1);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = exitCodeFor(err);
  },
);
