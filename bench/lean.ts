// `node .bench/bench/lean.js [turns] [envelopes]`: only the turn-path figures of the bench
// (floor, turn overhead by part, fsyncs per turn, throughput), for iterating on the
// commit path without the whole `npm run bench`. Prints one JSON line; writes nothing.
import fs from 'node:fs';
import { measureFloor } from './floor.js';
import { measureInproc } from './inproc.js';
import { measureThroughput } from './throughput.js';
import { cleanupAll } from './util.js';

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Counts the durable syncs the in-process relay makes: fs-atomic and the appenders
// call these through the shared `fs` object, so wrapping them here sees every one.
const counts = { fsync: 0, fdatasync: 0 };
const realFsync = fs.fsyncSync;
const realFdatasync = fs.fdatasyncSync;
fs.fsyncSync = (fd) => {
  counts.fsync++;
  realFsync(fd);
};
fs.fdatasyncSync = (fd) => {
  counts.fdatasync++;
  realFdatasync(fd);
};

async function main(): Promise<void> {
  const turns = Number(process.argv[2] ?? 150);
  const envelopes = Number(process.argv[3] ?? 400);
  const floor = p50(measureFloor(200).samples) / 1000;
  const base = { ...counts };
  const inproc = await measureInproc({ turns, ackSamples: 5 });
  const syncs = counts.fsync + counts.fdatasync - base.fsync - base.fdatasync;
  const tp = await measureThroughput({ envelopes });
  const overhead = p50(inproc.total);
  const parts = Object.fromEntries(Object.entries(inproc.parts).map(([k, v]) => [k, +p50(v).toFixed(2)]));
  console.log(
    JSON.stringify({
      floorMs: +floor.toFixed(3),
      overheadP50Ms: +overhead.toFixed(2),
      xFloor: +(overhead / floor).toFixed(2),
      parts,
      // The in-process run's syncs over all its turns (warm-up, fill and ack turns included).
      syncsPerTurn: +(syncs / (turns + 3 + 6)).toFixed(2),
      turnsPerS: +tp.turnsPerS.toFixed(1),
      load: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    }),
  );
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
