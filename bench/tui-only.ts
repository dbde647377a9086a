// `node .bench/bench/tui-only.js [memory|load|startup|all] [turns]`: the TUI's figures of
// `npm run bench` (bench/tui.ts) without the rest of the bench, for working on the
// TUI. Prints the figures; BENCHMARKS.md is written only by `npm run bench`.
import fs from 'node:fs';
import { startFakes } from './fakes.js';
import { measureStartup } from './startup.js';
import { measureEchoFloor, measureTuiLoad, measureTuiMemory } from './tui.js';
import { cleanupAll, cleanupSync, log, median, pct } from './util.js';
import { fsOf } from './proc.js';

function shm(): string | undefined {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return fsOf('/dev/shm').startsWith('tmpfs') ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const what = process.argv[2] ?? 'all';
  const turns = Number(process.argv[3] ?? 10_000);
  const fakes = await startFakes();
  try {
    if (what === 'startup' || what === 'all') {
      const s = await measureStartup({ fakes, headlessRuns: 0, tuiRuns: 5 });
      log(`first frame: median ${median(s.tuiMs).toFixed(0)} ms (${s.tuiMs.map((v) => v.toFixed(0)).join(', ')})`);
    }
    if (what === 'load' || what === 'all') {
      const floor = await measureEchoFloor(10);
      const l = await measureTuiLoad({ fakes, perS: 100, keystrokes: 100, windowMs: 8000 });
      log(
        `echo under ${l.offeredPerS}/s offered (${l.achievedPerS.toFixed(0)} achieved): p50 ${median(l.echoMs).toFixed(1)} / p99 ${pct(l.echoMs, 99).toFixed(1)} ms; floor p50 ${median(floor).toFixed(2)} ms; ${l.framesPerS.toFixed(1)} frames/s`,
      );
    }
    if (what === 'memory' || what === 'all') {
      const m = await measureTuiMemory({ fakes, turns, base: shm(), timeLimitS: 240, profile: !!process.env.RELAY_BENCH_PROF_OUT });
      log(
        `TUI RSS: ${m.rss.map(([n, v]) => `${n}: ${(v * 1.048576).toFixed(0)}`).join(', ')} MB; peak ${(m.hwmMiB * 1.048576).toFixed(0)} MB; ${m.turns} turns in ${m.seconds.toFixed(0)} s`,
      );
    }
  } finally {
    await fakes.close();
    await cleanupAll();
  }
}

process.on('exit', cleanupSync);
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
