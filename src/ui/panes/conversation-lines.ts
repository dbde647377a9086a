import type { TailEntry } from '../../engine/snapshot.js';
import { clock, count, money } from '../format.js';
import { clean, width as textWidth, wrap } from '../wrap.js';

/** One row of the conversation pane: a coloured speaker prefix (first row of a message) and text. */
export interface ConvLine {
  key: string;
  prefix?: string;
  role?: 'session' | 'operator' | 'chat' | 'stream';
  text: string;
}

const INDENT = '  ';

/** The engine labels the user side "[session-1] 2026-…\n"; the pane shows the speaker itself. */
export function stripLabel(user: string): string {
  const m = /^\[[^\]\n]*\][^\n]*\n/.exec(user);
  return m ? user.slice(m[0].length) : user;
}

function message(keyBase: string, prefix: string, role: ConvLine['role'], text: string, w: number): ConvLine[] {
  const body = clean(text).trim() || '(empty)';
  const pw = textWidth(prefix);
  const rows = wrap(body, Math.max(8, w - pw), Math.max(8, w - INDENT.length));
  return rows.map((t, i) => (i === 0 ? { key: `${keyBase}:0`, prefix, role, text: t } : { key: `${keyBase}:${i}`, text: INDENT + t }));
}

const cache = new WeakMap<TailEntry, { width: number; lines: ConvLine[] }>();

/** The rows of one turn at a width; cached per entry object, so a burst of turns wraps each once. */
export function entryLines(e: TailEntry, w: number): ConvLine[] {
  const hit = cache.get(e);
  if (hit && hit.width === w) return hit.lines;
  const speaker = e.session === 'operator' ? `you (re ${e.route})` : e.session;
  const lines = [
    ...message(`${e.seq}u`, `${clock(e.at)} ${speaker} › `, e.session === 'operator' ? 'operator' : 'session', stripLabel(e.user), w),
    ...message(`${e.seq}r`, `      chat → ${e.route} ${money(e.costUsd)} › `, 'chat', e.reply, w),
  ];
  cache.set(e, { width: w, lines });
  return lines;
}

/** The reply as it streams in: only its end is wrapped (it can be thousands of characters). */
export function streamLines(text: string, session: string, chars: number, w: number, maxRows: number): ConvLine[] {
  const tail = text.length > maxRows * w * 2 ? `…${text.slice(-maxRows * w * 2)}` : text;
  const lines = message('stream', `      chat → ${session} (${count(chars)} chars…) › `, 'stream', tail || '…', w);
  return lines.slice(-Math.max(1, maxRows));
}

/**
 * The `rows` rows ending `offset` rows above the bottom of `entries` (+ extra rows at the
 * very bottom). Wraps from the newest entry backwards only as far as needed. Returns the
 * window and whether the top of the conversation was reached.
 */
export function windowLines(entries: readonly TailEntry[], extra: ConvLine[], w: number, rows: number, offset: number): { lines: ConvLine[]; atTop: boolean; offset: number } {
  const need = rows + offset;
  const acc: ConvLine[][] = [extra];
  let n = extra.length;
  let i = entries.length - 1;
  for (; i >= 0 && n < need; i--) {
    const l = entryLines(entries[i], w);
    acc.push(l);
    n += l.length;
  }
  const all = acc.reverse().flat();
  const off = Math.max(0, Math.min(offset, all.length - rows));
  const end = all.length - off;
  return { lines: all.slice(Math.max(0, end - rows), end), atTop: i < 0 && end - rows <= 0, offset: off };
}
