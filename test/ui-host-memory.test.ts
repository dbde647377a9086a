import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

// V8 flags are process-wide, so each case runs in a child process of its own, with the
// built module (npm test builds first), as the TUI does. It starts an engine-like worker,
// waits until it runs, then churns the main thread's young generation the way frames do.
const BUILT = new URL('../dist/host/tui/memory.js', import.meta.url).href;

/** The view's young generation (MB, the most seen) while it churns, with keepFavouringSize as the TUI calls it. */
function newSpaceMb(): number {
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    const m = await import(${JSON.stringify(BUILT)});
    const w = new Worker('setTimeout(() => {}, 2000)', { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    m.keepFavouringSize(w);
    await new Promise((r) => w.once('online', r));
    await new Promise((r) => setTimeout(r, 50));
    // The most seen while it churns, not only at the end: a young generation that grew and shrank again fails too.
    const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1e6;
    let keep = [];
    let most = 0;
    for (let i = 0; i < 2e6; i++) {
      keep.push({ a: i, b: 'x' + i });
      if (keep.length > 50000) keep = keep.slice(25000);
      if (i % 100000 === 0) most = Math.max(most, size());
    }
    console.log(Math.max(most, size()));
    process.exit(0);
  `;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
}

it("the view's young generation stays small after the engine thread starts (its start resets V8's flags)", () => {
  // 1 MB semi-spaces, grown at most once by V8's own sizing; 2×16 MB when the flags are lost.
  expect(newSpaceMb()).toBeLessThan(8);
});

it('keepFavouringSize resolves once the engine thread runs, and when it cannot start', () => {
  const script = `
    import { Worker } from 'node:worker_threads';
    const m = await import(${JSON.stringify(BUILT)});
    const ok = new Worker('setTimeout(() => {}, 200)', { eval: true });
    let online = false;
    ok.once('online', () => (online = true));
    await m.keepFavouringSize(ok);
    const bad = new Worker('throw new Error("no")', { eval: true });
    bad.on('error', () => {});
    await m.keepFavouringSize(bad);
    console.log(JSON.stringify({ online }));
    process.exit(0);
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(JSON.parse(out.trim())).toEqual({ online: true });
});
