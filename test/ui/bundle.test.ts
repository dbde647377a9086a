import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

// The TUI runs the bundle scripts/bundle-tui.mjs writes (npm test builds first), with three
// changes to Ink made there; the build fails if Ink no longer has the code they replace.
const dir = new URL('../../dist/tui/', import.meta.url).pathname;
const bundle = fs
  .readdirSync(dir)
  .filter((n) => n.endsWith('.js'))
  .map((n) => fs.readFileSync(path.join(dir, n), 'utf8'))
  .join('\n');

it("Ink's Output draws every frame with one shared cache", () => {
  expect(bundle).toMatch(/caches = frameCaches\(\)/);
});

it('widest-line, which Ink calls for every text node each frame, measures with the remembering string-width', () => {
  expect(bundle).toMatch(/function widestLine\([^)]*\)\s*\{[^}]*cachedStringWidth\(/);
});

it("measureText's and wrapText's caches are bounded, not kept for the life of the process", () => {
  expect(bundle).toMatch(/if \(cache\.size >= 2e3\) cache\.clear\(\);\s*cache\.set\(text, dimensions\);/);
  expect(bundle).toMatch(/if \(\+\+cacheEntries > 2e3\) \{\s*cache\d* = \{\};\s*cacheEntries = 1;\s*\}/);
});

it('every file of the bundle is ASCII, so V8 holds its source as one byte a character', () => {
  for (const n of fs.readdirSync(dir).filter((x) => x.endsWith('.js'))) {
    const at = fs.readFileSync(path.join(dir, n), 'utf8').search(/[^\x00-\x7f]/);
    expect(at, `${n}: a character past ASCII at offset ${at}`).toBe(-1);
  }
});

it("ansi-tokenize's cells are built as one literal, so they share a hidden class", () => {
  expect(bundle).toMatch(
    /ret\.push\(\{\s*type: token\.type,\s*value: token\.value,\s*fullWidth: token\.fullWidth,\s*styles: \[\.\.\.codes\]/,
  );
  expect(bundle).not.toMatch(/\.\.\.token,\s*styles: \[\.\.\.codes\]/);
});
