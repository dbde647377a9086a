import fs from 'node:fs';

/**
 * Resolves with the first value `check` returns, looking again on every change in
 * `dirs` (fs.watch) and every `tickMs` (for what no watch reports: a process that
 * died, a network filesystem's missed event). Undefined on timeout or abort.
 */
export function waitUntil<T>(
  dirs: string[],
  check: () => T | undefined,
  o: { timeoutMs: number; tickMs: number; signal?: AbortSignal },
): Promise<T | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const watchers: fs.FSWatcher[] = [];
    const finish = (v: T | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(tick);
      for (const w of watchers) w.close();
      o.signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const attempt = () => {
      if (done) return;
      let v: T | undefined;
      try {
        v = check();
      } catch {
        v = undefined; // a transient fs error: look again on the next event
      }
      if (v !== undefined) finish(v);
    };
    const onAbort = () => finish(undefined);
    const timer = setTimeout(() => finish(undefined), o.timeoutMs);
    const tick = setInterval(attempt, o.tickMs);
    if (o.signal?.aborted) return finish(undefined);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    for (const dir of dirs) {
      try {
        const w = fs.watch(dir, attempt);
        w.on('error', () => w.close());
        watchers.push(w);
      } catch {
        /* the tick still looks */
      }
    }
    attempt();
  });
}
