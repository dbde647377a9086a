// Throughput: 1,000 envelopes from 4 sessions through a spawned `relay-tui --no-ui`
// (its own process, as deployed), consumers acking (deleting input.txt) the moment
// it appears. Optionally under --cpu-prof, for the profile that says where time goes.
import fs from 'node:fs';
import { startFakes } from './fakes.js';
import { log, makeRoot, now, prose, rng, sleep, spawnRelay, startConsumers, stopChild, until, writeEnvelope } from './util.js';
import { cpuSeconds } from './proc.js';

export interface ThroughputResult {
  envelopes: number;
  seconds: number;
  turnsPerS: number;
  cpuSeconds: number;
  /** Deliveries per second in each second of the run. */
  perSecond: number[];
  profile?: string;
}

export async function waitRunning(statusFile: string, pid: number, timeoutMs = 15_000, everyMs = 2): Promise<number> {
  return until(
    () => {
      try {
        const s = JSON.parse(fs.readFileSync(statusFile, 'utf8'));
        return s.pid === pid && s.state === 'running' ? now() : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    `${statusFile} to say running (pid ${pid})`,
    everyMs,
  );
}

export async function measureThroughput(o: { envelopes: number; base?: string; profileDir?: string }): Promise<ThroughputResult> {
  const fakes = await startFakes();
  const sessions = ['s1', 's2', 's3', 's4'];
  const paths = makeRoot({ base: o.base, sessions, env: fakes.env, config: { history: { cap_tokens: 30_000, keep_recent: 10 } } });
  const nodeArgs = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [];
  const child = spawnRelay(['--no-ui', '--root', paths.root], { nodeArgs });
  const consumers = startConsumers(paths, sessions);
  try {
    await waitRunning(paths.status, child.pid!);
    await sleep(200);
    const cpu0 = cpuSeconds(child.pid!);
    const r = rng(11);
    const t0 = now();
    // Written in small bursts, yielding so the fake in this process keeps answering.
    for (let i = 0; i < o.envelopes; i++) {
      writeEnvelope(paths, sessions[i % sessions.length], `${prose(r, 380)} #t${i}#`);
      if (i % 8 === 7) await new Promise((res) => setImmediate(res));
    }
    await until(() => consumers.delivered >= o.envelopes, 240_000, `${o.envelopes} deliveries (got ${consumers.delivered})`, 10);
    const t1 = consumers.times[o.envelopes - 1];
    const cpu = cpuSeconds(child.pid!) - cpu0;
    const seconds = (t1 - t0) / 1000;
    const perSecond: number[] = [];
    for (const t of consumers.times.slice(0, o.envelopes)) {
      const k = Math.floor((t - t0) / 1000);
      perSecond[k] = (perSecond[k] ?? 0) + 1;
    }
    log(`throughput${o.profileDir ? ' (profiled)' : ''}${o.base ? ` on ${o.base}` : ''}: ${o.envelopes} turns in ${seconds.toFixed(2)} s`);
    await stopChild(child);
    let profile: string | undefined;
    if (o.profileDir)
      profile = fs
        .readdirSync(o.profileDir)
        .filter((n) => n.endsWith('.cpuprofile'))
        .map((n) => `${o.profileDir}/${n}`)[0];
    return {
      envelopes: o.envelopes,
      seconds,
      turnsPerS: o.envelopes / seconds,
      cpuSeconds: cpu,
      perSecond: perSecond.map((x) => x ?? 0),
      profile,
    };
  } finally {
    consumers.close();
    await stopChild(child);
    await fakes.close();
  }
}
