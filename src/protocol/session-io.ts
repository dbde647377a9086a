import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { checkDir, checkFile, ConfinementError, ensureDir, InputError, readFileConfined } from '../fs/confine.js';
import { describeFsError, RootFault } from '../fs/faults.js';
import { unlinkDurable, writeAtomic } from '../fs/atomic.js';
import { INPUT_FILE, sessionDispatchDir, sessionInputFile, type RootPaths } from './root.js';
import { checkSessionId } from './session-id.js';

/**
 * A session's side of the protocol: enqueue an envelope, wait for and consume the
 * reply. Used by `relay-tui send`/`recv`, the Stop hook and the demo's sessions.
 */

/** Written as queue/.NAME.tmp and renamed, so the relay never sees half a file. */
export function enqueueEnvelope(p: RootPaths, session: string, content: string, extra: Record<string, unknown> = {}): string {
  checkSessionId(session);
  if (!content.trim()) throw new InputError('nothing to send: the content is empty');
  const name = `${Date.now()}-${session}-${crypto.randomBytes(3).toString('hex')}.json`;
  // Set by a remote call (relay-tui --remote on the session's machine): where the session runs.
  const host = /^[A-Za-z0-9._-]{1,253}$/.test(process.env.RELAY_SESSION_HOST ?? '') ? process.env.RELAY_SESSION_HOST : undefined;
  const body = { session_id: session, timestamp: new Date().toISOString(), content, ...(host ? { host } : {}), ...extra };
  const file = path.join(p.queue, name);
  try {
    writeAtomic(file, JSON.stringify(body) + '\n', 0o644);
  } catch (err) {
    // A full disk or an unwritable queue/ is the root's problem: one line that says so, no stack.
    throw err instanceof ConfinementError ? err : new RootFault(file, describeFsError(err, file), (err as NodeJS.ErrnoException).code);
  }
  return name;
}

/**
 * Reads and deletes input.txt; deleting it is the ack that lets the relay deliver the
 * next reply. dispatch/<id>/ must be a real directory and input.txt a regular file: a
 * link there is refused (ConfinementError), never read through and never deleted.
 */
export function takeReply(p: RootPaths, session: string): string | undefined {
  const dir = sessionDispatchDir(p, session);
  if (!checkDir(p.dispatch) || !checkDir(dir)) return undefined;
  const file = path.join(dir, INPUT_FILE);
  const buf = readFileConfined(file);
  if (buf === undefined) return undefined;
  unlinkDurable(file);
  return buf.toString('utf8');
}

/** Waits for input.txt with a directory watch (no polling loop); resolves undefined on timeout. */
export function waitForReply(p: RootPaths, session: string, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const dir = sessionDispatchDir(p, session);
  ensureDir(p.dispatch);
  ensureDir(dir);
  // A bad input.txt (a link, a directory) fails now, with its reason, rather than never arriving.
  checkFile(sessionInputFile(p, session));
  return new Promise((resolve, reject) => {
    let done = false;
    let watcher: fs.FSWatcher | undefined;
    const finish = (v: string | undefined, err?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(safety);
      watcher?.close();
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(v);
    };
    const tryTake = () => {
      if (done) return;
      let text: string | undefined;
      try {
        text = takeReply(p, session);
      } catch (err) {
        finish(undefined, err);
        return;
      }
      if (text !== undefined) finish(text);
    };
    const onAbort = () => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    // A slow safety check in case the watch misses an event (network filesystems).
    const safety = setInterval(tryTake, 5000);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = fs.watch(dir, (_e, name) => {
        if (!name || String(name) === INPUT_FILE) tryTake();
      });
    } catch {
      /* the safety interval still works */
    }
    tryTake();
  });
}
