import fs from 'node:fs';
import path from 'node:path';
import { checkDir, checkFile, ConfinementError, kindOf, openForAppend, readFileConfined } from './confine.js';

/**
 * Every file the relay writes goes through here, so that a kill -9 at any line leaves
 * either the old file or the new one, never a torn one. Sync calls on purpose: each is
 * a sub-millisecond syscall, and doing them in order is what makes the durability
 * argument easy to read.
 */

let counter = 0;

export function fsyncDir(dir: string): void {
  // O_NOFOLLOW|O_DIRECTORY: a link swapped in for a directory is an error here, not followed.
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function tmpName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
}

/**
 * The directory must be a real one (a link there would carry the write out of the
 * root) and what is replaced must be a regular file: a symlink, FIFO or directory at
 * the target is refused rather than silently replaced, so the reason reaches a human.
 */
function checkTarget(file: string): void {
  checkDir(path.dirname(file));
  checkFile(file);
}

function writeTmp(file: string, data: string | Buffer, mode: number): string {
  const tmp = tmpName(file);
  // 'wx' is O_CREAT|O_EXCL: it never opens through a link planted at the temp name.
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    // fdatasync: the data and the size of a new file, all that reading it back needs;
    // its timestamps are not worth a flush.
    fs.fdatasyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  return tmp;
}

/** temp file, fsync, rename over the target, fsync the directory. */
/** beforeRename: called when the data is durable and about to become visible (a bench's clock). */
export function writeAtomic(file: string, data: string | Buffer, mode = 0o644, beforeRename?: () => void): void {
  checkTarget(file);
  const tmp = writeTmp(file, data, mode);
  try {
    beforeRename?.();
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
  checkDir(path.dirname(file));
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
 *
 * appendLazy writes the line without its own flush: a kill -9 cannot lose it (the
 * write is in the kernel when this returns), and the next append's fdatasync, or
 * close(), makes it durable against a power cut too. Only for a line whose loss in
 * a power cut the reader already handles as a crash at that point (the ledger's
 * settlement: its reservation then counts at the projected, upper-bound cost).
 */
export class JsonlAppender {
  private fd: number;
  private unsynced = false;
  constructor(readonly file: string) {
    this.fd = openForAppend(file, 0o600);
  }
  append(record: unknown): void {
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
    fs.fdatasyncSync(this.fd);
    this.unsynced = false;
  }
  appendLazy(record: unknown): void {
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
    this.unsynced = true;
  }
  close(): void {
    if (this.fd < 0) return;
    try {
      if (this.unsynced) fs.fdatasyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
      this.unsynced = false;
    }
  }
  /** Lets go of the file without the closing flush: what a killed process leaves (crash tests). */
  drop(): void {
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
  const buf = readFileConfined(file);
  if (!buf) return { records: [], bad: 0 };
  const text = buf.toString('utf8');
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
  // A link or FIFO is refused by the read, before truncate could follow it.
  const buf = readFileConfined(file);
  if (!buf) return;
  if (buf.length === 0 || buf[buf.length - 1] === 0x0a) return;
  const cut = buf.lastIndexOf(0x0a) + 1;
  const fd = openForAppend(file);
  try {
    fs.ftruncateSync(fd, cut);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Undefined when missing or not JSON. A path that is not a regular file (a link, a FIFO,
 * unreadable) throws ConfinementError: silently treating it as "no file" would let the
 * next write replace something a human should look at.
 */
export function readJson<T>(file: string): T | undefined {
  const buf = readFileConfined(file);
  if (!buf) return undefined;
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export { ConfinementError, kindOf };
