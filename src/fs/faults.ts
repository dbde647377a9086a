/**
 * The two kinds of fault the relay survives without ending (SPEC, Confinement):
 *
 * - a SessionFault concerns one session (its dispatch/<id>/ or input.txt is unusable):
 *   that session alone is paused, with the reason, and the others flow;
 * - a RootFault concerns the whole root (disk full, state/ unwritable): the relay
 *   pauses in `state: error` with the reason and retries by itself.
 *
 * Whatever throws one of these has not lost anything: it failed before the step that
 * would have replaced what is already durable. Anything else thrown from the turn path
 * is treated as a RootFault by classify() so that no error can end the process.
 */

/** What a path turned out to be when something else was expected there. */
export type PathKind = 'symlink' | 'fifo' | 'socket' | 'device' | 'directory' | 'file' | 'unreadable' | 'missing' | 'other';

export class SessionFault extends Error {
  override readonly name = 'SessionFault';
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'session-fault';
  constructor(
    readonly session: string,
    readonly path: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class RootFault extends Error {
  override readonly name = 'RootFault';
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'root-fault';
  constructor(
    readonly path: string | undefined,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A short reason an operator can act on: "disk full: state/conversation.jsonl (ENOSPC)". */
export function describeFsError(err: unknown, where?: string): string {
  const e = err as NodeJS.ErrnoException;
  const at = where ?? e?.path ?? '';
  switch (e?.code) {
    case 'ENOSPC':
      return `disk full: ${at} (ENOSPC)`;
    case 'EDQUOT':
      return `disk quota exceeded: ${at} (EDQUOT)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${at} (${e.code})`;
    case 'EROFS':
      return `read-only file system: ${at} (EROFS)`;
    case 'EIO':
      return `I/O error: ${at} (EIO)`;
    case 'ELOOP':
      return `${at}: is a symlink; refused (ELOOP)`;
    case 'EISDIR':
      return `${at}: is a directory (EISDIR)`;
    case 'ENOTDIR':
      return `${at}: a part of the path is not a directory (ENOTDIR)`;
    case 'ECONFINED': // adapters/confine.ts: the message already names the path and what it is
    case 'ETOOLARGE':
      return e.message;
    default:
      return `${e?.message ?? String(err)}`;
  }
}

/** Every error from the turn path becomes one of the two faults; never rethrown raw. */
export function classify(err: unknown): SessionFault | RootFault {
  if (err instanceof SessionFault || err instanceof RootFault) return err;
  const e = err as NodeJS.ErrnoException;
  return new RootFault(e?.path, describeFsError(err), e?.code);
}
