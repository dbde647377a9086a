import fs from 'node:fs';

/**
 * A directory watcher that reports the changed name (inotify gives it on Linux),
 * or null when the platform could not say which file changed and the caller
 * should rescan. Errors (the directory removed, too many watches) degrade to
 * "rescan" rather than crashing: the relay's slow safety rescan covers the rest.
 */
export type WatchFn = (dir: string, onChange: (name: string | null) => void) => () => void;

export const watchDir: WatchFn = (dir, onChange) => {
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(dir, { persistent: true }, (_event, name) => onChange(name ? String(name) : null));
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
      onChange(null);
    });
  } catch {
    queueMicrotask(() => onChange(null));
  }
  return () => watcher?.close();
};
