import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomic } from './adapters/fs-atomic.js';
import { SESSION_ID_RE } from './config/schema.js';
import type { RootPaths } from './root.js';

/**
 * A session's side of the protocol: enqueue an envelope, wait for and consume the
 * reply. Used by `relay-tui send`/`recv`, the Stop hook and the demo's sessions.
 */

export function checkSessionId(id: string): void {
  if (!SESSION_ID_RE.test(id)) throw new Error(`not a valid session id: ${JSON.stringify(id)} (letters, digits, _ and -, at most 64)`);
}

/** Written as queue/.NAME.tmp and renamed, so the relay never sees half a file. */
export function enqueueEnvelope(p: RootPaths, session: string, content: string, extra: Record<string, unknown> = {}): string {
  checkSessionId(session);
  if (!content.trim()) throw new Error('nothing to send: the content is empty');
  const name = `${Date.now()}-${session}-${crypto.randomBytes(3).toString('hex')}.json`;
  const body = { session_id: session, timestamp: new Date().toISOString(), content, ...extra };
  writeAtomic(path.join(p.queue, name), JSON.stringify(body) + '\n', 0o644);
  return name;
}

export function inputFile(p: RootPaths, session: string): string {
  return path.join(p.dispatch, session, 'input.txt');
}

/** Reads and deletes input.txt; deleting it is the ack that lets the relay deliver the next reply. */
export function takeReply(p: RootPaths, session: string): string | undefined {
  const file = inputFile(p, session);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  fs.rmSync(file, { force: true });
  return text;
}

/** Waits for input.txt with a directory watch (no polling loop); resolves undefined on timeout. */
export function waitForReply(p: RootPaths, session: string, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  checkSessionId(session);
  const dir = path.join(p.dispatch, session);
  fs.mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    let done = false;
    let watcher: fs.FSWatcher | undefined;
    const finish = (v: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(safety);
      watcher?.close();
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const tryTake = () => {
      if (done) return;
      const text = takeReply(p, session);
      if (text !== undefined) finish(text);
    };
    const onAbort = () => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    // A slow safety check in case the watch misses an event (network filesystems).
    const safety = setInterval(tryTake, 5000);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = fs.watch(dir, (_e, name) => {
        if (!name || String(name) === 'input.txt') tryTake();
      });
    } catch {
      /* the safety interval still works */
    }
    tryTake();
  });
}
