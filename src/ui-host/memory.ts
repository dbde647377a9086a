import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * The TUI runs for days with two V8 heaps (the view's and the engine's). Under a steady
 * stream of turns neither is ever idle, and V8 then keeps growing each heap's reserved
 * space long past what is live (measured: 20 MB live in a 127 MB heap after 1,500 turns;
 * src/bench/tui-heap.ts). A full collection every few seconds while turns flow keeps what
 * the process holds closer to what it uses. RELAY_TUI_SMALL=1 also tells V8 to favour size
 * (--optimize-for-size, process-wide): RSS then stays ~150 MiB from 300 to 3,000 turns
 * instead of ~220-260 MiB, but keystroke echo under load measured ~50% slower, so it is
 * not the default.
 */

let gc: (() => void) | null = null;

export function favourSize(): void {
  try {
    if (process.env.RELAY_TUI_SMALL === '1') v8.setFlagsFromString('--optimize-for-size');
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  } catch {
    gc = null;
  }
}

/**
 * A full collection at most every `everyMs`, only when `busy()` said so since the last
 * one (an idle process shrinks by itself). Unref'd: it never keeps the process alive.
 */
export function collectWhileBusy(everyMs: number, busy: () => boolean): () => void {
  let wasBusy = false;
  const poll = setInterval(() => {
    if (busy()) wasBusy = true;
  }, 1000);
  const t = setInterval(() => {
    if (!wasBusy || !gc) return;
    wasBusy = false;
    gc();
  }, everyMs);
  poll.unref();
  t.unref();
  return () => {
    clearInterval(poll);
    clearInterval(t);
  };
}
