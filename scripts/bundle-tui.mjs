// `npm run build`, after tsc: the TUI's two threads as bundles in dist/tui/.
//
// Why: Ink alone is ~1,000 module files (es-toolkit's whole compat barrel for one
// `throttle`), and Node's loader reads, links and compiles each one. Bundled, the view's
// imports take ~85 ms instead of ~370 ms and ~20 MB less RSS; the engine thread's the
// same. Both threads still run the modules tsc wrote, only joined: the bundle is what
// `relay-tui` starts (src/host/tui-entry.ts), and every test of the TUI's process runs it.
//
// One change to a dependency, made here and checked: Ink (6.x) draws every frame into a
// new Output whose caches start empty, so each frame tokenizes every ANSI line on the
// screen again though few changed. The bundle gives all frames one cache, emptied when it
// holds more than CACHE_LINES lines (each line's styled cells are ~10 KB: a few MB at most): a frame at 120x40
// costs ~25% less (bench/frame.ts), which is keystroke echo's share too. If Ink's
// output.js no longer has the line replaced, the build fails rather than ship without it.
//
// A second, for the same frames: Ink measures every text node's widest line each frame
// with string-width, whose fast path is printable ASCII only; the bundle gives Ink (and
// its dependencies that use the same string-width) dist/ui/string-width-cached.js, the
// same function with a bounded memory of the lines it measured.
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

const CACHE_LINES = 400;
const SHARED_CACHES = `
let sharedOutputCaches;
function frameCaches() {
  sharedOutputCaches ??= new OutputCaches();
  const c = sharedOutputCaches;
  if (c.styledChars.size + c.widths.size + c.blockWidths.size > ${CACHE_LINES}) {
    c.styledChars.clear();
    c.widths.clear();
    c.blockWidths.clear();
  }
  return c;
}
`;

/** esbuild plugin: ink/build/output.js with one cache across frames. */
const inkOutputCaches = {
  name: 'ink-output-caches',
  setup(b) {
    b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]output\.js$/ }, async (args) => {
      const src = await fs.promises.readFile(args.path, 'utf8');
      const from = 'caches = new OutputCaches();';
      if (!src.includes(from) || !src.includes('class OutputCaches'))
        throw new Error(`${args.path}: Ink's Output changed; update scripts/bundle-tui.mjs (ink-output-caches)`);
      return { contents: src.replace(from, 'caches = frameCaches();') + SHARED_CACHES, loader: 'js' };
    });
  },
};

// Ink's measureText and wrapText remember every text they ever measured or wrapped, for
// the life of the process: every distinct header, counter and turn line (measured: ~40 B a
// turn). Bounded here like the Output cache: emptied past TEXT_CACHE entries.
const TEXT_CACHE = 2000;
const BOUNDED_TEXT_CACHES = {
  'measure-text.js': [
    ['cache.set(text, dimensions);', `if (cache.size >= ${TEXT_CACHE}) cache.clear();\n    cache.set(text, dimensions);`],
  ],
  'wrap-text.js': [
    ['const cache = {};', 'let cache = {};\nlet cacheEntries = 0;'],
    [
      'cache[cacheKey] = wrappedText;',
      `if (++cacheEntries > ${TEXT_CACHE}) {\n        cache = {};\n        cacheEntries = 1;\n    }\n    cache[cacheKey] = wrappedText;`,
    ],
  ],
};

/** esbuild plugin: Ink's two text caches, bounded. */
const inkTextCaches = {
  name: 'ink-text-caches',
  setup(b) {
    b.onLoad({ filter: /[\\/]ink[\\/]build[\\/](measure-text|wrap-text)\.js$/ }, async (args) => {
      let src = await fs.promises.readFile(args.path, 'utf8');
      for (const [from, to] of BOUNDED_TEXT_CACHES[path.basename(args.path)]) {
        if (!src.includes(from)) throw new Error(`${args.path}: Ink changed; update scripts/bundle-tui.mjs (ink-text-caches)`);
        src = src.replace(from, to);
      }
      return { contents: src, loader: 'js' };
    });
  },
};

// A third, for the cells of those lines: ansi-tokenize builds each cell as
// `{ ...token, styles }`, and V8 (11.3, Node 20) gives every object made by that spread
// and one more property a hidden class of its own. With the Output cache holding ~30,000
// cells that was ~38,000 maps and descriptor arrays, ~6 MB of the view's live heap (heap
// snapshot at 7,000 turns, 2026-12-02). The same object as a literal shares one map.
const SPREAD_CELL = `ret.push({
                ...token,
                styles: [...codes],
            });`;
const LITERAL_CELL = `ret.push({
                type: token.type,
                value: token.value,
                fullWidth: token.fullWidth,
                styles: [...codes],
            });`;

/** esbuild plugin: ansi-tokenize's styled cells share one hidden class. */
const sharedCellShape = {
  name: 'shared-cell-shape',
  setup(b) {
    b.onLoad({ filter: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]styledChars\.js$/ }, async (args) => {
      const src = await fs.promises.readFile(args.path, 'utf8');
      const tokenize = await fs.promises.readFile(path.join(path.dirname(args.path), 'tokenize.js'), 'utf8');
      // The literal copies the three fields a char token has; a fourth would be lost.
      if (!src.includes(SPREAD_CELL) || !/type: "char",\s*value: \w+,\s*fullWidth,?\s*\}/.test(tokenize))
        throw new Error(`${args.path}: ansi-tokenize changed; update scripts/bundle-tui.mjs (shared-cell-shape)`);
      return { contents: src.replace(SPREAD_CELL, LITERAL_CELL), loader: 'js' };
    });
  },
};

/** esbuild plugin: the top-level string-width, as Ink resolves it, becomes the cached one. */
const cachedWidths = {
  name: 'cached-string-width',
  setup(b) {
    const shim = path.join(root, 'dist/ui/string-width-cached.js');
    const real = path.join(root, 'node_modules/string-width/index.js');
    if (!fs.existsSync(shim)) throw new Error(`${shim}: missing; tsc runs before this script`);
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.importer === shim || args.pluginData?.inner) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { inner: true } });
      // A dependency with its own (older) copy keeps it: only the copy the shim wraps is replaced.
      return r.path === real ? { path: shim } : r;
    });
  },
};

await build({
  absWorkingDir: root,
  entryPoints: { start: 'dist/host/tui/start.js', worker: 'dist/host/tui/worker.js' },
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
  plugins: [inkOutputCaches, inkTextCaches, sharedCellShape, cachedWidths],
  legalComments: 'none',
  charset: 'ascii',
  logLevel: 'warning',
});

// V8 keeps each script's source for the life of the process, and one character past
// Latin-1 anywhere in a file makes its whole source a two-byte string: the engine's two
// largest files (~1.2 and ~1.1 MB, with 15 and 95 such characters, in dependencies'
// comments and one regex) cost twice that in its heap. charset 'ascii' escapes strings,
// templates and identifiers, but not comments or regex literals; \uXXXX means the same
// code unit in a regex, with or without the u flag, and nothing in a comment.
for (const name of fs.readdirSync(path.join(root, 'dist/tui'))) {
  if (!name.endsWith('.js')) continue;
  const file = path.join(root, 'dist/tui', name);
  const text = fs.readFileSync(file, 'utf8');
  // eslint-disable-next-line no-control-regex
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) fs.writeFileSync(file, ascii);
}
