import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The house's rules (ARCHITECTURE.md, "The rooms"), read from the code itself so that
 * CI keeps them: no import circle, rooms depend one way, the engine's inner rooms in
 * order, and no file under src/ over ~400 lines. The front door (views reach the
 * engine through engine/api.ts) is a lint rule in eslint.config.js; it is checked here too.
 */

const REPO = path.resolve(import.meta.dirname, '..');
const MAX_LINES = 400;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Every relative import of a file (static, type-only, re-export and dynamic), as repo paths. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8');
  const info = ts.preProcessFile(text, true, true);
  const out: string[] = [];
  for (const ref of info.importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), ref.fileName));
    const base = target.replace(/\.js$/, '');
    const hit = [`${base}.ts`, `${base}.tsx`].find((c) => fs.existsSync(path.join(REPO, c)));
    if (hit) out.push(hit);
  }
  return out;
}

const files = [...sources('src'), ...sources('bench')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Tarjan's strongly connected components: every component of more than one file is a circle. */
function circles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(comp.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return found;
}

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
    expect(circles()).toEqual([]);
  });

  it('keeps every file under src/ at ~400 lines or fewer', () => {
    const big = sources('src')
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
});
