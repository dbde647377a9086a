import fs from 'node:fs';
import path from 'node:path';
import type { WatchFn } from '../../fs/watch.js';

/**
 * Where a session's fault gets fixed, so the relay can watch it and end the fault the
 * moment it is gone (not at the next /resume or safety rescan). A fault of dispatch/<id>/
 * or its input.txt is fixed by changing an entry of dispatch/ (the session's directory
 * swapped, re-created or chmod'ed: inotify reports a child's mode change to its parent)
 * or of the session's own directory (input.txt removed). Only real directories this
 * process can list are watched, never through a link; when dispatch/ itself is not one,
 * its parent (the root) is where it gets fixed.
 */
export function causeDirs(dispatchDir: string, sessionDir: string): string[] {
  const dirs = [dispatchDir, sessionDir].filter(watchable);
  if (!dirs.includes(dispatchDir)) dirs.unshift(path.dirname(dispatchDir));
  return dirs;
}

function watchable(dir: string): boolean {
  try {
    if (!fs.lstatSync(dir).isDirectory()) return false;
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The watches on one session's fault's cause; aimed again only when the directories change. */
export class CauseWatch {
  private key: string | null = null;
  private stops: Array<() => void> = [];

  constructor(
    private readonly watch: WatchFn,
    private readonly onError?: (message: string) => void,
  ) {}

  aim(dirs: string[], onChange: () => void): void {
    const key = dirs.join('\0');
    // Re-watching the same directories from their own callback would spin (a degraded watch reports at once).
    if (key === this.key) return;
    this.stop();
    this.key = key;
    this.stops = dirs.map((d) => this.watch(d, onChange, this.onError));
  }

  stop(): void {
    for (const u of this.stops) u();
    this.stops = [];
    this.key = null;
  }
}
