import fs from 'node:fs';

/**
 * A directory watcher that reports the changed name (inotify gives it on Linux),
 * or null when the caller should rescan. If the directory cannot be watched (the
 * inotify instance or watch limit reached, a filesystem without events), it says so
 * through onError and falls back to asking for a rescan every FALLBACK_MS: slower,
 * but a relay that cannot watch must not go deaf.
 */
export type WatchFn = (dir: string, onChange: (name: string | null) => void, onError?: (message: string) => void) => () => void;

export const FALLBACK_MS = 2000;

export const watchDir: WatchFn = (dir, onChange, onError) => {
  let watcher: fs.FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  const degrade = (err: unknown) => {
    watcher?.close();
    watcher = undefined;
    if (!poll) {
      onError?.(`cannot watch ${dir} (${(err as Error)?.message ?? err}); rescanning every ${FALLBACK_MS / 1000} s instead`);
      poll = setInterval(() => onChange(null), FALLBACK_MS);
    }
    queueMicrotask(() => onChange(null));
  };
  try {
    // fs.watch follows a link; a directory that is not a real one is not watched (its
    // owner reports why), so nothing outside the root is ever watched on its behalf.
    if (!fs.lstatSync(dir).isDirectory()) {
      onError?.(`not watching ${dir}: it is not a real directory`);
      return () => {};
    }
    watcher = fs.watch(dir, { persistent: true }, (_event, name) => onChange(name ? String(name) : null));
    watcher.on('error', degrade);
  } catch (err) {
    degrade(err);
  }
  return () => {
    watcher?.close();
    if (poll) clearInterval(poll);
  };
};
