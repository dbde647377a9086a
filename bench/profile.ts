// Reads a V8 .cpuprofile (node --cpu-prof) and says where the main thread's time went:
// self time by category, and the heaviest functions. A synchronous fsync shows as
// self time of the native `fsync`/`fdatasync` frame: the thread is blocked in it.
import fs from 'node:fs';

export interface ProfileSummary {
  totalMs: number;
  categories: Array<{ name: string; ms: number; share: number }>;
  top: Array<{ fn: string; ms: number; share: number }>;
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

const SYNC_DISK = new Set(['fsync', 'fdatasync']);
const OTHER_FS = new Set([
  'open',
  'close',
  'rename',
  'link',
  'unlink',
  'writeString',
  'writeBuffer',
  'writeBuffers',
  'lstat',
  'stat',
  'fstat',
  'readFileUtf8',
  'read',
  'readdir',
  'existsSync',
  'access',
  'mkdir',
  'rmSync',
  'openFileHandle',
  'writev',
  'internalModuleStat',
  'realpath',
]);

function category(n: Node): string {
  const { functionName: f, url } = n.callFrame;
  if (f === '(idle)') return 'idle (waiting for I/O, e.g. the API)';
  if (f === '(garbage collector)') return 'garbage collection';
  if (f === '(program)') return 'V8/native (program)';
  if (!url && SYNC_DISK.has(f)) return 'fsync/fdatasync (blocked on the disk)';
  if (!url && OTHER_FS.has(f)) return 'other file-system calls';
  if (url.includes('.development.js')) return 'React, development build (NODE_ENV unset)';
  if (url.includes('perf/usertiming') || url.includes('perf_hooks')) return 'performance.measure (React dev-build profiling marks)';
  if (
    /\/(ink|string-width|slice-ansi|wrap-ansi|cli-truncate|widest-line|ansi-[a-z-]+|@alcalzone|yoga-layout|chalk|emoji-regex|get-east-asian-width)\//.test(
      url,
    ) ||
    f.startsWith('RegExp: ^\\p{RGI_Emoji}')
  )
    return 'Ink rendering (layout, ANSI, string width)';
  if (url.includes('/react') || url.includes('/scheduler/')) return 'React';
  if (url.includes('@anthropic-ai/sdk')) return 'Anthropic SDK';
  if (url.includes('undici') || url.includes('internal/webstreams') || url.includes('node:internal/deps'))
    return 'fetch / web streams (Node internals)';
  if (url.includes('/dist/engine/') || url.includes('/dist/adapters/')) return 'relay engine + adapters (JS)';
  if (url.includes('/dist/ui/')) return 'TUI components (src/ui)';
  if (url.includes('/dist/log/') || url.includes('/dist/headless')) return 'logging';
  if (url.includes('zod')) return 'zod validation';
  if (url.startsWith('node:') || !url) return 'other Node internals / natives';
  return 'other JS';
}

export function summarizeProfile(file: string, topN = 12): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  let total = 0;
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const c = category(n);
    cats.set(c, (cats.get(c) ?? 0) + us);
    const cf = n.callFrame;
    const where = cf.url
      ? ` (${cf.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '')}:${cf.lineNumber + 1})`
      : ' (native)';
    const key = `${cf.functionName || '(anonymous)'}${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    categories: sorted(cats).map(([name, us]) => ({ name, ms: us / 1000, share: us / total })),
    top: sorted(fns)
      .slice(0, topN)
      .map(([fn, us]) => ({ fn, ms: us / 1000, share: us / total })),
  };
}
