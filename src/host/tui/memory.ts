import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';

/**
 * The TUI runs for days with two V8 heaps (the view's and the engine's). Under a steady
 * stream of turns neither is ever idle, and V8 then grows each heap's limit by up to 4×
 * what was live after the last full collection (measured: 370 MB RSS after 10,000 turns
 * with ~25 MB live in each heap). A growing factor of 1.5 and young generations that do
 * not grow (here for the view, and the worker's resourceLimits in start.ts) keep the
 * heaps near what they hold. Starting a worker thread puts V8's flags back to their
 * defaults, process-wide: they are set again once the engine thread runs
 * (keepFavouringSize), or the view's young generation grows to 2×16 MB anyway (seen on an
 * idle machine every time; beside three busy loops on 2 cores the flags mostly survived, so
 * this is a race, and a test that expected the loss every time flaked: only the kept
 * setting is tested, test/ui-host-memory.test.ts). Measured
 * with them in effect, against the build before (interleaved runs, 2026-12-02):
 * RSS after 10,000 turns ~180 instead of ~215 MB, 150 instead of ~190 once idle; under
 * a 100 turns/s flood, echo p50 the same and p99 ~40% higher (more young collections on
 * the view's thread). RELAY_TUI_V8FLAGS=--semi-space-growth-factor=2 trades back.
 * Forcing full collections instead (the earlier approach) held less but each one paused
 * the view's thread for tens of ms, which is what keystroke echo's p99 saw.
 *
 * RELAY_TUI_SMALL=1 also tells V8 to favour size (--optimize-for-size): RSS lower still
 * (2026-12-02: 129 instead of ~150 MB after 10,000 turns), but echo p99 under load
 * 35–58 ms instead of 20–32 (more full collections on the view's thread), so it is not
 * the default. RELAY_TUI_V8FLAGS (space-separated V8 flags) is for trying others against
 * `node dist/bench/tui-only.js`.
 */
export function favourSize(): void {
  try {
    // Process-wide and read at every collection.
    v8.setFlagsFromString('--heap-growing-percent=50');
    // The view thread's young generation stays at its first size (1 MB semi-spaces)
    // instead of doubling up to 16 MB each: its garbage is per frame and dies young.
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    // WebAssembly (Ink's yoga layout, undici's HTTP parser) stays on V8's baseline
    // compiler. Its optimizing tier compiled yoga on four threads at once at start-up,
    // ~30 MB of malloc that glibc's arenas then kept (heaptrack: peak 40 MB of malloc,
    // 13 MB without). Layout is a small part of a frame: echo under load the same.
    v8.setFlagsFromString('--liftoff-only');
    if (process.env.RELAY_TUI_SMALL === '1') v8.setFlagsFromString('--optimize-for-size');
    for (const f of (process.env.RELAY_TUI_V8FLAGS ?? '').split(' ').filter(Boolean)) v8.setFlagsFromString(f);
  } catch {
    /* a V8 without these flags runs with its defaults */
  }
}

/**
 * favourSize now, and again once `worker` runs: its start resets the flags. Resolves
 * then (or when it fails to start): what compiles WebAssembly — Ink's import — waits for
 * it, or yoga could be compiled in the moment the flags are lost.
 */
export function keepFavouringSize(worker: Worker): Promise<void> {
  favourSize();
  return new Promise((resolve) => {
    const done = () => {
      favourSize();
      for (const e of ['online', 'error', 'exit'] as const) worker.off(e, done);
      resolve();
    };
    worker.once('online', done);
    worker.once('error', done);
    worker.once('exit', done);
  });
}
