import fs from 'node:fs';
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

/**
 * RELAY_TUI_MEMLOG=FILE: both threads of the TUI append their memory to FILE every 5 s
 * (a JSON line each: which thread, its JS heap, the process RSS). A diagnostic for
 * finding what grows (bench/tui-heap.ts). While FILE.snap-THREAD exists, that thread
 * writes a heap snapshot next to FILE and removes the trigger.
 */
export function startMemLog(): void {
  const file = process.env.RELAY_TUI_MEMLOG;
  if (!file) return;
  const thread = isMainThread ? 'main' : 'engine';
  const t = setInterval(() => {
    const m = process.memoryUsage();
    const line = JSON.stringify({
      at: Date.now(),
      thread,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      rss: m.rss,
      // Per V8 space, committed and used MB: which space holds the slack between heapTotal and heapUsed.
      spaces: Object.fromEntries(
        v8.getHeapSpaceStatistics().map((x) => [x.space_name, [+(x.space_size / 1e6).toFixed(1), +(x.space_used_size / 1e6).toFixed(1)]]),
      ),
    });
    try {
      fs.appendFileSync(file, `${line}\n`);
      if (fs.existsSync(`${file}.snap-${thread}`)) {
        fs.rmSync(`${file}.snap-${thread}`);
        v8.writeHeapSnapshot(`${file}.${thread}-${Date.now()}.heapsnapshot`);
      }
    } catch {
      /* a diagnostic must not break the TUI */
    }
  }, 5000);
  t.unref();
}
