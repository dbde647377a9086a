import fs from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../../fs/atomic.js';
import { openFileForRead } from '../../fs/confine.js';
import { groupDigits } from '../../text.js';

/**
 * The text side of the Stop hook: what the session said (from the hook input, or
 * failing that from Claude Code's transcript), and the reply made to fit what a hook
 * can hand back to Claude Code.
 */

// ------------------------------------------------------------------ transcript

/** How much of a transcript's end is read: the last turn is at the end, and transcripts grow to many MB. */
const TRANSCRIPT_TAIL_BYTES = 8 * 1024 * 1024;

interface TranscriptEntry {
  type?: unknown;
  isSidechain?: unknown;
  isMeta?: unknown;
  message?: { id?: unknown; role?: unknown; content?: unknown };
}

/** One content block of a transcript line, as far as these readers look at it. */
interface Block {
  type?: unknown;
  text?: unknown;
  name?: unknown;
  input?: unknown;
}

const isBlock = (b: unknown): b is Block => !!b && typeof b === 'object';

function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const parts = content
    .filter((b): b is Block & { text: string } => isBlock(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text);
  return parts.length ? parts.join('\n\n') : undefined;
}

function isAssistant(e: TranscriptEntry): boolean {
  return e.type === 'assistant' || (e.type === undefined && e.message?.role === 'assistant');
}

/** A prompt the human typed (not a tool result, not a meta/command line): the start of the turn. */
function isHumanPrompt(e: TranscriptEntry): boolean {
  if (e.type !== 'user' || e.isMeta === true) return false;
  const c = e.message?.content;
  if (typeof c === 'string') return true;
  return Array.isArray(c) && c.some((b) => isBlock(b) && b.type === 'text') && !c.some((b) => isBlock(b) && b.type === 'tool_result');
}

/**
 * The text of the last assistant message in a Claude Code transcript (JSONL). Claude
 * Code writes one line per content block, several lines sharing one message.id; the
 * text blocks of that last message are joined. Sub-agent lines (isSidechain) are
 * skipped, unparsable lines ignored, and the search stops at the human's prompt that
 * started the turn, so text from an earlier turn is never sent again.
 */
export function lastAssistantText(jsonl: string): string | undefined {
  const entries: TranscriptEntry[] = [];
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line);
      if (v && typeof v === 'object' && !Array.isArray(v)) entries.push(v as TranscriptEntry);
    } catch {
      /* a torn line (the file is being written) or a partial first line of a tail read */
    }
  }
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (e.isSidechain === true) continue;
    if (isHumanPrompt(e)) return undefined;
    if (!isAssistant(e)) continue;
    const text = textOf(e.message?.content);
    if (text === undefined || !text.trim()) continue;
    const id = e.message?.id;
    const texts = [text];
    if (id !== undefined) {
      for (let j = i - 1; j >= 0; j--) {
        const f = entries[j];
        if (f.isSidechain === true) continue;
        if (!isAssistant(f) || f.message?.id !== id) break;
        const t = textOf(f.message?.content);
        if (t?.trim()) texts.unshift(t);
      }
    }
    return texts.join('\n\n').trim();
  }
  return undefined;
}

/** Reads the transcript's tail and returns its last assistant text; undefined when unreadable. */
export function lastAssistantTextFromFile(file: string): string | undefined {
  return withTail(file, lastAssistantText);
}

function withTail<T>(file: string, fn: (text: string) => T | undefined): T | undefined {
  let fd: number;
  let size: number;
  // Not a plain open: a FIFO at transcript_path would block the hook (and the session) forever.
  try {
    const opened = openFileForRead(file);
    if (!opened) return undefined;
    ({ fd } = opened);
    size = opened.stats.size;
  } catch {
    return undefined;
  }
  try {
    const len = Math.min(size, TRANSCRIPT_TAIL_BYTES);
    const buf = Buffer.alloc(len);
    const n = fs.readSync(fd, buf, 0, len, size - len);
    let text = buf.subarray(0, n).toString('utf8');
    // A tail read starts mid-line: drop the partial first line.
    if (len < size) text = text.slice(text.indexOf('\n') + 1);
    return fn(text);
  } finally {
    fs.closeSync(fd);
  }
}

export interface ToolUse {
  name: string;
  input: Record<string, unknown>;
}

/** The last tool call in a transcript: what a permission prompt is about. */
export function lastToolUse(jsonl: string): ToolUse | undefined {
  const lines = jsonl.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].includes('"tool_use"')) continue;
    let e: TranscriptEntry;
    try {
      e = JSON.parse(lines[i]);
    } catch {
      continue;
    }
    if (e.isSidechain === true || !isAssistant(e) || !Array.isArray(e.message?.content)) continue;
    const blocks = (e.message!.content as unknown[]).filter(
      (b): b is Block & { name: string } => isBlock(b) && b.type === 'tool_use' && typeof b.name === 'string',
    );
    const b = blocks.at(-1);
    if (b) return { name: b.name, input: b.input && typeof b.input === 'object' ? (b.input as Record<string, unknown>) : {} };
  }
  return undefined;
}

export function lastToolUseFromFile(file: string): ToolUse | undefined {
  return withTail(file, lastToolUse);
}

/** "Bash: npm test", "Edit: src/a.ts": the tool and the one argument a person would want to see. */
export function describeToolUse(t: ToolUse): string {
  const arg = ['command', 'file_path', 'notebook_path', 'path', 'url', 'pattern', 'description']
    .map((k) => t.input[k])
    .find((v) => typeof v === 'string' && v.trim());
  if (typeof arg !== 'string') return t.name;
  const one = arg.replace(/\s+/g, ' ').trim();
  return `${t.name}: ${one.length > 160 ? `${one.slice(0, 159)}…` : one}`;
}

// ------------------------------------------------------------------ the envelope

/**
 * Fits a message into limits.max_envelope_bytes (the file as written, JSON-escaped),
 * keeping its start and its end and saying what was cut. Without this an oversized
 * message would be rejected by the relay and the hook would wait for nothing.
 */
export function fitEnvelopeContent(content: string, maxBytes: number, overhead = 1024): string {
  const budget = Math.max(1024, maxBytes - overhead);
  const size = (s: string) => Buffer.byteLength(JSON.stringify(s), 'utf8');
  if (size(content) <= budget) return content;
  let keep = content.length;
  for (let i = 0; i < 40; i++) {
    keep = Math.floor(keep * Math.min(0.95, budget / size(content.slice(0, keep))));
    const head = safeCut(content, Math.floor((keep * 2) / 3));
    const tail = content.slice(content.length - Math.floor(keep / 3));
    const cut = content.length - head.length - tail.length;
    const out = `${head}\n\n[… ${cut} characters cut by relay-tui: the message was over limits.max_envelope_bytes …]\n\n${tail}`;
    if (size(out) <= budget) return out;
  }
  return safeCut(content, 1000);
}

// ------------------------------------------------------------------ the reply

/**
 * How long a reason may be before the reply is spilled to a file. Measured with the
 * real CLI (2.1.197 and 2.1.332): a 30,010-character reason reached the model intact,
 * so the old ~10,000 guess cost sessions a Read (and maybe a permission prompt) for
 * nothing. Spilling is for what is beyond what was measured.
 */
export const MAX_REASON_CHARS = 30_000;

/** Cuts at most `n` UTF-16 units without splitting a surrogate pair. */
function safeCut(s: string, n: number): string {
  if (s.length <= n) return s;
  let cut = s.slice(0, n);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

export function replyFileName(session: string, now = new Date()): string {
  return `${session}-${now.toISOString().replace(/[:.]/g, '-')}.md`;
}

export interface FrameContext {
  session: string;
  root: string;
  /** The reply came after the session's turn had ended (handed over by the background waiter). */
  late?: boolean;
}

/**
 * The words around a reply. Newer Claude Code (2.1.332) treats what a hook merely
 * relays as data and follows only what the hook itself asks; so the hook asks, in its
 * own voice, and says plainly where the reply comes from: the reviewer relay this
 * project configured. It claims no approval the reply does not itself carry.
 */
export function frameReply(reply: string, o: FrameContext): string {
  const when = o.late ? ' It arrived after your previous turn had ended.' : '';
  return (
    `relay-tui, the Stop hook configured in this project, asks you to continue with the reply below as your next instruction. ` +
    `It is the review of your last message by this project's configured reviewer relay (relay-tui, root ${o.root}, session ${o.session}): ` +
    `the supervising chat-Claude that coordinates this work.${when} Act on what it asks; when you end your turn, the hook sends your message back for review.\n\n` +
    `<reviewer-reply>\n${reply.trimEnd()}\n</reviewer-reply>`
  );
}

/**
 * The text handed to Claude Code (a Stop hook's `reason`, a waiter's wake-up): the
 * framed reply, or, when that is longer than MAX_REASON_CHARS, the first part framed
 * with a pointer to the whole reply in state/replies/ (0600, written atomically), cut
 * at a line break where there is one near the limit.
 */
export function replyReason(
  reply: string,
  o: FrameContext & { repliesDir: string; now?: Date; max?: number; prefix?: string },
): { reason: string; file?: string } {
  const max = o.max ?? MAX_REASON_CHARS;
  const prefix = o.prefix ?? '';
  const whole = prefix + frameReply(reply, o);
  if (whole.length <= max) return { reason: whole };
  fs.mkdirSync(o.repliesDir, { recursive: true, mode: 0o700 });
  const file = path.join(o.repliesDir, replyFileName(o.session, o.now));
  writeAtomic(file, reply.endsWith('\n') ? reply : `${reply}\n`, 0o600);
  const total = groupDigits(reply.length);
  const head = `[relay-tui: this reply is ${total} characters, more than a hook hands over inline. The whole reply is in ${file}. The first part is below; read that file in full before you act on it.]\n\n`;
  const foot = `\n\n[relay-tui: the reply continues in ${file}]`;
  const room = Math.max(0, max - head.length - foot.length - (prefix + frameReply('', o)).length);
  let inline = safeCut(reply, room);
  const nl = inline.lastIndexOf('\n');
  if (nl > room * 0.7) inline = inline.slice(0, nl);
  return { reason: prefix + frameReply(`${head}${inline.trimEnd()}${foot}`, o), file };
}
