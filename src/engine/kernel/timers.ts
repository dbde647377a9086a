/**
 * Every timer the engine sets, in one place: each callback runs guarded (a throw is
 * reported, never uncaught), keyed timers replace each other, and stop() clears all
 * of them so a stopped relay leaves nothing behind.
 */
export class Timers {
  private readonly all = new Set<NodeJS.Timeout>();
  private readonly keyed = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly onError: (where: string, err: unknown) => void) {}

  /** Runs fn once after ms. With a key, an earlier timer of that key is kept (not doubled) unless replace. */
  after(ms: number, fn: () => void, opts: { key?: string; replace?: boolean; unref?: boolean } = {}): void {
    if (this.stopped) return;
    const { key } = opts;
    if (key !== undefined && this.keyed.has(key)) {
      if (!opts.replace) return;
      this.cancel(key);
    }
    const t = setTimeout(
      () => {
        this.all.delete(t);
        if (key !== undefined && this.keyed.get(key) === t) this.keyed.delete(key);
        if (!this.stopped) this.run(key ?? 'timer', fn);
      },
      Math.max(0, ms),
    );
    if (opts.unref) t.unref?.();
    this.all.add(t);
    if (key !== undefined) this.keyed.set(key, t);
  }

  /** Runs fn every ms until stop(); the next run is scheduled after this one returns. */
  every(ms: number, fn: () => void, where = 'periodic'): void {
    const tick = () =>
      this.after(
        ms,
        () => {
          this.run(where, fn);
          tick();
        },
        { unref: true },
      );
    tick();
  }

  has(key: string): boolean {
    return this.keyed.has(key);
  }

  cancel(key: string): void {
    const t = this.keyed.get(key);
    if (!t) return;
    clearTimeout(t);
    this.all.delete(t);
    this.keyed.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.all) clearTimeout(t);
    this.all.clear();
    this.keyed.clear();
  }

  /** A callback from outside (a watcher, a promise) run with the same guard. */
  run(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(where, err);
    }
  }
}
