import fs from 'node:fs';
import { ConfinementError, openFileForRead } from '../../../fs/confine.js';

/**
 * Reading the turn that just ended from Claude Code's transcript (JSONL at the Stop hook's
 * `transcript_path`), for the evidence digest. The hook runs while the session waits, so the
 * read is bounded and never blocks: the file is opened without following a link and without
 * blocking (a FIFO there is refused by lstat before any open), read backwards from its end a
 * chunk at a time up to MAX_READ_BYTES, and only `user` and `assistant` lines are parsed.
 * Claude Code 2.1.332 also writes `api-request-blob` lines holding whole requests (system
 * reminders, the environment): those are never parsed, so nothing of them can reach a digest.
 * Every way the read falls short is a note the digest carries, never an exception.
 */

/** How far back from the end a turn is looked for: a turn's own lines rarely pass a few MB. */
export const MAX_READ_BYTES = 8 * 1024 * 1024;
/** One line larger than this (a huge tool result) is skipped and counted, not parsed. */
const MAX_LINE_BYTES = 4 * 1024 * 1024;
const CHUNK = 1024 * 1024;

export interface Block {
  type?: unknown;
  text?: unknown;
  id?: unknown;
  name?: unknown;
  input?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
  is_error?: unknown;
}

export interface Entry {
  type: 'user' | 'assistant';
  isSidechain?: unknown;
  isMeta?: unknown;
  message?: { id?: unknown; role?: unknown; content?: unknown };
  toolUseResult?: unknown;
  toolDenialKind?: unknown;
}

export interface TurnRead {
  /** The turn's user and assistant lines, oldest first (sub-agents' lines left out). */
  entries: Entry[];
  notes: string[];
}

const isBlock = (b: unknown): b is Block => !!b && typeof b === 'object';

export function blocks(e: Entry): Block[] {
  const c = e.message?.content;
  return Array.isArray(c) ? c.filter(isBlock) : [];
}

/**
 * Where the turn starts: a prompt the person typed, or the Stop hook's feedback that started
 * this leg of a chain (Claude Code writes the hook's reason as a meta user line, "Stop hook
 * feedback: ..."), so a chained turn's digest holds only what it did since the last review.
 */
export function isTurnStart(e: Entry): boolean {
  if (e.type !== 'user' || e.isSidechain === true) return false;
  const c = e.message?.content;
  if (e.isMeta === true) return typeof c === 'string' && c.startsWith('Stop hook feedback');
  if (typeof c === 'string') return true;
  const bs = blocks(e);
  return bs.some((b) => b.type === 'text') && !bs.some((b) => b.type === 'tool_result');
}

// Lines of other types are not parsed; a nested "type":"user" inside a request blob still fails
// the check on the parsed object, so this only saves parsing.
const WANTED = /"type":"(?:user|assistant)"/;

type Fault = { note: string };

function open(file: string): { fd: number; size: number } | Fault {
  try {
    const opened = openFileForRead(file);
    if (!opened) return { note: `no transcript at ${file}` };
    return { fd: opened.fd, size: opened.stats.size };
  } catch (err) {
    if (err instanceof ConfinementError) return { note: `transcript refused: ${err.message}` };
    return { note: `transcript unreadable: ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

/**
 * Visits the transcript's complete lines newest first, until `visit` returns false or
 * `maxBytes` from the end have been read. Returns what stopped it and the notes.
 */
function backward(
  file: string,
  maxBytes: number,
  visit: (line: Buffer) => boolean,
): { notes: string[]; exhausted: 'start' | 'cap' | 'stopped' | 'fault' } {
  const o = open(file);
  if ('note' in o) return { notes: [o.note], exhausted: 'fault' };
  const notes: string[] = [];
  let skipped = 0;
  try {
    let pos = o.size;
    let carry: Buffer = Buffer.alloc(0);
    let first = true;
    const floor = Math.max(0, o.size - maxBytes);
    const emit = (line: Buffer): boolean => {
      if (line.length === 0) return true;
      if (line.length > MAX_LINE_BYTES) {
        skipped++;
        return true;
      }
      return visit(line);
    };
    while (pos > floor) {
      const n = Math.min(CHUNK, pos - floor);
      pos -= n;
      const chunk = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const k = fs.readSync(o.fd, chunk, got, n - got, pos + got);
        if (k === 0) break;
        got += k;
      }
      const buf = carry.length ? Buffer.concat([chunk.subarray(0, got), carry]) : chunk.subarray(0, got);
      let end = buf.length;
      if (first) {
        first = false;
        // A last line with no newline is being written (or was cut): say so rather than guess.
        if (end > 0 && buf[end - 1] !== 0x0a) {
          const nl = buf.lastIndexOf(0x0a);
          const partial = buf.subarray(nl + 1);
          if (!isJson(partial)) {
            notes.push(`the transcript's last line is cut mid-line (${partial.length} bytes, left out)`);
            end = nl + 1;
          }
        }
      }
      for (let i = end > 0 ? buf.lastIndexOf(0x0a, end - 1) : -1; i >= 0; i = i > 0 ? buf.lastIndexOf(0x0a, i - 1) : -1) {
        if (!emit(buf.subarray(i + 1, end))) return { notes, exhausted: 'stopped' };
        end = i;
      }
      carry = Buffer.from(buf.subarray(0, end));
      if (carry.length > MAX_LINE_BYTES) {
        skipped++;
        carry = Buffer.alloc(0);
      }
    }
    if (floor === 0) {
      if (!emit(carry)) return { notes, exhausted: 'stopped' };
      return { notes, exhausted: 'start' };
    }
    return { notes, exhausted: 'cap' };
  } finally {
    fs.closeSync(o.fd);
    if (skipped) notes.push(`${skipped} transcript line(s) over ${MAX_LINE_BYTES / 1024 / 1024} MiB skipped`);
  }
}

function isJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function parseEntry(line: Buffer): Entry | undefined {
  const text = line.toString('utf8');
  // "type" may come after the message (2.1.332 writes it last): the whole line is searched.
  if (!WANTED.test(text)) return undefined;
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && (v.type === 'user' || v.type === 'assistant')) return v as Entry;
  } catch {
    /* a torn line: not part of the digest */
  }
  return undefined;
}

/** The turn that ended last: its lines from its start to the end of the transcript. */
export function readTurn(file: string, maxBytes = MAX_READ_BYTES): TurnRead {
  const newestFirst: Entry[] = [];
  let started = false;
  const { notes, exhausted } = backward(file, maxBytes, (line) => {
    const e = parseEntry(line);
    if (!e || e.isSidechain === true) return true;
    if (isTurnStart(e)) {
      started = true;
      return false;
    }
    newestFirst.push(e);
    return true;
  });
  if (exhausted === 'cap' && !started)
    notes.push(`the turn's start is not within the transcript's last ${maxBytes / 1024 / 1024} MiB: only its end was read`);
  if (exhausted !== 'fault' && !newestFirst.length) notes.push('the transcript holds nothing of this turn');
  return { entries: newestFirst.reverse(), notes };
}

function textOf(e: Entry): string {
  const c = e.message?.content;
  if (typeof c === 'string') return c;
  return blocks(e)
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('\n');
}

/** Whether the transcript's end already holds the turn's closing message (the last assistant text). */
export function hasTurnEnd(file: string, lastMessage: string): boolean {
  const want = lastMessage.trim();
  let found = false;
  backward(file, 1024 * 1024, (line) => {
    const e = parseEntry(line);
    if (!e || e.isSidechain === true) return true;
    if (e.type === 'user') return false;
    const t = textOf(e).trim();
    if (t && want.includes(t)) {
      found = true;
      return false;
    }
    return true;
  });
  return found;
}

/**
 * Claude Code 2.1.197 writes its transcript behind a short buffer and may start the Stop hook
 * before the turn's last lines are in the file (seen: the final test run and message missing).
 * This waits, on the file's change events and for at most `timeoutMs`, until the end is there.
 * False when it never came (the digest says so); no wait at all when it is already there.
 */
export async function waitForTurnEnd(file: string, lastMessage: string | undefined, timeoutMs: number): Promise<boolean> {
  if (!lastMessage?.trim()) return true;
  if (hasTurnEnd(file, lastMessage)) return true;
  // Only a regular file is worth waiting on; anything else was already refused by the check above.
  try {
    if (!fs.lstatSync(file).isFile()) return false;
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    let watcher: fs.FSWatcher | undefined;
    const finish = (v: boolean) => {
      clearTimeout(timer);
      watcher?.close();
      resolve(v);
    };
    const timer = setTimeout(() => finish(hasTurnEnd(file, lastMessage)), timeoutMs);
    try {
      watcher = fs.watch(file, () => {
        if (hasTurnEnd(file, lastMessage)) finish(true);
      });
      watcher.on('error', () => undefined);
    } catch {
      /* no watch: the timer's last look decides */
    }
  });
}
