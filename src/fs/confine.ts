import fs from 'node:fs';
import path from 'node:path';
import type { PathKind } from './faults.js';

/**
 * The confinement rule (SPEC "Confinement"), in one place: every path the relay or its
 * commands touch is resolved under the root, and is used only when it is what it should
 * be — a regular file where a file is expected, a real directory where a directory is
 * expected. Symlinks are never followed: lstat first, then open with O_NOFOLLOW (the last
 * component cannot be swapped for a link between the two) and O_NONBLOCK (a FIFO planted
 * there cannot block the event loop), then fstat the descriptor and compare it with what
 * lstat saw. Anything else is refused with a reason naming the path and what it is.
 *
 * Why so strict: sessions (possibly sandboxed, possibly another user on a shared box)
 * write into queue/ and dispatch/; a link or FIFO planted there would otherwise make the
 * relay a confused deputy that reads or writes where the session itself may not.
 */

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;

export type Expected = 'file' | 'directory';

/** A path that is not what the relay needs there. `code` lets classify()/describeFsError pass it through. */
export class ConfinementError extends Error {
  override readonly name = 'ConfinementError';
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'confinement';
  readonly code = 'ECONFINED';
  constructor(
    readonly path: string,
    /** What was found at the path. */
    readonly found: PathKind,
    readonly expected: Expected,
    readonly detail?: string,
  ) {
    super(
      `${path}: ${describeKind(found)}${detail ? ` (${detail})` : ''}; expected ${expected === 'file' ? 'a regular file' : 'a real directory'}, refused`,
    );
  }
}

/** A value from outside (a session id, a path argument) that cannot be used: exit 2, one line. */
export class InputError extends Error {
  override readonly name = 'InputError';
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'input';
}

export function kindOf(st: fs.Stats): PathKind {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'device';
  return 'other';
}

export function describeKind(kind: PathKind): string {
  switch (kind) {
    case 'symlink':
      return 'is a symlink';
    case 'fifo':
      return 'is a FIFO';
    case 'socket':
      return 'is a socket';
    case 'device':
      return 'is a device';
    case 'directory':
      return 'is a directory';
    case 'file':
      return 'is a regular file';
    case 'unreadable':
      return 'is unreadable';
    case 'missing':
      return 'does not exist';
    default:
      return 'is not a regular file or directory';
  }
}

/**
 * `parts` joined under `root`; a result that would leave the root (`..`, an absolute
 * part) is an InputError. Names that come from outside must also pass their own
 * validation (session ids): this is the backstop, not the only check.
 */
export function within(root: string, ...parts: string[]): string {
  const base = path.resolve(root);
  const full = path.resolve(base, ...parts);
  const rel = path.relative(base, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new InputError(`${path.join(...parts)} is not inside the relay root ${base}`);
  }
  return full;
}

/** lstat without following; undefined when missing. EACCES on the parent counts as unreadable. */
export function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES' || code === 'EPERM') throw new ConfinementError(p, 'unreadable', 'file', code);
    throw err;
  }
}

/** Undefined when missing; throws ConfinementError when something other than a regular file is there. */
export function checkFile(p: string): fs.Stats | undefined {
  const st = lstatOrUndefined(p);
  if (st && !st.isFile()) throw new ConfinementError(p, kindOf(st), 'file');
  return st;
}

/** Undefined when missing; throws ConfinementError when anything but a real directory is there. */
export function checkDir(p: string): fs.Stats | undefined {
  let st: fs.Stats | undefined;
  try {
    st = lstatOrUndefined(p);
  } catch (err) {
    if (err instanceof ConfinementError) throw new ConfinementError(p, 'unreadable', 'directory', 'cannot stat');
    throw err;
  }
  if (st && !st.isDirectory()) throw new ConfinementError(p, kindOf(st), 'directory');
  return st;
}

/**
 * A real directory at `dir` (created with `mode` when missing; its parent must exist).
 * Never creates through a symlink: mkdir on a dangling link fails with EEXIST and the
 * lstat that follows names it.
 */
export function ensureDir(dir: string, mode = 0o755): void {
  if (checkDir(dir)) return;
  try {
    fs.mkdirSync(dir, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (!checkDir(dir)) throw new ConfinementError(dir, 'missing', 'directory', 'vanished after mkdir');
}

/** Checks that the directory is usable by this process for reading and writing entries. */
export function checkDirWritable(dir: string): void {
  checkDir(dir);
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new ConfinementError(dir, 'unreadable', 'directory', `not readable and writable by this process: ${code}`);
  }
}

function openErr(p: string, err: unknown, expected: Expected): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') throw new ConfinementError(p, 'symlink', expected);
  if (code === 'EISDIR') throw new ConfinementError(p, 'directory', expected);
  // O_WRONLY|O_NONBLOCK on a FIFO with no reader, or on a socket.
  if (code === 'ENXIO') throw new ConfinementError(p, 'fifo', expected);
  if (code === 'EACCES' || code === 'EPERM') throw new ConfinementError(p, 'unreadable', expected, code);
  throw err;
}

/**
 * Opens an existing regular file for reading, or returns undefined when it is missing.
 * The descriptor is checked to be the very inode lstat saw, so a swap in between is refused.
 */
export function openFileForRead(p: string): { fd: number; stats: fs.Stats } | undefined {
  const before = checkFile(p);
  if (!before) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    openErr(p, err, 'file');
  }
  const stats = fs.fstatSync(fd);
  if (!stats.isFile() || stats.ino !== before.ino || stats.dev !== before.dev) {
    fs.closeSync(fd);
    throw new ConfinementError(p, stats.isFile() ? 'other' : kindOf(stats), 'file', 'replaced while being opened');
  }
  return { fd, stats };
}

export class TooLargeError extends Error {
  override readonly name = 'TooLargeError';
  readonly code = 'ETOOLARGE';
  constructor(
    readonly path: string,
    readonly size: number,
    readonly limit: number,
    readonly limitName: string,
  ) {
    super(`${path}: is ${size} bytes, over ${limitName} (${limit})`);
  }
}

/**
 * The whole of a regular file, or undefined when it is missing. `maxBytes` refuses a
 * larger file before reading a byte of it (TooLargeError), so a 50 MB file costs nothing.
 */
export function readFileConfined(p: string, opts: { maxBytes?: number; limitName?: string } = {}): Buffer | undefined {
  const opened = openFileForRead(p);
  if (!opened) return undefined;
  const { fd, stats } = opened;
  try {
    if (opts.maxBytes !== undefined && stats.size > opts.maxBytes) {
      throw new TooLargeError(p, stats.size, opts.maxBytes, opts.limitName ?? 'the size limit');
    }
    // readFileSync on an fd reads to EOF, so a file that grew since fstat is read whole;
    // the limit is checked again on what was actually read.
    const buf = fs.readFileSync(fd);
    if (opts.maxBytes !== undefined && buf.length > opts.maxBytes) {
      throw new TooLargeError(p, buf.length, opts.maxBytes, opts.limitName ?? 'the size limit');
    }
    return buf;
  } catch (err) {
    if (err instanceof TooLargeError) throw err;
    openErr(p, err, 'file');
  } finally {
    fs.closeSync(fd);
  }
}

export function readTextConfined(p: string, opts: { maxBytes?: number; limitName?: string } = {}): string | undefined {
  return readFileConfined(p, opts)?.toString('utf8');
}

/** An append descriptor on a regular file (created with `mode` when missing), never through a link. */
export function openForAppend(p: string, mode = 0o600): number {
  checkFile(p);
  let fd: number;
  try {
    fd = fs.openSync(p, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode);
  } catch (err) {
    openErr(p, err, 'file');
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new ConfinementError(p, kindOf(st), 'file');
  }
  return fd;
}

/** Whether the error is one of ours or an errno that means "this path is unusable", rather than "the disk is". */
export function isPathProblem(err: unknown): boolean {
  if (err instanceof ConfinementError) return true;
  const code = (err as NodeJS.ErrnoException)?.code;
  return (
    code === 'ELOOP' ||
    code === 'EISDIR' ||
    code === 'ENOTDIR' ||
    code === 'EACCES' ||
    code === 'EPERM' ||
    code === 'ENOTEMPTY' ||
    code === 'EEXIST'
  );
}
