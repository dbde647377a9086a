import type { ConfigError, MissingKeyError } from '../config/errors.js';
import type { ConfinementError, InputError } from '../fs/confine.js';
import type { RootFault, SessionFault } from '../fs/faults.js';
import type { LockHeldError } from '../fs/lock.js';
import type { NotARootError } from '../commands/require-root.js';
import type { UsageError } from './args.js';

/**
 * The one error table: what each kind of error the CLI or the TUI's engine thread can
 * end on means to the user — its exit code (SPEC: 2 usage, no TTY or not a root, 3 the
 * lock is held, 4 bad config or no key, 1 anything else) and the line printed for it.
 * Every class here carries a readonly `kind` naming its row; the classes import nothing
 * from here (they sit on lower floors), and the `Classes` map below makes the compiler
 * check that each class's kind is the row it is listed under.
 *
 * Only types are imported: the TUI's view thread maps a failure the engine thread sent as
 * plain data ({kind, message}) without loading the modules that define the classes.
 */

/** Each kind and the class that carries it. */
interface Classes {
  usage: UsageError;
  'not-a-root': NotARootError;
  input: InputError;
  confinement: ConfinementError;
  'root-fault': RootFault;
  'session-fault': SessionFault;
  'lock-held': LockHeldError;
  config: ConfigError;
  'missing-key': MissingKeyError;
}

export type ErrorKind = keyof Classes;
/** What the CLI ends on when the error carries no kind: a bug, shown with its stack. */
export type FailureKind = ErrorKind | 'internal';

/** An error as it crosses from the engine thread: plain data, structured-clonable. */
export interface Failure {
  kind: FailureKind;
  /** The line to print after "relay-tui: " (may hold more lines). */
  message: string;
}

interface Row<E> {
  code: number;
  /** The user-facing form: only what the error itself carries. */
  say(err: E): string;
}

const TABLE: { [K in ErrorKind]: Row<Classes[K]> & (Classes[K]['kind'] extends K ? unknown : never) } = {
  // The hint is added here, once, and names the help that answers the mistake.
  usage: { code: 2, say: (e) => `${e.message}\n  see relay-tui ${e.command ? `${e.command} ` : ''}--help` },
  'not-a-root': { code: 2, say: (e) => e.message },
  input: { code: 2, say: (e) => e.message },
  // The root refused something (a link, a FIFO, a full disk): the reason, not a stack.
  confinement: { code: 1, say: (e) => e.message },
  'root-fault': { code: 1, say: (e) => e.message },
  'session-fault': { code: 1, say: (e) => e.message },
  'lock-held': { code: 3, say: (e) => `${e.message}: stop it first (kill ${e.holder.pid}), or use another --root` },
  config: { code: 4, say: (e) => `config error: ${e.message}` },
  'missing-key': { code: 4, say: (e) => e.message },
};

const INTERNAL_CODE = 1;

function kindOf(err: unknown): ErrorKind | undefined {
  const kind = err instanceof Error ? (err as { kind?: unknown }).kind : undefined;
  return typeof kind === 'string' && Object.hasOwn(TABLE, kind) ? (kind as ErrorKind) : undefined;
}

/** What an error says to the user, by its kind; an error without one is a bug and keeps its stack. */
export function failureOf(err: unknown): Failure {
  const kind = kindOf(err);
  if (!kind) return { kind: 'internal', message: `${(err as Error)?.stack ?? err}` };
  const row = TABLE[kind] as Row<unknown>;
  return { kind, message: row.say(err) };
}

/** The exit code of a failure; a kind this table does not know (an older thread's) is 1. */
export function exitCodeOf(f: Failure): number {
  return f.kind !== 'internal' && Object.hasOwn(TABLE, f.kind) ? TABLE[f.kind].code : INTERNAL_CODE;
}

/** The whole text printed on stderr for a failure. */
export function failureText(f: Failure): string {
  return `relay-tui: ${f.message}\n`;
}
