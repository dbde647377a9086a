// `node .bench/bench/tui-heap.js TURNS...`: where the TUI's memory goes. The TUI in tmux
// with --heapsnapshot-signal, turns fed as fast as it takes them; at each mark a heap
// snapshot of the main thread (the view) and the RSS; then the objects that grew most
// between the first and the last snapshot, by constructor. For working on the TUI.
import fs from 'node:fs';
import path from 'node:path';
import { startFakes } from './fakes.js';
import { HEADER_RE, waitScreen } from './startup.js';
import {
  CLI,
  cleanupAll,
  cleanupSync,
  log,
  makeRoot,
  prose,
  rng,
  sleep,
  startConsumers,
  killTmuxSession,
  tempDir,
  tmux,
  writeEnvelope,
} from './util.js';
import { memMiB } from './proc.js';

function summarize(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields as string[];
  const types = snap.snapshot.meta.node_types[0] as string[];
  const n = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const nodes = snap.nodes as number[];
  const strings = snap.strings as string[];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < nodes.length; i += n) {
    const type = types[nodes[i + iType]];
    const name = type === 'object' || type === 'closure' ? `${type}:${strings[nodes[i + iName]]}` : type;
    const e = out.get(name) ?? { count: 0, size: 0 };
    e.count++;
    e.size += nodes[i + iSize];
    out.set(name, e);
  }
  return out;
}

async function main(): Promise<void> {
  const marks = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => x > 0);
  if (!marks.length) marks.push(1000, 3000);
  const fakes = await startFakes();
  const dir = tempDir('relay-bench-heap-');
  const sessions = ['s1', 's2', 's3', 's4'];
  const paths = makeRoot({
    base: fs.existsSync('/dev/shm') ? '/dev/shm' : undefined,
    sessions,
    env: fakes.env,
    config: { history: { cap_tokens: 8_000, keep_recent: 10 } },
  });
  const name = 'tui-heap';
  const memlog = path.join(dir, 'mem.jsonl');
  await tmux([
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    '120',
    '-y',
    '40',
    `RELAY_TUI_MEMLOG=${memlog} exec ${process.execPath} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir} ${CLI} --root ${paths.root}`,
  ]);
  const pid = Number((await tmux(['list-panes', '-t', name, '-F', '#{pane_pid}'])).trim().split('\n')[0]);

  const consumers = startConsumers(paths, sessions);
  const r = rng(7);
  let written = 0;
  await waitScreen(name, HEADER_RE, 30_000);
  const feeder = setInterval(() => {
    while (written - consumers.delivered < 64) {
      writeEnvelope(paths, sessions[written % sessions.length], `${prose(r, 300)} #t${written}#`);
      written++;
    }
  }, 10);
  const snaps: string[] = [];
  try {
    for (const m of marks) {
      while (consumers.delivered < m) await sleep(100);
      const before = new Set(fs.readdirSync(dir));
      const thread = process.env.HEAP_THREAD ?? 'engine';
      if (thread === 'none') {
        await sleep(5500);
        const mem = fs.existsSync(memlog)
          ? fs
              .readFileSync(memlog, 'utf8')
              .trim()
              .split('\n')
              .slice(-2)
              .map((l) => JSON.parse(l))
          : [];
        log(
          `at ${consumers.delivered} turns: RSS ${memMiB(pid).rss.toFixed(0)} MiB; ${mem.map((x) => `${x.thread} ${(x.heapUsed / 1e6).toFixed(0)} of ${(x.heapTotal / 1e6).toFixed(0)} MB`).join(', ')}`,
        );
        continue;
      }
      fs.writeFileSync(`${memlog}.snap-${thread}`, '');
      let file: string | undefined;
      for (let i = 0; i < 1200 && !file; i++) {
        await sleep(100);
        file = fs.readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
      }
      // Wait until the snapshot is whole (its size stops changing).
      let size = -1;
      while (file && (size <= 0 || fs.statSync(path.join(dir, file)).size !== size)) {
        size = fs.statSync(path.join(dir, file)).size;
        await sleep(500);
      }
      const mem = fs.existsSync(memlog)
        ? fs
            .readFileSync(memlog, 'utf8')
            .trim()
            .split('\n')
            .slice(-2)
            .map((l) => JSON.parse(l))
        : [];
      log(
        `at ${consumers.delivered} turns: heap used ${mem.map((x) => `${x.thread} ${(x.heapUsed / 1e6).toFixed(0)} of ${(x.heapTotal / 1e6).toFixed(0)} MB (external ${(x.external / 1e6).toFixed(0)})`).join(', ')}`,
      );
      log(
        `at ${consumers.delivered} turns: RSS ${memMiB(pid).rss.toFixed(0)} MiB, main-thread heap snapshot ${(size / 1e6).toFixed(1)} MB`,
      );
      if (file) snaps.push(path.join(dir, file));
    }
  } finally {
    clearInterval(feeder);
    consumers.close();
    await killTmuxSession(name, pid);
  }
  if (snaps.length >= 2) {
    const a = summarize(snaps[0]);
    const b = summarize(snaps[snaps.length - 1]);
    const rows = [...b.entries()]
      .map(([k, v]) => ({ k, dc: v.count - (a.get(k)?.count ?? 0), ds: v.size - (a.get(k)?.size ?? 0), size: v.size }))
      .sort((x, y) => y.ds - x.ds)
      .slice(0, 25);
    for (const x of rows) log(`${x.k.padEnd(50)} +${x.dc} objects  +${(x.ds / 1e6).toFixed(2)} MB  (now ${(x.size / 1e6).toFixed(2)} MB)`);
  }
  await fakes.close();
  await cleanupAll();
}

process.on('exit', cleanupSync);
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
