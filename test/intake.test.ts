import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Intake, SETTLE_MS, type IntakeOptions, type QueuedEnvelope } from '../src/engine/mailboxes/intake.js';
import { isCandidateName } from '../src/protocol/envelope.js';

let root: string;
let queueDir: string;
let rejectedDir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-intake-'));
  queueDir = path.join(root, 'queue');
  rejectedDir = path.join(queueDir, '.rejected');
  fs.mkdirSync(rejectedDir, { recursive: true });
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

interface Rig {
  intake: Intake;
  rejected: Array<{ file: string; reason: string }>;
  queued: QueuedEnvelope[];
  retries: Array<{ name: string; delayMs: number }>;
  clock: { now: number };
  opts: { strict: boolean; maxBytes: number; registered: Set<string> };
}

function rig(over: Partial<IntakeOptions> = {}): Rig {
  const rejected: Rig['rejected'] = [];
  const queued: QueuedEnvelope[] = [];
  const retries: Rig['retries'] = [];
  const clock = { now: Date.now() + 60_000 };
  const opts = { strict: false, maxBytes: 262_144, registered: new Set(['session-1', 'session-2']) };
  const intake = new Intake({
    queueDir,
    rejectedDir,
    maxBytes: () => opts.maxBytes,
    isRegistered: (s) => opts.registered.has(s),
    strictSessions: () => opts.strict,
    now: () => clock.now,
    onRejected: (file, reason) => rejected.push({ file, reason }),
    onQueued: (e) => queued.push(e),
    scheduleRetry: (name, delayMs) => retries.push({ name, delayMs }),
    ...over,
  });
  return { intake, rejected, queued, retries, clock, opts };
}

/** Writes queue/NAME with the given body and an mtime `ageS` seconds before the real now. */
function put(name: string, body: string | Buffer, ageS = 100): string {
  const file = path.join(queueDir, name);
  fs.writeFileSync(file, body);
  const t = (Date.now() - ageS * 1000) / 1000;
  fs.utimesSync(file, t, t);
  return file;
}

const env = (session: string, content = 'hello', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ session_id: session, content, ...extra });

function setMtime(name: string, epochS: number): void {
  fs.utimesSync(path.join(queueDir, name), epochS, epochS);
}

function drain(intake: Intake, accept: (s: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (let e = intake.next(accept); e; e = intake.next(accept)) {
    out.push(e.name);
    intake.forget(e.name);
  }
  return out;
}

function reasonOf(name: string): string {
  return fs.readFileSync(path.join(rejectedDir, `${name}.reason`), 'utf8');
}

describe('ordering', () => {
  it('takes the oldest first by mtime, then by name for equal mtimes', () => {
    put('c.json', env('session-1'));
    put('a.json', env('session-1'));
    put('b.json', env('session-1'));
    put('z.json', env('session-1'));
    const base = Math.floor(Date.now() / 1000) - 1000;
    setMtime('z.json', base); // oldest
    setMtime('c.json', base + 10);
    setMtime('a.json', base + 20); // a and b tie: name decides
    setMtime('b.json', base + 20);
    const r = rig();
    r.intake.rescan();
    expect(r.intake.depth).toBe(4);
    expect(r.queued.map((q) => q.name).sort()).toEqual(['a.json', 'b.json', 'c.json', 'z.json']);
    expect(drain(r.intake)).toEqual(['z.json', 'c.json', 'a.json', 'b.json']);
  });

  it('next() does not remove the entry; the queue is only shortened by forget()', () => {
    put('one.json', env('session-1'));
    const r = rig();
    r.intake.rescan();
    expect(r.intake.next(() => true)?.name).toBe('one.json');
    expect(r.intake.next(() => true)?.name).toBe('one.json');
    expect(fs.existsSync(path.join(queueDir, 'one.json'))).toBe(true);
    r.intake.forget('one.json');
    expect(r.intake.next(() => true)).toBeUndefined();
    // Intake never deletes envelopes itself.
    expect(fs.existsSync(path.join(queueDir, 'one.json'))).toBe(true);
  });

  it('next(accept) skips sessions that may not go now and keeps their order', () => {
    const base = Math.floor(Date.now() / 1000) - 1000;
    put('1.json', env('session-1'));
    put('2.json', env('session-2'));
    put('3.json', env('session-1'));
    put('4.json', env('session-2'));
    ['1.json', '2.json', '3.json', '4.json'].forEach((n, i) => setMtime(n, base + i));
    const r = rig();
    r.intake.rescan();
    expect(r.intake.next((s) => s !== 'session-1')?.name).toBe('2.json');
    expect(r.intake.next((s) => s !== 'session-2')?.name).toBe('1.json');
    expect(r.intake.next(() => false)).toBeUndefined();
    expect(drain(r.intake, (s) => s === 'session-2')).toEqual(['2.json', '4.json']);
    expect(drain(r.intake)).toEqual(['1.json', '3.json']);
  });

  it('exposes depth, sessions, per-session counts and the oldest mtime', () => {
    const base = Math.floor(Date.now() / 1000) - 1000;
    put('a.json', env('session-1'));
    put('b.json', env('other'));
    put('c.json', env('session-1'));
    setMtime('a.json', base + 5);
    setMtime('b.json', base);
    setMtime('c.json', base + 9);
    const r = rig();
    r.intake.rescan();
    expect(r.intake.depth).toBe(3);
    expect([...r.intake.sessions()].sort()).toEqual(['other', 'session-1']);
    expect(r.intake.countFor('session-1')).toBe(2);
    expect(r.intake.countFor('other')).toBe(1);
    expect(r.intake.oldestMtime()).toBe(base * 1000);
    expect(r.intake.has('b.json')).toBe(true);
  });

  it('load() returns the parsed envelope, extra fields kept', () => {
    put('x.json', env('session-1', 'body', { timestamp: '2026-05-02T15:30:00Z', id: 'e1', extra: 1 }));
    const r = rig();
    r.intake.rescan();
    const e = r.intake.next(() => true)!;
    const loaded = r.intake.load(e)!;
    expect(loaded.envelope).toMatchObject({
      session_id: 'session-1',
      content: 'body',
      timestamp: '2026-05-02T15:30:00Z',
      id: 'e1',
      extra: 1,
    });
    expect(loaded.key).toMatch(/^\d+:/);
  });
});

describe('rejection', () => {
  const cases: Array<{ name: string; body: string | Buffer; reason: RegExp }> = [
    { name: 'not JSON', body: 'this is not json', reason: /not valid JSON/ },
    { name: 'a JSON array', body: '[1,2,3]', reason: /not an object.*session_id/ },
    { name: 'a JSON number', body: '42', reason: /not an object.*session_id/ },
    { name: 'a JSON string', body: '"hello"', reason: /not an object.*session_id/ },
    { name: 'JSON null', body: 'null', reason: /not an object/ },
    { name: 'missing session_id', body: JSON.stringify({ content: 'hi' }), reason: /key session_id: is missing/ },
    { name: 'session_id ../x', body: env('../x'), reason: /key session_id: must match.*"\.\.\/x"/ },
    { name: 'session_id a/b', body: env('a/b'), reason: /key session_id: must match.*"a\/b"/ },
    { name: 'session_id starting with -', body: env('-rf'), reason: /key session_id: must match/ },
    { name: 'session_id that is a number', body: JSON.stringify({ session_id: 7, content: 'x' }), reason: /key session_id:.*\(got 7\)/ },
    { name: 'empty content', body: env('session-1', ''), reason: /key content: must be a non-empty string/ },
    {
      name: 'non-string content',
      body: JSON.stringify({ session_id: 'session-1', content: 5 }),
      reason: /key content:.*string.*\(got 5\)/,
    },
    { name: 'object content', body: JSON.stringify({ session_id: 'session-1', content: { a: 1 } }), reason: /key content:.*string/ },
    { name: 'missing content', body: JSON.stringify({ session_id: 'session-1' }), reason: /key content: is missing/ },
    { name: 'non-UTF-8 bytes', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), reason: /not valid UTF-8/ },
  ];

  for (const c of cases) {
    it(`rejects ${c.name} to .rejected/ with a reason`, () => {
      put('bad.json', c.body);
      const r = rig();
      r.intake.rescan();
      expect(r.intake.depth).toBe(0);
      expect(fs.existsSync(path.join(queueDir, 'bad.json'))).toBe(false);
      expect(fs.readFileSync(path.join(rejectedDir, 'bad.json'))).toEqual(Buffer.from(c.body));
      const reason = reasonOf('bad.json');
      expect(reason).toMatch(c.reason);
      expect(reason).toContain('bad.json');
      expect(reason.trimEnd().split('\n')).toHaveLength(1);
      expect(reason.endsWith('\n')).toBe(true);
      expect(r.rejected).toHaveLength(1);
      expect(r.rejected[0].file).toBe('bad.json');
      expect(r.rejected[0].reason).toMatch(c.reason);
      expect(r.intake.rejectedCount).toBe(1);
      expect(r.intake.lastRejection?.file).toBe('bad.json');
      expect(r.queued).toEqual([]);
    });
  }

  it('rejects a symlink (and moves the link, not its target)', () => {
    const target = path.join(root, 'target.json');
    fs.writeFileSync(target, env('session-1'));
    fs.symlinkSync(target, path.join(queueDir, 'link.json'));
    const r = rig();
    r.intake.rescan();
    expect(r.intake.depth).toBe(0);
    expect(reasonOf('link.json')).toMatch(/symlink/);
    expect(fs.lstatSync(path.join(rejectedDir, 'link.json')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toBe(env('session-1'));
  });

  it('rejects a file over limits.max_envelope_bytes, naming the key and both sizes', () => {
    const r = rig();
    r.opts.maxBytes = 100;
    put('big.json', env('session-1', 'x'.repeat(200)));
    put('small.json', env('session-1', 'x'.repeat(10)));
    r.intake.rescan();
    expect(r.intake.depth).toBe(1);
    expect(r.intake.has('small.json')).toBe(true);
    const reason = reasonOf('big.json');
    expect(reason).toMatch(/limits\.max_envelope_bytes/);
    expect(reason).toMatch(/\(100\)/);
  });

  it('strict_sessions rejects an unregistered id; without it the id is accepted', () => {
    put('u.json', env('stranger'));
    const lax = rig();
    lax.intake.rescan();
    expect(lax.intake.has('u.json')).toBe(true);

    const strict = rig();
    strict.opts.strict = true;
    strict.intake.rescan();
    expect(strict.intake.depth).toBe(0);
    expect(reasonOf('u.json')).toMatch(/key session_id: stranger is not listed.*strict_sessions/);
  });

  it('a name collision in .rejected/ keeps both files', () => {
    const r = rig();
    put('dup.json', 'first bad');
    r.intake.rescan();
    put('dup.json', 'second bad');
    r.intake.rescan();
    expect(r.intake.rejectedCount).toBe(2);
    const names = fs.readdirSync(rejectedDir).sort();
    const bodies = names.filter((n) => !n.endsWith('.reason')).map((n) => fs.readFileSync(path.join(rejectedDir, n), 'utf8'));
    expect(bodies.sort()).toEqual(['first bad', 'second bad']);
    expect(names.filter((n) => n.endsWith('.reason'))).toHaveLength(2);
    for (const n of names.filter((n) => !n.endsWith('.reason'))) expect(names).toContain(`${n}.reason`);
  });

  it('three collisions within the same millisecond still keep every file', () => {
    const spy = vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    try {
      const r = rig();
      for (const body of ['one', 'two', 'three']) {
        put('same.json', body);
        r.intake.rescan();
      }
      const names = fs.readdirSync(rejectedDir);
      const bodies = names.filter((n) => !n.endsWith('.reason')).map((n) => fs.readFileSync(path.join(rejectedDir, n), 'utf8'));
      expect(bodies.sort()).toEqual(['one', 'three', 'two']);
      expect(names.filter((n) => n.endsWith('.reason'))).toHaveLength(3);
    } finally {
      spy.mockRestore();
    }
  });

  it('counts what is already in .rejected/ at start (not the .reason files)', () => {
    fs.writeFileSync(path.join(rejectedDir, 'old.json'), 'x');
    fs.writeFileSync(path.join(rejectedDir, 'old.json.reason'), 'why\n');
    fs.writeFileSync(path.join(rejectedDir, 'old2.json'), 'x');
    expect(rig().intake.rejectedCount).toBe(2);
  });

  it('a rejection does not stop the loop: good envelopes around it stay queued', () => {
    put('1.json', env('session-1'));
    put('2.json', 'garbage');
    put('3.json', env('session-2'));
    const r = rig();
    r.intake.rescan();
    expect(drain(r.intake).sort()).toEqual(['1.json', '3.json']);
    expect(r.rejected.map((x) => x.file)).toEqual(['2.json']);
  });
});

describe('names and partial writes', () => {
  it('ignores names starting with "." or ending in ".tmp"', () => {
    put('.hidden.json', 'garbage');
    put('.x.tmp', 'garbage');
    put('writing.json.tmp', 'garbage');
    put('ok.json', env('session-1'));
    const r = rig();
    r.intake.rescan();
    r.intake.look('.hidden.json');
    r.intake.look('writing.json.tmp');
    expect(r.intake.depth).toBe(1);
    expect(r.rejected).toEqual([]);
    expect(fs.existsSync(path.join(queueDir, '.hidden.json'))).toBe(true);
    expect(fs.existsSync(path.join(queueDir, 'writing.json.tmp'))).toBe(true);
    expect(isCandidateName('a.json')).toBe(true);
    expect(isCandidateName('.a.json')).toBe(false);
    expect(isCandidateName('a.tmp')).toBe(false);
  });

  it('a young unparseable file is retried, not rejected; once older than 2 s it is rejected', () => {
    const file = put('partial.json', '{"session_id": "session-1", "con', 0);
    const mtime = fs.statSync(file).mtimeMs;
    const r = rig();
    r.clock.now = mtime + 500;
    r.intake.rescan();
    expect(r.rejected).toEqual([]);
    expect(r.intake.depth).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
    expect(r.retries).toHaveLength(1);
    expect(r.retries[0].name).toBe('partial.json');
    // Retry after the rest of the settle time (1.5 s here), not immediately and not much later.
    expect(r.retries[0].delayMs).toBeGreaterThanOrEqual(SETTLE_MS - 500);
    expect(r.retries[0].delayMs).toBeLessThan(SETTLE_MS);

    r.clock.now = mtime + SETTLE_MS + 1;
    r.intake.look('partial.json');
    expect(r.retries).toHaveLength(1);
    expect(r.rejected.map((x) => x.file)).toEqual(['partial.json']);
    expect(reasonOf('partial.json')).toMatch(/not valid JSON/);
  });

  it('an empty young file (writer just opened it) is retried', () => {
    const file = put('empty.json', '', 0);
    const r = rig();
    r.clock.now = fs.statSync(file).mtimeMs + 10;
    r.intake.look('empty.json');
    expect(r.rejected).toEqual([]);
    expect(r.retries.map((x) => x.name)).toEqual(['empty.json']);
  });

  it('a young file that the writer finishes is queued on the retry', () => {
    const file = put('slow.json', '{"session_id": "session-1"', 0);
    const r = rig();
    r.clock.now = fs.statSync(file).mtimeMs + 100;
    r.intake.look('slow.json');
    expect(r.intake.depth).toBe(0);
    fs.writeFileSync(file, env('session-1', 'done'));
    r.clock.now = fs.statSync(file).mtimeMs + 100; // still young, but now it parses
    r.intake.look('slow.json');
    expect(r.intake.has('slow.json')).toBe(true);
    expect(r.rejected).toEqual([]);
    expect(r.queued.map((q) => q.name)).toEqual(['slow.json']);
  });

  it('a young file that parses but is invalid is rejected at once (only parse failures wait)', () => {
    const file = put('young-bad.json', env('../x'), 0);
    const r = rig();
    r.clock.now = fs.statSync(file).mtimeMs + 10;
    r.intake.look('young-bad.json');
    expect(r.retries).toEqual([]);
    expect(r.rejected.map((x) => x.file)).toEqual(['young-bad.json']);
  });

  it('rescan picks up new files and forgets removed ones', () => {
    const r = rig();
    r.intake.rescan();
    expect(r.intake.depth).toBe(0);
    put('a.json', env('session-1'));
    r.intake.rescan();
    expect(r.intake.has('a.json')).toBe(true);
    put('b.json', env('session-2'));
    fs.rmSync(path.join(queueDir, 'a.json'));
    r.intake.rescan();
    expect(r.intake.has('a.json')).toBe(false);
    expect(r.intake.has('b.json')).toBe(true);
    expect(r.queued.map((q) => q.name)).toEqual(['a.json', 'b.json']);
  });

  it('look() on a vanished file forgets it; onQueued fires once per new envelope', () => {
    put('a.json', env('session-1'));
    const r = rig();
    r.intake.look('a.json');
    r.intake.look('a.json');
    r.intake.rescan();
    expect(r.queued).toHaveLength(1);
    fs.rmSync(path.join(queueDir, 'a.json'));
    r.intake.look('a.json');
    expect(r.intake.depth).toBe(0);
    expect(r.rejected).toEqual([]);
  });

  it('a directory in queue/ is rejected with a reason, not silently ignored', () => {
    fs.mkdirSync(path.join(queueDir, 'sub.json'));
    const r = rig();
    r.intake.rescan();
    expect(r.intake.depth).toBe(0);
    expect(r.rejected).toEqual([{ file: 'sub.json', reason: expect.stringMatching(/is a directory/) }]);
    expect(r.intake.rejectedCount).toBe(1);
    expect(fs.existsSync(path.join(queueDir, 'sub.json'))).toBe(false);
    expect(fs.statSync(path.join(rejectedDir, 'sub.json')).isDirectory()).toBe(true);
    expect(reasonOf('sub.json')).toMatch(/sub\.json is a directory/);
  });

  it('load() of a big envelope re-reads the file, and rejects it if it was replaced by garbage', () => {
    const big = 'y'.repeat(20 * 1024);
    put('big.json', env('session-1', big));
    const r = rig();
    r.intake.rescan();
    const e = r.intake.next(() => true)!;
    expect(e.cached).toBeUndefined();
    expect(r.intake.load(e)?.envelope.content).toBe(big);
    put('big.json', 'garbage now');
    expect(r.intake.load(e)).toBeUndefined();
    expect(r.rejected.map((x) => x.file)).toEqual(['big.json']);
    expect(r.intake.depth).toBe(0);
  });
});
