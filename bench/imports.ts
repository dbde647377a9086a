// Start-up evidence: how long a fresh node takes to import the modules each entry
// path loads, measured in a child process (one per run, median of `runs`), in the
// order the CLI loads them so shared dependencies are counted once, where first met.
import { execFile } from 'node:child_process';
import { childEnv, median, REPO } from './util.js';

// The headless path in load order; the SDK last: the relay loads it at its first API call.
const HEADLESS = ['zod', 'yaml', './dist/host/open-relay.js', './dist/host/headless.js', '@anthropic-ai/sdk'];
const TUI = ['react', 'react-reconciler', 'yoga-layout', 'ink', 'ink-text-input', './dist/ui/run-tui.js'];

function script(mods: string[]): string {
  return `const out = { boot: performance.now() };
for (const m of ${JSON.stringify(mods)}) { const t = performance.now(); try { await import(m); out[m] = performance.now() - t; } catch { out[m] = null; } }
process.stdout.write(JSON.stringify(out));`;
}

function runOnce(mods: string[], env: Record<string, string>): Promise<Record<string, number | null>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script(mods)], { cwd: REPO, env: childEnv(env) }, (err, stdout) => {
      if (err) return reject(err);
      try {
        resolve(JSON.parse(String(stdout)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

export interface ImportTimes {
  headless: Array<[string, number]>;
  tui: Array<[string, number]>;
  /** The same TUI imports with NODE_ENV=production (React's production build). */
  tuiProduction: Array<[string, number]>;
}

async function medians(mods: string[], runs: number, env: Record<string, string> = {}): Promise<Array<[string, number]>> {
  const all: Array<Record<string, number | null>> = [];
  for (let i = 0; i < runs; i++) all.push(await runOnce(mods, env));
  return ['boot', ...mods].map((m) => [m, median(all.map((r) => r[m] ?? NaN).filter((x) => !Number.isNaN(x)))]);
}

export async function measureImports(runs = 3): Promise<ImportTimes> {
  return {
    headless: await medians(HEADLESS, runs),
    tui: await medians(TUI, runs),
    tuiProduction: await medians(TUI, runs, { NODE_ENV: 'production' }),
  };
}
