import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlAppender, readJson, readJsonl, repairJsonlTail, unlinkDurable, writeAtomic, writeAtomicExclusive } from '../src/fs/atomic.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-fsatomic-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const p = (name: string) => path.join(dir, name);
const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('writeAtomic', () => {
  it('writes, replaces, and leaves no temp files', () => {
    writeAtomic(p('a.json'), '{"v":1}');
    expect(fs.readFileSync(p('a.json'), 'utf8')).toBe('{"v":1}');
    writeAtomic(p('a.json'), Buffer.from('{"v":2}'));
    expect(fs.readFileSync(p('a.json'), 'utf8')).toBe('{"v":2}');
    for (let i = 0; i < 20; i++) writeAtomic(p('a.json'), String(i));
    expect(fs.readFileSync(p('a.json'), 'utf8')).toBe('19');
    expect(fs.readdirSync(dir)).toEqual(['a.json']);
  });

  it('creates the file with the requested mode', () => {
    writeAtomic(p('secret'), 'x', 0o600);
    expect(mode(p('secret'))).toBe(0o600);
    writeAtomic(p('public'), 'x');
    expect(mode(p('public'))).toBe(0o644 & ~process.umask());
  });

  it('cleans up its temp file when the rename fails, and leaves the target alone', () => {
    fs.mkdirSync(p('target'));
    fs.writeFileSync(p('target/inside'), 'keep');
    expect(() => writeAtomic(p('target'), 'x')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['target']);
    expect(fs.readFileSync(p('target/inside'), 'utf8')).toBe('keep');
  });

  it('throws when the directory does not exist', () => {
    expect(() => writeAtomic(p('missing/a.json'), 'x')).toThrow(/ENOENT/);
  });
});

describe('writeAtomicExclusive', () => {
  it('creates a new file and returns true', () => {
    expect(writeAtomicExclusive(p('new.txt'), 'hello', 0o600)).toBe(true);
    expect(fs.readFileSync(p('new.txt'), 'utf8')).toBe('hello');
    expect(mode(p('new.txt'))).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['new.txt']);
  });

  it('refuses to replace an existing file, returns false, and leaves no temp file', () => {
    fs.writeFileSync(p('taken.txt'), 'original');
    expect(writeAtomicExclusive(p('taken.txt'), 'intruder')).toBe(false);
    expect(fs.readFileSync(p('taken.txt'), 'utf8')).toBe('original');
    expect(fs.readdirSync(dir)).toEqual(['taken.txt']);
  });

  it('refuses to replace even a dangling symlink', () => {
    fs.symlinkSync(p('nowhere'), p('link'));
    expect(writeAtomicExclusive(p('link'), 'x')).toBe(false);
    expect(fs.existsSync(p('nowhere'))).toBe(false);
  });

  it('of two writers to the same name exactly one wins', () => {
    const results = [writeAtomicExclusive(p('race'), 'one'), writeAtomicExclusive(p('race'), 'two')];
    expect(results).toEqual([true, false]);
    expect(fs.readFileSync(p('race'), 'utf8')).toBe('one');
  });
});

describe('JSON lines', () => {
  it('JsonlAppender appends one line per record, and readJsonl reads them back', () => {
    const file = p('log.jsonl');
    const a = new JsonlAppender(file);
    a.append({ n: 1 });
    a.append({ n: 2, s: 'line\nbreak' });
    a.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2,"s":"line\\nbreak"}\n');
    expect(mode(file)).toBe(0o600 & ~process.umask());
    expect(readJsonl(file)).toEqual({ records: [{ n: 1 }, { n: 2, s: 'line\nbreak' }], bad: 0 });
    // Re-opening appends rather than truncating.
    const b = new JsonlAppender(file);
    b.append({ n: 3 });
    b.close();
    b.close(); // idempotent
    expect(readJsonl<{ n: number }>(file).records.map((r) => r.n)).toEqual([1, 2, 3]);
  });

  it('readJsonl skips bad lines and blank lines, counting only the bad ones', () => {
    const file = p('mixed.jsonl');
    fs.writeFileSync(file, '{"a":1}\nnot json\n\n   \n{"a":2}\n{"a":\n{"a":3}');
    expect(readJsonl(file)).toEqual({ records: [{ a: 1 }, { a: 2 }, { a: 3 }], bad: 2 });
  });

  it('readJsonl of a missing file is empty', () => {
    expect(readJsonl(p('nope.jsonl'))).toEqual({ records: [], bad: 0 });
  });

  it('readJsonl handles CRLF line endings', () => {
    const file = p('crlf.jsonl');
    fs.writeFileSync(file, '{"a":1}\r\n{"a":2}\r\n');
    expect(readJsonl(file)).toEqual({ records: [{ a: 1 }, { a: 2 }], bad: 0 });
  });

  it('repairJsonlTail cuts a torn last line back to the last newline', () => {
    const file = p('torn.jsonl');
    fs.writeFileSync(file, '{"a":1}\n{"a":2}\n{"a":');
    repairJsonlTail(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    // The next append starts on a fresh line.
    const w = new JsonlAppender(file);
    w.append({ a: 3 });
    w.close();
    expect(readJsonl(file)).toEqual({ records: [{ a: 1 }, { a: 2 }, { a: 3 }], bad: 0 });
  });

  it('repairJsonlTail leaves a whole file, an empty file and a missing file alone', () => {
    fs.writeFileSync(p('whole.jsonl'), '{"a":1}\n');
    repairJsonlTail(p('whole.jsonl'));
    expect(fs.readFileSync(p('whole.jsonl'), 'utf8')).toBe('{"a":1}\n');
    fs.writeFileSync(p('empty.jsonl'), '');
    repairJsonlTail(p('empty.jsonl'));
    expect(fs.readFileSync(p('empty.jsonl'), 'utf8')).toBe('');
    expect(() => repairJsonlTail(p('missing.jsonl'))).not.toThrow();
    expect(fs.existsSync(p('missing.jsonl'))).toBe(false);
  });

  it('repairJsonlTail empties a file whose only line is torn', () => {
    fs.writeFileSync(p('one.jsonl'), '{"a":');
    repairJsonlTail(p('one.jsonl'));
    expect(fs.readFileSync(p('one.jsonl'), 'utf8')).toBe('');
  });

  it('repairJsonlTail cuts a torn multi-byte character cleanly', () => {
    const file = p('utf8.jsonl');
    const whole = '{"s":"héllo"}\n';
    const torn = Buffer.concat([Buffer.from(whole), Buffer.from('{"s":"é').subarray(0, 7)]);
    fs.writeFileSync(file, torn);
    repairJsonlTail(file);
    expect(fs.readFileSync(file, 'utf8')).toBe(whole);
  });
});

describe('other helpers', () => {
  it('readJson returns undefined for missing or invalid files', () => {
    fs.writeFileSync(p('ok.json'), '{"x":1}');
    fs.writeFileSync(p('bad.json'), '{"x":');
    expect(readJson(p('ok.json'))).toEqual({ x: 1 });
    expect(readJson(p('bad.json'))).toBeUndefined();
    expect(readJson(p('missing.json'))).toBeUndefined();
  });

  it('unlinkDurable removes a file and ignores a missing one', () => {
    fs.writeFileSync(p('x'), '1');
    unlinkDurable(p('x'));
    expect(fs.existsSync(p('x'))).toBe(false);
    expect(() => unlinkDurable(p('x'))).not.toThrow();
  });
});
