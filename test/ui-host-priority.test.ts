import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

// The engine thread yields the CPU to the view's thread: only that thread's nice value
// changes; the process's main thread (the view) keeps its own. The worker runs the built
// module (npm test builds first), as the TUI's engine thread does.
const BUILT = new URL('../dist/host/tui/priority.js', import.meta.url).href;

describe.runIf(process.platform === 'linux')('yieldToView', () => {
  it('lowers the calling thread alone', async () => {
    const before = os.getPriority(process.pid);
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const os = require('node:os');
       import(${JSON.stringify(BUILT)}).then(
         (m) => { const tid = m.yieldToView(7); parentPort.postMessage({ tid, nice: tid ? os.getPriority(tid) : null }); },
         (e) => parentPort.postMessage({ error: String(e) }),
       );`,
      { eval: true },
    );
    const r = await new Promise<{ tid: number | null; nice: number | null; error?: string }>((res) => w.once('message', res));
    await w.terminate();
    expect(r.error).toBeUndefined();
    expect(r.tid).toBeGreaterThan(0);
    expect(r.tid).not.toBe(process.pid);
    expect(r.nice).toBe(Math.max(before, 7));
    expect(os.getPriority(process.pid)).toBe(before);
  });
});

describe('yieldToView where it cannot (macOS: no per-thread nice, no /proc)', () => {
  it('changes no priority and says so with null', async () => {
    const before = os.getPriority(process.pid);
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const os = require('node:os');
       import(${JSON.stringify(BUILT)}).then(
         (m) => parentPort.postMessage({
           darwin: m.yieldToView(7, { platform: 'darwin' }),
           noProc: m.yieldToView(7, { threadSelf: '/nonexistent/thread-self' }),
           nice: os.getPriority(),
         }),
         (e) => parentPort.postMessage({ error: String(e) }),
       );`,
      { eval: true },
    );
    const r = await new Promise<{ darwin: number | null; noProc: number | null; nice: number; error?: string }>((res) =>
      w.once('message', res),
    );
    await w.terminate();
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ darwin: null, noProc: null });
    expect(r.nice).toBe(before);
    expect(os.getPriority(process.pid)).toBe(before);
  });
});
