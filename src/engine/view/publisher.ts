import type { Clock } from '../kernel/ports.js';
import type { RelaySnapshot } from './snapshot.js';
import type { Status } from '../../protocol/status.js';
import type { Timers } from '../kernel/timers.js';

/**
 * What the views read: one snapshot object, the same until something changes
 * (useSyncExternalStore's contract), listeners that cannot hurt the engine, and
 * state/status.json rewritten at most once per minIntervalMs (SPEC: ~4/s) however
 * often the state changes. Urgent changes (a pause, a held reply) go out at once.
 */

export interface StoreOptions {
  now: Clock;
  timers: Timers;
  minIntervalMs: number;
  build: () => RelaySnapshot;
  /** Writes status.json (atomically); may throw (disk full): reported once per distinct error. */
  write: (status: Status) => void;
  onError: (message: string) => void;
}

const TIMER_KEY = 'status.json';

export class Store {
  private cached: RelaySnapshot | null = null;
  private readonly listeners = new Set<() => void>();
  private lastWrite = Number.NEGATIVE_INFINITY;
  private lastWriteError: string | null = null;
  private closed = false;
  /** status.json writes so far (for tests and the benchmark). */
  writes = 0;

  constructor(private readonly o: StoreOptions) {}

  snapshot = (): RelaySnapshot => {
    this.cached ??= this.o.build();
    return this.cached;
  };

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  /** State changed: views re-read, status.json follows (at once when urgent). */
  changed(urgent = false): void {
    this.invalidate();
    if (this.closed) return;
    const due = this.lastWrite + this.o.minIntervalMs - this.o.now();
    if (urgent || due <= 0) this.flush();
    else this.o.timers.after(due, () => this.flush(), { key: TIMER_KEY });
  }

  /** Only the live view changed (streamed text): status.json is not rewritten for it. */
  invalidate(): void {
    this.cached = null;
    for (const fn of this.listeners) {
      try {
        fn();
      } catch {
        // A view's bug must not stop the relay; the view shows its own error.
      }
    }
  }

  flush(): void {
    this.o.timers.cancel(TIMER_KEY);
    this.lastWrite = this.o.now();
    try {
      this.o.write(this.snapshot().status);
      this.writes++;
      this.lastWriteError = null;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastWriteError) this.o.onError(`cannot write status.json: ${message}`);
      this.lastWriteError = message;
    }
  }

  /** The last write (stop() calls this once more first). */
  close(): void {
    this.o.timers.cancel(TIMER_KEY);
    this.closed = true;
  }
}
