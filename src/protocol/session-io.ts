import fs from 'node:fs';
import path from 'node:path';
import { checkDir, checkFile, ensureDir, readFileConfined } from '../fs/confine.js';
import { unlinkDurable } from '../fs/atomic.js';
import { INPUT_FILE, sessionDispatchDir, sessionInputFile, type RootPaths } from './root.js';

/**
 * A session's side of dispatch/: wait for and consume the reply. Used by `relay-tui
 * recv`, the demo's sessions (the Stop hook claims its reply through hook/claim.ts).
 * Its other side, enqueueing an envelope, is protocol/envelope.ts's.
 */

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
