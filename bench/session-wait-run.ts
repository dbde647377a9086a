// `node .bench/bench/session-wait-run.js [scale] [batch|both] [day]`: only the session-wait
// and supervised-day rows of the bench (9-11), printed, for work on latency, caching or
// batching without the whole `npm run bench`. Without an argument one envelope a call;
// `batch` the relay's batching (issue 24 item 3); `both` the two, with the rows comparing
// them, as `npm run bench` does. `day` skips the real-clock runs.
import fs from 'node:fs';
import { measureDays } from './day.js';
import { measureParallel, type ParallelRun } from './parallel-calls.js';
import { boundRows, dayFloorRows } from './report-bounds.js';
import { dayRows, leverRows, sessionWaitRows } from './report-wait.js';
import { measureSessionWait, type WaitRun } from './session-wait.js';
import { burstScript, PARALLEL_SCRIPT, WAIT_SCALE, WAIT_SCRIPTS } from './session-wait-scripts.js';
import { cleanupAll, log } from './util.js';

// The days report no timings: on tmpfs when there is one, as in `npm run bench`.
function tmpfs(): string | undefined {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const scale = Number(args.find((a) => /^[\d.]+$/.test(a)) ?? WAIT_SCALE);
  const both = args.includes('both');
  const batch = args.includes('batch');
  const modes = both ? [false, true] : [batch];
  const runs: WaitRun[] = [];
  const parallel: ParallelRun[] = [];
  if (!args.includes('day')) {
    for (const b of modes)
      for (const [n, rounds] of WAIT_SCRIPTS) runs.push(await measureSessionWait(burstScript(n, rounds), { scale, batch: b }));
    // The design the relay does not have (issue 24): a call per session, several at once.
    for (const sharedBreakpoint of [false, true])
      parallel.push(await measureParallel(burstScript(...PARALLEL_SCRIPT), { scale, sharedBreakpoint }));
  }
  const day = await measureDays({ batch: batch && !both, base: tmpfs() });
  const batched = both ? (await measureDays({ batch: true, base: tmpfs() })).today : undefined;
  const rows = [
    ...sessionWaitRows(runs),
    ...boundRows(runs, parallel),
    ...dayRows(day.today),
    ...dayFloorRows(day.today),
    ...leverRows(day.today, day.levers),
    ...(batched ? dayRows(batched).map((w) => ({ ...w, figure: `batch on: ${w.figure}` })) : []),
  ];
  process.stdout.write(
    rows
      .map((r) => `| ${r.n} | ${r.figure} | ${r.value} | ${r.target} | ${r.ok === undefined ? '—' : r.ok ? '**yes**' : '**NO**'} |`)
      .join('\n') + '\n',
  );
  for (const r of rows) if (r.ok !== undefined) log(`  ${r.ok ? 'met   ' : 'MISSED'} ${r.figure}`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
