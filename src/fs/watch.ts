import fs from 'node:fs';
import path from 'node:path';

/**
 * A directory watcher that reports the changed name (inotify gives it on Linux),
 * or null when the caller should rescan. If the directory cannot be watched (the
 * inotify instance or watch limit reached, a filesystem without events), it says so
 * through onError and falls back to asking for a rescan every FALLBACK_MS: slower,
 * but a relay that cannot watch must not go deaf.
 *
 * macOS (FSEvents, kqueue) and some filesystems may give no name, so every caller
 * handles null as "look at everything". RELAY_TUI_WATCH_NAMES=off withholds the names
 * on Linux too, so the suite runs that path (test/platform-fallbacks.test.ts).
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
    const names = process.env.RELAY_TUI_WATCH_NAMES !== 'off';
    watcher = fs.watch(dir, { persistent: true }, (_event, name) => onChange(names && name ? String(name) : null));
    watcher.on('error', degrade);
  } catch (err) {
    degrade(err);
  }
  return () => {
    watcher?.close();
    if (poll) clearInterval(poll);
  };
};

/**
 * For a directory watched for a few of its files only, where the watch may give no name:
 * which of `names` changed (inode, size, mtime) since the last look. Without it, every
 * nameless event in a busy directory (state/ holds status.json, which the relay itself
 * rewrites) would read every file and feed the relay its own writes back.
 */
export function changedFiles(dir: string, names: string[]): () => string[] {
  const sig = (name: string): string => {
    try {
      const st = fs.lstatSync(path.join(dir, name), { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return '-';
    }
  };
  const last = new Map(names.map((n) => [n, sig(n)]));
  return () =>
    names.filter((n) => {
      const now = sig(n);
      if (now === last.get(n)) return false;
      last.set(n, now);
      return true;
    });
}
