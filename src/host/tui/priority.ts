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
export function yieldToView(nice = ENGINE_NICE, o: { platform?: NodeJS.Platform; threadSelf?: string } = {}): number | null {
  // macOS has no per-thread nice (setpriority with a pid would lower the view too) and no
  // /proc: the engine thread keeps its priority there. The parameters let the suite take
  // that path on Linux (test/ui-host-priority.test.ts).
  if ((o.platform ?? process.platform) !== 'linux') return null;
  try {
    const tid = Number(
      fs
        .readlinkSync(o.threadSelf ?? '/proc/thread-self')
        .split('/')
        .pop(),
    );
    if (!Number.isInteger(tid) || tid <= 0 || tid === process.pid) return null;
    os.setPriority(tid, Math.max(os.getPriority(tid), nice));
    return tid;
  } catch {
    return null;
  }
}
