import fs from 'node:fs';
import os from 'node:os';

/** The engine thread's nice value: below the view, still above background work. */
export const ENGINE_NICE = 5;

/**
 * Called on the engine thread: lowers that thread's scheduling priority (Linux only),
 * so on a busy machine the kernel runs the view's thread first and a keystroke's frame
 * does not wait behind the engine's share of the CPU. On Linux setpriority(2) with a
 * thread id applies to that thread alone; /proc/thread-self names it. Elsewhere, or
 * when not allowed, the thread keeps its priority. Measured: bench/tui.ts (echo
 * under load) and BENCHMARKS.md.
 */
export function yieldToView(nice = ENGINE_NICE): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0 || tid === process.pid) return null;
    os.setPriority(tid, Math.max(os.getPriority(tid), nice));
    return tid;
  } catch {
    return null;
  }
}
