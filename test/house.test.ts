import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { circles, importGraph } from './helpers/import-graph.js';

/**
 * The house's rules (ARCHITECTURE.md, "The rooms"), read from the code itself so that
 * CI keeps them: no import circle, rooms depend one way, the engine's inner rooms in
 * order, and no file under src/ over ~400 lines. The front door (views reach the
 * engine through engine/api.ts) is a lint rule in eslint.config.js; it is checked here too.
 */

const REPO = path.resolve(import.meta.dirname, '..');
const MAX_LINES = 400;

const graph = importGraph(REPO, ['src', 'bench']);
const files = [...graph.keys()];

const ENGINE_ROOMS = ['kernel', 'mailboxes', 'journals', 'limits', 'operator', 'view', 'turn'];
/** An engine file's floor: its room's place in the order; the top-level files stand above every room. */
function engineFloor(file: string): number {
  const m = /^src\/engine\/([^/]+)\//.exec(file);
  return m ? ENGINE_ROOMS.indexOf(m[1]) : ENGINE_ROOMS.length;
}

/** The floors below the engine: what they may import, by folder. */
const LOWER: Record<string, string[]> = {
  'src/text.ts': [],
  'src/fs/': ['src/text.ts'],
  'src/protocol/': ['src/text.ts', 'src/fs/'],
  'src/pricing/': ['src/text.ts', 'src/fs/', 'src/protocol/'],
  'src/config/': ['src/text.ts', 'src/fs/', 'src/protocol/', 'src/pricing/'],
};
const under = (file: string, prefix: string) => (prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix);

describe('the house', () => {
  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(graph.get('src/engine/relay.ts')!.length).toBeGreaterThan(3);
  });

  it('has no import circle in src/ or bench/', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('finds a circle when there is one (the checker itself)', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(circles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('keeps every file under src/ at ~400 lines or fewer', () => {
    const big = files
      .filter((f) => f.startsWith('src/'))
      .map((f) => [f, fs.readFileSync(path.join(REPO, f), 'utf8').split('\n').length - 1] as const)
      .filter(([, n]) => n > MAX_LINES)
      .map(([f, n]) => `${f} (${n} lines)`);
    expect(big).toEqual([]);
  });

  it("has the engine's rooms depend one way: kernel < mailboxes < journals < limits < operator < view < turn < relay", () => {
    const upward: string[] = [];
    for (const [f, deps] of graph) {
      if (!f.startsWith('src/engine/')) continue;
      for (const d of deps) if (d.startsWith('src/engine/') && engineFloor(d) > engineFloor(f)) upward.push(`${f} -> ${d}`);
    }
    expect(upward).toEqual([]);
  });

  it('has the floors below the engine import nothing above them', () => {
    const upward: string[] = [];
    for (const [f, deps] of graph) {
      const floor = Object.keys(LOWER).find((p) => under(f, p));
      if (!floor) continue;
      const allowed = [floor, ...LOWER[floor]];
      for (const d of deps) if (!allowed.some((p) => under(d, p))) upward.push(`${f} -> ${d}`);
    }
    expect(upward).toEqual([]);
  });

  it('has the engine and the adapters import no view, host, command or CLI', () => {
    const upward: string[] = [];
    for (const [f, deps] of graph) {
      if (!/^src\/(engine|adapters)\//.test(f)) continue;
      for (const d of deps) if (/^src\/(ui|host|commands|cli|log|demo)\//.test(d) || d.startsWith('bench/')) upward.push(`${f} -> ${d}`);
    }
    expect(upward).toEqual([]);
  });

  it('lets views, the TUI host and the log reach the engine only through engine/api.ts (the front door)', () => {
    const around: string[] = [];
    for (const [f, deps] of graph) {
      if (!/^src\/(ui|host\/tui|log)\//.test(f)) continue;
      for (const d of deps) if (d.startsWith('src/engine/') && d !== 'src/engine/api.ts') around.push(`${f} -> ${d}`);
    }
    expect(around).toEqual([]);
  });

  it('ships nothing of src/ but what the package runs: no bench under src/', () => {
    expect(fs.existsSync(path.join(REPO, 'src/bench'))).toBe(false);
  });

  it("has README's code layout name every folder under src/, and only folders that exist", () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Layout of the code'));
    const block = section.slice(section.indexOf('```'), section.indexOf('```', section.indexOf('```') + 3));
    const named = new Set([...block.matchAll(/(?:^|\s)((?:src|bench|test)\/(?:[\w-]+\/)*)/gm)].map((m) => m[1]));
    const folders = new Set(['bench/']);
    for (const f of files) if (f.startsWith('src/')) folders.add(path.posix.dirname(f) + '/');
    const missing = [...folders].filter((d) => d !== 'src/' && !named.has(d)).sort();
    const stale = [...named].filter((d) => !fs.existsSync(path.join(REPO, d))).sort();
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });
});
