import { execFile } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { unlinkDurable } from '../../fs/atomic.js';
import { readLock } from '../../fs/lock.js';
import { exitCodeOf, failureText } from '../../cli/exit-codes.js';
import type { FromWorker, HostOpenOptions } from './protocol.js';
import { startMemLog } from './memlog.js';
import { keepFavouringSize } from './memory.js';
import { RelayProxy } from './proxy.js';

/**
 * The TUI with its engine on a worker thread. Why a thread and not an engine whose writes
 * are asynchronous: a turn's durable steps are ordered fsyncs (SPEC: nothing removed before
 * what replaces it is durable), and the engine is written — and tested — as synchronous
 * steps between awaits; making every step async would reopen every crash-ordering
 * argument in the engine, while a thread moves the same code, unchanged, off the thread
 * that echoes keys and draws frames. It also takes the SDK's stream parsing and the
 * JSON of a growing conversation off that thread. The main thread imports Ink while the
 * worker opens the relay, so start-up costs the slower of the two, not their sum.
 */

export interface HostedTuiOptions extends HostOpenOptions {
  title?: string;
}

/** `tmux show -gv prefix` when inside tmux (e.g. "C-a"); null when unknown. */
function tmuxPrefix(): Promise<string | null> {
  if (!process.env.TMUX) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile('tmux', ['show', '-gv', 'prefix'], { timeout: 1500 }, (err, out) => resolve(err ? null : String(out).trim() || null));
  });
}

export async function runHostedTui(o: HostedTuiOptions): Promise<number> {
  // React's development build records a performance.measure() per render and Node keeps
  // them all (BENCHMARKS.md). Ink draws no live frames when it sees CI=true; someone who
  // starts the TUI on a terminal wants it live. Both before Ink and React load.
  process.env.NODE_ENV ??= 'production';
  if (process.stdout.isTTY) {
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
  }
  // A first frame at once, in plain ANSI, while Ink loads and the worker opens the relay
  // (each takes a few hundred ms); Ink's first frame replaces it (see below).
  const early = !!process.stdout.isTTY && !!process.stdin.isTTY;
  if (early)
    process.stdout.write(
      `\x1b[1mrelay-tui\x1b[22m${o.title ? ` \x1b[35;1m${o.title}\x1b[39;22m` : ''}  \x1b[2m○ starting: opening the relay…\x1b[22m`,
    );
  const clearEarly = () => {
    if (early) process.stdout.write('\r\x1b[2K');
  };
  startMemLog();
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: {
      root: o.root,
      configFile: o.configFile,
      envOverrides: o.envOverrides,
      backend: o.backend,
      chatEnv: o.chatEnv,
      notes: o.notes,
    } satisfies HostOpenOptions,
    stdout: true,
    stderr: true,
    env: process.env,
    // A small young generation: the engine's garbage is short-lived and its live set small.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  const flagsKept = keepFavouringSize(worker);
  const proxy = new RelayProxy(worker);
  // Whatever the engine thread prints would tear Ink's frame: it becomes log lines instead.
  let printed = '';
  const capture = (chunk: Buffer | string) => {
    const text = String(chunk);
    printed = (printed + text).slice(-8192);
    for (const line of text.split('\n')) if (line.trim()) proxy.injectLog('warn', line.trim());
  };
  worker.stdout.on('data', capture);
  worker.stderr.on('data', capture);

  let lockFile: string | null = null;
  let crashUi: ((err: unknown) => void) | null = null;
  let pendingCrash: unknown = null;
  const crashed = (err: unknown) => {
    if (crashUi) crashUi(err);
    else pendingCrash ??= err;
  };
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  let stopping = false;

  type Start = { ok: true; keys: Record<string, string>; warnings: string[] } | { ok: false; code: number; text: string };
  const started = new Promise<Start>((resolve) => {
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'ready') {
        lockFile = m.paths.lock;
        resolve({ ok: true, keys: m.keys, warnings: m.warnings });
      } else if (m.t === 'failed') resolve({ ok: false, code: exitCodeOf(m.failure), text: failureText(m.failure) });
      else if (m.t === 'crashed') crashed(new Error(`the engine thread crashed: ${m.error}`));
    });
    worker.once('error', (err) => {
      resolve({ ok: false, code: 1, text: `relay-tui: the engine thread crashed: ${err?.stack ?? err}\n` });
      crashed(new Error(`the engine thread crashed: ${err?.stack ?? err}`));
    });
    void exited.then((code) => {
      proxy.markGone(`engine thread exited (${code})`);
      resolve({
        ok: false,
        code: code || 1,
        text: `relay-tui: the engine thread exited (${code}) before the relay started${printed ? `:\n${printed}` : ''}\n`,
      });
      if (!stopping)
        crashed(
          new Error(
            `the engine thread exited unexpectedly (code ${code})${printed ? `: ${printed.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
          ),
        );
    });
  });

  // Ink once the engine thread runs (~30 ms): see keepFavouringSize.
  const [ui, start, prefix] = await Promise.all([flagsKept.then(() => import('../../ui/run-tui.js')), started, tmuxPrefix()]);
  clearEarly();
  if (!start.ok) {
    await worker.terminate().catch(() => undefined);
    process.stderr.write(start.text);
    return start.code;
  }
  await Promise.race([proxy.ready(), exited]);
  const releaseLeftLock = () => {
    // A crashed engine thread cannot release the lock it took for this process.
    try {
      if (lockFile && readLock(lockFile)?.pid === process.pid) unlinkDurable(lockFile);
    } catch {
      /* best effort: a dead pid's lock is taken over on the next start anyway */
    }
  };
  try {
    const code = await ui.runTui(proxy, {
      title: o.title,
      keys: start.keys,
      warnings: start.warnings,
      tmuxPrefix: prefix,
      onFatal: (crash) => {
        crashUi = crash;
        if (pendingCrash) crash(pendingCrash);
      },
      onExit: async () => {
        stopping = true;
        await proxy.stop();
        const t = setTimeout(() => void worker.terminate(), 5000);
        await exited;
        clearTimeout(t);
      },
    });
    return code;
  } finally {
    stopping = true;
    await worker.terminate().catch(() => undefined);
    releaseLeftLock();
  }
}
