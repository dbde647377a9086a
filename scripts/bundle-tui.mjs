// `npm run build`, after tsc: the TUI's two threads as bundles in dist/tui/.
//
// Why: Ink alone is ~1,000 module files (es-toolkit's whole compat barrel for one
// `throttle`), and Node's loader reads, links and compiles each one. Bundled, the view's
// imports take ~85 ms instead of ~370 ms and ~20 MB less RSS; the engine thread's the
// same. Both threads still run the modules tsc wrote, only joined: the bundle is what
// `relay-tui` starts (src/tui-entry.ts), and every test of the TUI's process runs it.
//
// start.js (view thread) and worker.js (engine thread) keep their names, so the
// view's `new Worker(new URL('./worker.js', import.meta.url))` finds the engine's bundle
// next to it. Code splitting keeps `import()` lazy: Ink loads while the engine thread
// starts, the SDK at the first API call.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Chunk names change with their content: a stale one must not linger in the package.
fs.rmSync(path.join(root, 'dist/tui'), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { start: 'dist/ui-host/start.js', worker: 'dist/ui-host/worker.js' },
  outdir: 'dist/tui',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (react, dotenv) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __relayRequire } from 'node:module'; const require = __relayRequire(import.meta.url);" },
  // Ink imports react-devtools-core only when DEV=true; it is not a dependency.
  alias: { 'react-devtools-core': './scripts/no-devtools.mjs' },
  legalComments: 'none',
  logLevel: 'warning',
});
