import type { TailEntry } from '../../engine/api.js';
import { clock, count, money } from '../format.js';
import type { DispatchNote, HeldOutcome } from '../hooks/use-conversation-notes.js';
import { clean, wrapSpans, type Span } from '../wrap.js';

/** What a piece of a row is: the speaker label, a mark (held, dropped, truncated…), or the message. */
export type ConvTag = 'prefix' | 'mark' | 'text';

/** One row of the conversation pane: its pieces in order, coloured by their tag and the row's role. */
export interface ConvLine {
  key: string;
  role?: 'session' | 'operator' | 'chat' | 'stream';
  markColor?: string;
  parts: Span<ConvTag>[];
}

/** A turn, or a direct dispatch by the operator, in the order they happened. */
export type ConvItem = { kind: 'turn'; e: TailEntry; outcome?: HeldOutcome; held?: boolean } | { kind: 'dispatch'; n: DispatchNote };

const INDENT = '  ';

/** The engine labels the user side "[session-1] 2026-…\n"; the pane shows the speaker itself. */
export function stripLabel(user: string): string {
  const m = /^\[[^\]\n]*\][^\n]*\n/.exec(user);
  return m ? user.slice(m[0].length) : user;
}

/** The evidence block the engine adds after a session's message: the pane shows its one-line summary instead. */
export function stripEvidence(user: string): string {
  const at = user.lastIndexOf('\n\n<evidence ');
  return at >= 0 && user.trimEnd().endsWith('</evidence>') ? user.slice(0, at) : user;
}

/**
 * A message as rows of exactly the pane's width or less: the label, the mark and the
 * text wrap together (a long mark or a narrow pane moves the text down a row instead
 * of letting the terminal cut it), continuation rows indented.
 */
export function message(
  keyBase: string,
  prefix: string,
  role: ConvLine['role'],
  text: string,
  w: number,
  mark?: { text: string; color: string },
): ConvLine[] {
  const body = clean(text).trim() || '(empty)';
  const spans: Span<ConvTag>[] = [{ text: prefix, tag: 'prefix' }];
  if (mark) spans.push({ text: `${mark.text} `, tag: 'mark' });
  spans.push({ text: body, tag: 'text' });
  const rows = wrapSpans(spans, Math.max(2, w), Math.max(2, w - INDENT.length));
  return rows.map((parts, i) => ({
    key: `${keyBase}:${i}`,
    role,
    markColor: mark?.color,
    parts: i === 0 ? parts : [{ text: INDENT, tag: 'text' as const }, ...parts],
  }));
}

/** The label of chat-Claude's reply: the same while it streams and once it is recorded. */
export function replyPrefix(route: string, cost: string): string {
  return `      chat → ${route} ${cost} › `;
}

function outcomeMark(i: Extract<ConvItem, { kind: 'turn' }>): { text: string; color: string } | undefined {
  const marks: string[] = [];
  let color = 'yellow';
  if (i.held) {
    marks.push('[held: awaiting you]');
    color = 'red';
  } else if (i.outcome?.how === 'approved') {
    marks.push(`[approved → ${i.outcome.session}]`);
    color = 'green';
  } else if (i.outcome?.how === 'dropped') marks.push('[dropped: not sent]');
  else if (i.outcome?.how === 'replaced') marks.push('[not sent: replaced by your answer]');
  if (i.e.truncated) marks.push('[truncated at max_tokens]');
  return marks.length ? { text: marks.join(' '), color } : undefined;
}

const cache = new WeakMap<object, { width: number; tag: string; lines: ConvLine[] }>();

/** The rows of one item at a width; cached per entry object, so a burst of turns wraps each once. */
export function itemLines(i: ConvItem, w: number): ConvLine[] {
  const obj = i.kind === 'turn' ? i.e : i.n;
  const mark = i.kind === 'turn' ? outcomeMark(i) : undefined;
  const tag = mark?.text ?? '';
  const hit = cache.get(obj);
  if (hit && hit.width === w && hit.tag === tag) return hit.lines;
  let lines: ConvLine[];
  if (i.kind === 'dispatch') {
    const n = i.n;
    lines = message(`d${n.id}`, `${clock(n.at)} you → ${n.session}${n.source !== 'tui' ? ` (${n.source})` : ''} › `, 'operator', n.text, w);
  } else {
    const e = i.e;
    const speaker = e.session === 'operator' ? `you (re ${e.route})` : e.session;
    lines = [
      ...message(
        `${e.seq}u`,
        `${clock(e.at)} ${speaker} › `,
        e.session === 'operator' ? 'operator' : 'session',
        stripEvidence(stripLabel(e.user)),
        w,
      ),
      // What the turn did (its evidence), one line under the session's words.
      ...(e.evidence ? message(`${e.seq}e`, INDENT, undefined, e.evidence, w) : []),
      ...message(`${e.seq}r`, replyPrefix(e.route, money(e.costUsd)), 'chat', e.reply, w, mark),
    ];
  }
  cache.set(obj, { width: w, tag, lines });
  return lines;
}

/** Back-compat for callers with plain tail entries. */
export function entryLines(e: TailEntry, w: number): ConvLine[] {
  return itemLines({ kind: 'turn', e }, w);
}

/** Turns and dispatch notes merged in order (a note after the turn it followed). */
export function mergeItems(
  entries: readonly TailEntry[],
  dispatches: readonly DispatchNote[],
  outcomes: ReadonlyMap<number, HeldOutcome>,
  /** The turns whose replies are held (several when several sessions ask). */
  heldSeqs: ReadonlySet<number>,
): ConvItem[] {
  const out: ConvItem[] = [];
  const first = entries.length ? entries[0].seq : Infinity;
  let d = 0;
  // Notes older than every turn shown belong to history the view no longer holds.
  while (d < dispatches.length && dispatches[d].afterSeq < first - 1 && entries.length) d++;
  for (const e of entries) {
    while (d < dispatches.length && dispatches[d].afterSeq < e.seq) out.push({ kind: 'dispatch', n: dispatches[d++] });
    out.push({ kind: 'turn', e, outcome: outcomes.get(e.seq), held: heldSeqs.has(e.seq) });
  }
  while (d < dispatches.length) out.push({ kind: 'dispatch', n: dispatches[d++] });
  return out;
}

/** The reply as it streams in: only its end is wrapped (it can be thousands of characters). */
export function streamLines(text: string, route: string, chars: number, w: number, maxRows: number): ConvLine[] {
  const tail = text.length > maxRows * w * 2 ? `…${text.slice(-maxRows * w * 2)}` : text;
  const lines = message('stream', replyPrefix(route, `(${count(chars)} chars…)`), 'stream', tail || '…', w);
  return lines.slice(-Math.max(1, maxRows));
}

/**
 * The `rows` rows ending `offset` rows above the bottom of `items` (+ extra rows at the
 * very bottom). Wraps from the newest item backwards only as far as needed. Returns the
 * window and whether the top of the conversation was reached.
 */
export function windowLines(
  items: readonly ConvItem[],
  extra: ConvLine[],
  w: number,
  rows: number,
  offset: number,
): { lines: ConvLine[]; atTop: boolean; offset: number } {
  const need = rows + offset;
  const acc: ConvLine[][] = [extra];
  let n = extra.length;
  let i = items.length - 1;
  for (; i >= 0 && n < need; i--) {
    const l = itemLines(items[i], w);
    acc.push(l);
    n += l.length;
  }
  const all = acc.reverse().flat();
  const off = Math.max(0, Math.min(offset, all.length - rows));
  const end = all.length - off;
  return { lines: all.slice(Math.max(0, end - rows), end), atTop: i < 0 && end - rows <= 0, offset: off };
}
