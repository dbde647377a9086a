import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { openFileForRead } from './confine.js';

/**
 * Reading an append-only JSON-lines file from its end: scroll-back and the view's notes
 * want the newest records, and reading a file of 100,000 turns whole for the last 250
 * costs the engine thread hundreds of milliseconds and a copy of the whole file.
 */

const CHUNK = 64 * 1024;

/**
 * The parsed records of `file`, newest first, read backwards a chunk at a time; stops as
 * soon as `visit` returns false. Lines that do not parse (a torn last write) are skipped.
 * A missing file yields nothing; a link or a non-file is refused (ConfinementError).
 */
export function readJsonlBackward<T>(file: string, visit: (record: T) => boolean | void): void {
  const opened = openFileForRead(file);
  if (!opened) return;
  const { fd, stats } = opened;
  try {
    let pos = stats.size;
    // Bytes of a line whose start is in a chunk not read yet.
    let carry: Buffer = Buffer.alloc(0);
    const emit = (line: Buffer): boolean => {
      if (line.length === 0) return true;
      let r: T;
      try {
        r = JSON.parse(line.toString('utf8')) as T;
      } catch {
        return true;
      }
      return visit(r) !== false;
    };
    while (pos > 0) {
      const n = Math.min(CHUNK, pos);
      pos -= n;
      const chunk = Buffer.alloc(n);
      let got = 0;
      while (got < n) {
        const k = fs.readSync(fd, chunk, got, n - got, pos + got);
        if (k === 0) break;
        got += k;
      }
      let buf = carry.length ? Buffer.concat([chunk.subarray(0, got), carry]) : chunk.subarray(0, got);
      let end = buf.length;
      for (let i = buf.length - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) continue;
        if (!emit(buf.subarray(i + 1, end))) return;
        end = i;
      }
      carry = Buffer.from(buf.subarray(0, end));
      buf = Buffer.alloc(0);
    }
    emit(carry);
  } finally {
    fs.closeSync(fd);
  }
}

/** The first parsed record of `file` for which `pick` returns a value (reads from the start, a chunk at a time). */
export function firstJsonl<T, R>(file: string, pick: (record: T) => R | undefined, maxLines = 4): R | undefined {
  const opened = openFileForRead(file);
  if (!opened) return undefined;
  const { fd } = opened;
  try {
    let text = '';
    let pos = 0;
    let lines = 0;
    const chunk = Buffer.alloc(CHUNK);
    // A character split across two chunks must not become two replacement characters.
    const decoder = new StringDecoder('utf8');
    for (;;) {
      const k = fs.readSync(fd, chunk, 0, CHUNK, pos);
      if (k === 0) break;
      pos += k;
      text += decoder.write(chunk.subarray(0, k));
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (!line.trim()) continue;
        if (++lines > maxLines) return undefined;
        try {
          const v = pick(JSON.parse(line) as T);
          if (v !== undefined) return v;
        } catch {
          /* a bad line: the next one */
        }
      }
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
