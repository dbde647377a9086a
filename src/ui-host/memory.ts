import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * The TUI runs for days with two V8 heaps (the view's and the engine's). Under a steady
 * stream of turns neither is ever idle, and V8 then keeps growing each heap's reserved
 * space long past what is live (measured: 20 MB live in a 127 MB heap after 1,500 turns;
 * src/bench/tui-heap.ts). Asking V8 to favour size, and a full collection now and then
 * while turns flow, keeps what the process holds close to what it uses.
 */

let gc: (() => void) | null = null;

export function favourSize(): void {
  try {
    v8.setFlagsFromString('--optimize-for-size');
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
