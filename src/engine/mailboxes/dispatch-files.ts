import fs from 'node:fs';
import { ConfinementError } from '../../fs/confine.js';
import { describeFsError, RootFault, SessionFault } from '../../fs/faults.js';
import { isSessionId } from '../../protocol/session-id.js';

/**
 * What the Dispatcher knows of its files: whose fault a failed file operation is (a full
 * or read-only disk is the root's: every session waits, the relay retries by itself;
 * anything else about dispatch/<session>/ is that session's alone, its replies wait in the
 * outbox), an outbox file's id, and which sessions have folders on disk.
 */

const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);

export function sessionFaultOf(session: string, where: string, err: unknown): SessionFault | RootFault {
  if (err instanceof SessionFault || err instanceof RootFault) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && DISK_CODES.has(code)) return new RootFault(where, describeFsError(err, where), code);
  const message = err instanceof ConfinementError ? err.message : describeFsError(err, where);
  return new SessionFault(session, where, message, code);
}

/** A failure of state/outbox/: the root's. */
export function rootFaultOf(where: string, err: unknown): RootFault {
  if (err instanceof RootFault) return err;
  return new RootFault(
    where,
    err instanceof ConfinementError ? err.message : describeFsError(err, where),
    (err as NodeJS.ErrnoException)?.code,
  );
}

/** An outbox file is STAMP-ID.txt: the id of the turn or input that produced it. */
export function outboxId(name: string): string {
  return name.slice(name.indexOf('-') + 1, -4);
}

/** Session ids with a folder (or a link: ensure() reports it) in any of these directories. */
export function sessionsOnDisk(dirs: string[]): string[] {
  const out = new Set<string>();
  for (const dir of dirs) {
    try {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        if ((d.isDirectory() || d.isSymbolicLink()) && isSessionId(d.name)) out.add(d.name);
      }
    } catch {
      /* not created yet, or unreadable: ensure() on a registered session reports it */
    }
  }
  return [...out];
}
