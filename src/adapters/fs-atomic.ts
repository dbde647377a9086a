import fs from 'node:fs';
import path from 'node:path';

/**
 * Every file the relay writes goes through here, so that a kill -9 at any line leaves
 * either the old file or the new one, never a torn one. Sync calls on purpose: each is
 * a sub-millisecond syscall, and doing them in order is what makes the durability
 * argument easy to read.
 */

let counter = 0;

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function tmpName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
}

function writeTmp(file: string, data: string | Buffer, mode: number): string {
  const tmp = tmpName(file);
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  return tmp;
}

/** temp file, fsync, rename over the target, fsync the directory. */
export function writeAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  const tmp = writeTmp(file, data, mode);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/**
 * Like writeAtomic but never replaces an existing file: link(2) fails with EEXIST
 * atomically, so two writers cannot both win. Returns false when the target exists.
 */
export function writeAtomicExclusive(file: string, data: string | Buffer, mode = 0o644): boolean {
  const tmp = writeTmp(file, data, mode);
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  fsyncDir(path.dirname(file));
  return true;
}

/** Move a file durably (both directories synced). */
export function moveDurable(from: string, to: string): void {
  fs.renameSync(from, to);
  fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) fsyncDir(path.dirname(from));
}

export function unlinkDurable(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/**
 * An append-only JSON-lines file. Each append is one write(2) of a whole line
 * followed by fdatasync, so a crash can at worst leave a torn last line, which
 * readJsonl skips.
 */
export class JsonlAppender {
  private fd: number;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a', 0o600);
  }
  append(record: unknown): void {
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
    fs.fdatasyncSync(this.fd);
  }
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export interface JsonlRead<T> {
  records: T[];
  /** Lines that did not parse: a torn tail after a crash, or hand edits. */
  bad: number;
}

export function readJsonl<T>(file: string): JsonlRead<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], bad: 0 };
    throw err;
  }
  const records: T[] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      bad++;
    }
  }
  return { records, bad };
}

/** A torn last line would corrupt the next append; cut the file back to its last newline. */
export function repairJsonlTail(file: string): void {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return;
  }
  if (buf.length === 0 || buf[buf.length - 1] === 0x0a) return;
  const cut = buf.lastIndexOf(0x0a) + 1;
  fs.truncateSync(file, cut);
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
