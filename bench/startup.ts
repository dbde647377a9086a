// Start-up: process start (spawn) to status.json saying running, headless; and to the
// TUI's first frame in a tmux pane (capture-pane shows the header), each after one
// unmeasured warm-up start so the page cache holds node_modules either way.
import fs from 'node:fs';
import type { Fakes } from './fakes.js';
import { waitRunning } from './throughput.js';
import { capturePane, killTmuxSession, log, makeRoot, now, sleep, spawnRelay, startTuiInTmux, stopChild } from './util.js';

export interface StartupResult {
  headlessMs: number[];
  tuiMs: number[];
}

/** Screen polls this far apart: the figure is at most this late, and the poller stays light. */
const POLL_MS = 10;

export const HEADER_RE = /relay-tui\s.*RUNNING/;

/** Polls capture-pane (each poll is one tmux client, a few ms) until `re` matches. */
export async function waitScreen(name: string, re: RegExp | ((screen: string) => boolean), timeoutMs: number): Promise<number> {
  const end = now() + timeoutMs;
  const test = typeof re === 'function' ? re : (s: string) => re.test(s);
  for (;;) {
    const screen = await capturePane(name).catch(() => '');
    const t = now();
    if (test(screen)) return t;
    if (t > end) throw new Error(`bench: tmux pane ${name} did not show ${re} within ${timeoutMs} ms; it shows:\n${screen}`);
    // Back-to-back `tmux capture-pane` processes would take a core from what is starting.
    await sleep(POLL_MS);
  }
}

export async function measureStartup(o: { fakes: Fakes; headlessRuns: number; tuiRuns: number }): Promise<StartupResult> {
  const paths = makeRoot({ sessions: ['s1', 's2', 's3'], env: o.fakes.env });
  const out: StartupResult = { headlessMs: [], tuiMs: [] };
  for (let i = -1; i < o.headlessRuns; i++) {
    fs.rmSync(paths.status, { force: true });
    const t0 = now();
    const child = spawnRelay(['--no-ui', '--root', paths.root]);
    try {
      const t1 = await waitRunning(paths.status, child.pid!, 15_000, 1);
      if (i >= 0) out.headlessMs.push(t1 - t0);
    } finally {
      await stopChild(child);
    }
  }
  log(`start-up headless: ${out.headlessMs.map((x) => x.toFixed(0)).join(', ')} ms`);
  for (let i = -1; i < o.tuiRuns; i++) {
    const name = `startup-${i + 1}`;
    const t0 = now();
    const pid = await startTuiInTmux(name, ['--root', paths.root]);
    try {
      const t1 = await waitScreen(name, HEADER_RE, 20_000);
      if (i >= 0) out.tuiMs.push(t1 - t0);
    } finally {
      await killTmuxSession(name, pid);
    }
  }
  log(`start-up TUI: ${out.tuiMs.map((x) => x.toFixed(0)).join(', ')} ms`);
  return out;
}
