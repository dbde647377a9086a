import fs from 'node:fs';
import { closest, findCommand, parseOptions, UsageError, type OptTable, type Parsed } from './args.js';
import { COMMAND_HELP, GENERAL_HELP } from './help.js';
import { NotARootError, requireRoot } from '../commands/require-root.js';
import { exitCodeOf, failureOf, failureText } from './exit-codes.js';

/**
 * Arguments to one command, and the one place that exits: a command's own code (0 ok,
 * 1 failure such as a recv timeout or a doctor check), 2 when the TUI has no TTY, and
 * every error through the table in exit-codes.ts (2 usage or not a relay root, 3 another
 * relay holds the root, 4 bad config or missing key). Only the TUI path imports Ink and
 * React, and only through host/tui-entry.ts.
 */

const ROOT: OptTable = { root: { type: 'string', arg: 'DIR' }, help: { type: 'boolean', short: 'h' } };

interface Command {
  options: OptTable;
  run(a: Parsed): Promise<number>;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

const num = (v: unknown, name: string, command: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new UsageError(`--${name} takes a number, got ${String(v)}`, command);
  return n;
};

const needSession = (a: Parsed, command: string): string => {
  const s = str(a.values.session);
  if (!s) throw new UsageError(`${command} needs --session ID`, command);
  return s;
};

const noPositionals = (a: Parsed, command: string) => {
  if (a.positionals.length) throw new UsageError(`${command} takes no argument ${a.positionals[0]}`, command);
};

/** The folder must already be a relay root: only the relay makes one. */
const root = (a: Parsed) => requireRoot(str(a.values.root));

/**
 * One entry per command: its options (anything else is refused, naming the command)
 * and what it runs. A new option for a command is one line in its table.
 */
const COMMANDS: Record<string, Command> = {
  status: {
    options: { ...ROOT, json: { type: 'boolean' } },
    async run(a) {
      noPositionals(a, 'status');
      return (await import('../commands/status.js')).statusCommand(root(a), !!a.values.json);
    },
  },
  cost: {
    options: { ...ROOT, days: { type: 'string', arg: 'N' }, json: { type: 'boolean' } },
    async run(a) {
      noPositionals(a, 'cost');
      const days = num(a.values.days, 'days', 'cost') ?? 14;
      return (await import('../commands/cost.js')).costCommand(root(a), days, !!a.values.json);
    },
  },
  topic: {
    options: ROOT,
    async run(a) {
      noPositionals(a, 'topic');
      return (await import('../commands/topic.js')).topicCommand(root(a));
    },
  },
  say: {
    options: ROOT,
    async run(a) {
      return (await import('../commands/say.js')).sayCommand(root(a), a.positionals);
    },
  },
  send: {
    options: { ...ROOT, session: { type: 'string', arg: 'ID' }, evidence: { type: 'string', arg: 'FILE' } },
    async run(a) {
      const session = needSession(a, 'send');
      const p = root(a);
      const text = a.positionals.length ? a.positionals.join(' ') : undefined;
      return (await import('../commands/send-recv.js')).sendCommand(p, session, text, str(a.values.evidence));
    },
  },
  recv: {
    options: { ...ROOT, session: { type: 'string', arg: 'ID' }, wait: { type: 'boolean' }, timeout: { type: 'string', arg: 'S' } },
    async run(a) {
      noPositionals(a, 'recv');
      const session = needSession(a, 'recv');
      const timeout = num(a.values.timeout, 'timeout', 'recv');
      return (await import('../commands/send-recv.js')).recvCommand(root(a), session, !!a.values.wait, timeout);
    },
  },
  hook: {
    options: {
      ...ROOT,
      session: { type: 'string', arg: 'ID' },
      timeout: { type: 'string', arg: 'S' },
      project: { type: 'string', arg: 'DIR' },
      print: { type: 'boolean' },
    },
    async run(a) {
      const sub = a.positionals[0];
      const timeoutS = num(a.values.timeout, 'timeout', 'hook');
      let rootDir = str(a.values.root);
      if (sub === 'stop' || sub === 'notify' || sub === 'install') {
        try {
          // install writes the root into settings.json: absolute, and only a real root.
          rootDir = requireRoot(rootDir).root;
        } catch (err) {
          if (!(err instanceof NotARootError) || sub === 'install') throw err;
          // Exit 2 from a Stop hook would block the stop and feed this line to Claude as
          // its next instruction; a hook never wedges a session, so: one line, exit 0.
          process.stderr.write(`relay-tui hook: ${err.message}; letting Claude Code go on\n`);
          return 0;
        }
      }
      const { hookCommand } = await import('../commands/hook/hook.js');
      return hookCommand(a.positionals, {
        root: rootDir,
        session: str(a.values.session),
        timeoutS,
        project: str(a.values.project),
        print: !!a.values.print,
      });
    },
  },
  doctor: {
    options: {
      ...ROOT,
      project: { type: 'string', arg: 'DIR', multiple: true },
      config: { type: 'string', arg: 'FILE' },
      timeout: { type: 'string', arg: 'S' },
      remote: { type: 'string', arg: '[USER@]HOST[:ROOT]' },
    },
    async run(a) {
      noPositionals(a, 'doctor');
      const projects = (a.values.project as string[] | undefined) ?? [];
      const timeoutS = num(a.values.timeout, 'timeout', 'doctor');
      if (timeoutS === 0) throw new UsageError('--timeout must be more than 0 seconds', 'doctor');
      return (await import('../commands/doctor/doctor.js')).doctorCommand({
        root: str(a.values.root),
        projects,
        configFile: str(a.values.config),
        timeoutS,
        remote: str(a.values.remote),
      });
    },
  },
  service: {
    options: { ...ROOT, user: { type: 'boolean' }, print: { type: 'boolean' } },
    async run(a) {
      const [sub, extra] = a.positionals;
      if (sub !== 'install')
        throw new UsageError(
          sub
            ? `service has no subcommand ${sub} (only: install)`
            : 'service needs a subcommand: relay-tui service install [--user] [--print]',
          'service',
        );
      if (extra !== undefined) throw new UsageError(`service install takes no argument ${extra}`, 'service');
      return (await import('../commands/service.js')).serviceInstallCommand({
        paths: root(a),
        user: !!a.values.user,
        print: !!a.values.print,
      });
    },
  },
  help: {
    options: ROOT,
    async run(a) {
      const [topic] = a.positionals;
      if (topic === undefined) return print(GENERAL_HELP);
      if (!COMMAND_HELP[topic]) throw unknownCommand(topic);
      return print(COMMAND_HELP[topic]);
    },
  },
};

/** The relay itself: the only path that creates a root. */
const MAIN: OptTable = {
  ...ROOT,
  config: { type: 'string', arg: 'FILE' },
  'no-ui': { type: 'boolean' },
  demo: { type: 'boolean' },
  backend: { type: 'string', arg: 'api|claude-code' },
  'log-json': { type: 'boolean' },
  version: { type: 'boolean', short: 'v' },
};

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return pkg.version;
}

function unknownCommand(word: string): UsageError {
  const guess = closest(word, Object.keys(COMMANDS));
  return new UsageError(`unknown command ${word}${guess ? `; did you mean ${guess}?` : ''}`);
}

function fail(message: string, code: number): number {
  process.stderr.write(`relay-tui: ${message}\n`);
  return code;
}

/** Every string option of every command, so the command word can be found wherever it stands. */
function takesValue(option: string): boolean {
  const name = option.split('=')[0];
  return [MAIN, ...Object.values(COMMANDS).map((c) => c.options)].some((t) => t[name]?.type === 'string');
}

async function main(argv: string[]): Promise<number> {
  // Remote sessions (--remote, RELAY_REMOTE, remote-shell) go over ssh before any root is
  // resolved here: the root is on the far machine (src/commands/remote/remote.ts).
  if (
    process.env.RELAY_REMOTE ||
    argv.some((a) => a === '--remote' || a.startsWith('--remote=') || a === 'remote-shell' || a === 'remote-guard')
  ) {
    const code = await (await import('../commands/remote/remote.js')).remoteEntry(argv);
    if (code !== undefined) return code;
  }
  const { command, rest } = findCommand(argv, takesValue);
  if (command !== undefined) {
    const cmd = COMMANDS[command];
    if (!cmd) throw unknownCommand(command);
    const parsed = parseOptions(rest, cmd.options, `relay-tui ${command}`, command);
    if (parsed.values.help) return print(COMMAND_HELP[command] ?? GENERAL_HELP);
    return cmd.run(parsed);
  }

  const { values } = parseOptions(rest, MAIN, 'relay-tui');
  if (values.help) return print(GENERAL_HELP);
  if (values.version) return print(`${version()}\n`);
  const backend = backendOf(str(values.backend));
  if (values.demo) {
    const { runDemo } = await import('../demo/run.js');
    return runDemo({ root: str(values.root), headless: !!values['no-ui'], backend });
  }
  if (!values['no-ui'] && !process.stdin.isTTY) {
    return fail('the terminal UI needs a TTY (stdin is not a terminal); run `relay-tui --no-ui` for the headless daemon', 2);
  }
  // The TUI runs the relay on an engine thread (src/host/tui/start.ts); --no-ui in this thread.
  if (!values['no-ui'])
    return (await (await import('../host/tui-entry.js')).loadHostedTui()).runHostedTui({
      root: str(values.root),
      configFile: str(values.config),
      backend,
    });
  // Imported here, not at the top: the TUI's view thread must not load the engine.
  const { openRelay } = await import('../host/open-relay.js');
  const { runHeadless } = await import('../host/headless.js');
  const opened = await openRelay({ root: str(values.root), configFile: str(values.config), interactive: false, backend });
  return runHeadless(opened, { json: !!values['log-json'] });
}

/** --backend, checked here so a typo is a usage error before any root is opened (undefined: config.yaml's chat.backend). */
function backendOf(value: string | undefined): 'api' | 'claude-code' | undefined {
  if (value === undefined || value === 'api' || value === 'claude-code') return value;
  throw new UsageError(`--backend is api or claude-code (got ${value})`);
}

/** The one place an error becomes an exit code: through the table in exit-codes.ts. */
export function exitCodeFor(err: unknown): number {
  const failure = failureOf(err);
  process.stderr.write(failureText(failure));
  return exitCodeOf(failure);
}

// `relay-tui doctor | head`: a reader that went away is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = exitCodeFor(err);
  },
);
