import { readJson, unlinkDurable, writeAtomicExclusive } from './atomic.js';
import { commandLine } from './process-table.js';

/**
 * One relay per root. The lock is a pid file created with link(2), which fails
 * atomically when the file exists; a lock whose pid is no longer a live process
 * (kill -9, reboot) is taken over. A pid file, rather than an mtime-refreshed lock,
 * because it needs no heartbeat timer and can name the holder in the error.
 */

export interface LockInfo {
  pid: number;
  started_at: string;
}

export class LockHeldError extends Error {
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'lock-held';
  constructor(
    readonly file: string,
    readonly holder: LockInfo,
  ) {
    super(`another relay (pid ${holder.pid}, since ${holder.started_at}) holds ${file}`);
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // After a reboot the pid may belong to an unrelated program; only a node process can be a
  // relay. /proc where there is one, `ps` elsewhere (process-table.ts); unreadable: assume it is.
  const cmd = commandLine(pid);
  return cmd.length === 0 || /node|relay/i.test(cmd.join(' '));
}

export function readLock(file: string): LockInfo | undefined {
  let info: LockInfo | undefined;
  try {
    info = readJson<LockInfo>(file);
  } catch {
    // Not a regular file (a planted link or FIFO): no relay wrote it, so it is stale;
    // taking it over unlinks the name, which never touches what a link points to.
    return undefined;
  }
  return info && typeof info.pid === 'number' ? info : undefined;
}

/** The live holder of the lock, if any (used by `status` and `say`). */
export function lockHolder(file: string): LockInfo | undefined {
  const info = readLock(file);
  return info && isAlive(info.pid) ? info : undefined;
}

export function acquireLock(file: string, pid = process.pid): { release(): void } {
  const mine: LockInfo = { pid, started_at: new Date().toISOString() };
  const body = JSON.stringify(mine) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    if (writeAtomicExclusive(file, body, 0o600)) {
      return {
        release() {
          if (readLock(file)?.pid === pid) unlinkDurable(file);
        },
      };
    }
    const holder = readLock(file);
    if (holder && isAlive(holder.pid) && holder.pid !== pid) throw new LockHeldError(file, holder);
    // Stale (or unreadable: a torn write cannot happen with link, so it was hand-made).
    // Two starters racing to take over: a takeover mutex makes only one remove it.
    const takeover = `${file}.takeover`;
    if (!writeAtomicExclusive(takeover, body, 0o600)) {
      const other = readLock(takeover);
      if (other && isAlive(other.pid)) throw new LockHeldError(file, other);
      unlinkDurable(takeover);
      continue;
    }
    try {
      const again = readLock(file);
      if (!again || !isAlive(again.pid)) unlinkDurable(file);
    } finally {
      unlinkDurable(takeover);
    }
  }
  const holder = readLock(file) ?? { pid: -1, started_at: 'unknown' };
  throw new LockHeldError(file, holder);
}
