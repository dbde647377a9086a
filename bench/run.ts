// `npm run bench`: measures the relay against the targets of issue 5 in one run and
// writes BENCHMARKS.md. Not part of the test suite and never imported by the CLI.
// Every process and tmux session it starts is ended in `finally` (and on a signal).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureBackend, writeBackendSection } from './backend.js';
import { measureDays } from './day.js';
import { measureDollars } from './dollars.js';
import { measureSessionWait } from './session-wait.js';
import { burstScript, PARALLEL_SCRIPT, WAIT_SCALE, WAIT_SCRIPTS } from './session-wait-scripts.js';
import { measureParallel } from './parallel-calls.js';
import { startFakes, type Fakes } from './fakes.js';
import { measureFloor } from './floor.js';
import { measureIdle } from './idle.js';
import { measureIdleAsUser } from './idle-user.js';
import { measureImports } from './imports.js';
import { measureInproc } from './inproc.js';
import { summarizeProfile } from './profile.js';
import { render, type Results } from './report.js';
import { measureStartup } from './startup.js';
import { measureThroughput } from './throughput.js';
import { measureEchoFloor, measureEngineMemory, measureTuiLoad, measureTuiMemory } from './tui.js';
import { cleanupAll, cleanupSync, log, now, REPO, tempDir } from './util.js';
import { fsOf, machine } from './proc.js';

function tmpfsDir(): string | undefined {
  try {
    const d = '/dev/shm';
    fs.accessSync(d, fs.constants.W_OK);
    return fsOf(d).startsWith('tmpfs') ? d : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const t0 = now();
  const date = new Date();
  const m = machine();
  const shm = tmpfsDir();
  log(`machine: ${m.nproc} × ${m.cpu}, node ${m.node}; load ${m.load}; temp dir on ${m.fs}${shm ? `; tmpfs at ${shm}` : ''}`);
  let fakes: Fakes | undefined;
  try {
    const floorUs = measureFloor().samples;
    log(`floor: median ${floorUs.sort((a, b) => a - b)[floorUs.length >> 1].toFixed(0)} µs`);
    const inproc = await measureInproc({ turns: 500, ackSamples: 150 });
    const throughput = await measureThroughput({ envelopes: 1000 });
    const profileDir = tempDir('relay-bench-prof-');
    const profiled = await measureThroughput({ envelopes: 200, profileDir });
    const profile = profiled.profile ? summarizeProfile(profiled.profile) : undefined;
    const throughputTmpfs = shm ? await measureThroughput({ envelopes: 500, base: shm }) : undefined;

    fakes = await startFakes();
    const startup = await measureStartup({ fakes, headlessRuns: 5, tuiRuns: 3 });
    log('start-up: import times');
    const imports = await measureImports(3);
    log('echo floor: cat in tmux');
    const echoFloorMs = await measureEchoFloor(10);
    const tuiLoad = await measureTuiLoad({ fakes, perS: 100, keystrokes: 100, windowMs: 8000 });
    tuiLoad.echoFloorMs = echoFloorMs;
    // The 60 s idle window runs beside the memory and dollar runs, which report no timings.
    const f = fakes;
    // Idle as a user leaves it (3 minutes: a few frames a minute is what it measures) beside them too.
    const [idle, idleUser, [memory, engineMemory, dollars]] = await Promise.all([
      measureIdle({ fakes: f, seconds: 60 }),
      measureIdleAsUser({ seconds: 180 }),
      (async () => {
        // The figure without a profiler (it holds ~20 MB of its own in this process: samples
        // and code entries for both threads); the TUI's CPU profile from a shorter run of its own.
        const mem = await measureTuiMemory({ fakes: f, turns: 10_000, base: shm, timeLimitS: 150, profile: false });
        const profiledMem = await measureTuiMemory({ fakes: f, turns: 3000, base: shm, timeLimitS: 60, profile: true });
        mem.profile = profiledMem.profile;
        mem.profileTurns = profiledMem.turns;
        mem.profileSeconds = profiledMem.seconds;
        const eng = await measureEngineMemory({ fakes: f, turns: 10_000, base: shm, timeoutS: 90 });
        const dol = await measureDollars({ turns: 200, capTokens: 150_000 });
        return [mem, eng, dol] as const;
      })(),
    ]);
    // Session wait on the real clock, alone (no other phase beside it), then the days on the simulated one.
    // One by one and with the relay's batching (issue 24 item 3, on by default): the targets compare the two.
    const sessionWait = [];
    for (const batch of [false, true]) {
      for (const [n, rounds] of WAIT_SCRIPTS)
        sessionWait.push(await measureSessionWait(burstScript(n, rounds), { scale: WAIT_SCALE, batch }));
    }
    // The design the relay does not have (issue 24): a call per session, several at once; bench-only.
    const parallel = [];
    for (const sharedBreakpoint of [false, true])
      parallel.push(await measureParallel(burstScript(...PARALLEL_SCRIPT), { scale: WAIT_SCALE, sharedBreakpoint }));
    const day = await measureDays({ base: shm });
    const dayBatched = (await measureDays({ base: shm, batch: true })).today;
    const floorEndUs = measureFloor(200).samples;

    const results: Results = {
      date,
      machine: m,
      loadAtEnd: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
      benchSeconds: (now() - t0) / 1000,
      floorUs,
      floorEndUs,
      inproc,
      throughput,
      throughputTmpfs,
      tmpfs: shm ? `${shm}, ${fsOf(shm)}` : undefined,
      profile,
      profileTurns: profiled.envelopes,
      startup,
      imports,
      idle,
      idleUser,
      memory,
      engineMemory,
      tuiLoad,
      dollars,
      sessionWait,
      parallel,
      day,
      dayBatched,
    };
    const { markdown, verdicts } = render(results);
    // The ssh section is written by .bench/bench/ssh.js (it needs an sshd), the waiter's by
    // .bench/bench/waiter.js, the evidence digest's by .bench/bench/evidence-cost.js: kept as they were.
    const out = path.join(REPO, 'BENCHMARKS.md');
    const before = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    let text = markdown;
    for (const name of ['ssh-bench', 'waiter-bench', 'evidence-bench', 'backend-bench']) {
      const kept = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`).exec(before)?.[0];
      if (kept && !text.includes(`${name}:start`)) text = `${text.trimEnd()}\n\n${kept}\n`;
    }
    fs.writeFileSync(out, text);
    // The claude-code backend against the API (issue 26): its own section, replaced in place.
    log('backend: claude-code against api');
    writeBackendSection(await measureBackend({ turns: 20 }));
    log(`wrote BENCHMARKS.md: ${verdicts.filter((v) => v.ok).length} of ${verdicts.length} targets met`);
    for (const v of verdicts) log(`  ${v.ok ? 'met   ' : 'MISSED'} ${v.figure}`);
    return 0;
  } finally {
    await fakes?.close();
    await cleanupAll();
    log(`done in ${((now() - t0) / 1000).toFixed(0)} s; every process the bench started has ended`);
  }
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
