/**
 * Text for the terminal: strip what could drive the terminal (a session's reply may
 * contain escape sequences), measure, wrap and truncate by display columns.
 */

// CSI/OSC/other escape sequences, then remaining C0/C1 controls except \n.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function clean(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ').replace(ESCAPES, '').replace(CONTROLS, '');
}

export function oneLine(text: string): string {
  return clean(text)
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp === 0x200d || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  return isWide(cp) ? 2 : 1;
}

export function width(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/** At most `max` columns; an ellipsis marks a cut. */
export function truncate(text: string, max: number): string {
  if (max <= 0) return '';
  if (width(text) <= max) return text;
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = charWidth(ch);
    if (w + cw > max - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

export function pad(text: string, w: number, align: 'left' | 'right' = 'left'): string {
  const t = truncate(text, w);
  const fill = ' '.repeat(Math.max(0, w - width(t)));
  return align === 'left' ? t + fill : fill + t;
}

/** Splits a word that is wider than `max` into pieces. */
function breakWord(word: string, max: number): string[] {
  const parts: string[] = [];
  let cur = '';
  let w = 0;
  for (const ch of word) {
    const cw = charWidth(ch);
    if (w + cw > max && cur) {
      parts.push(cur);
      cur = '';
      w = 0;
    }
    cur += ch;
    w += cw;
  }
  if (cur) parts.push(cur);
  return parts;
}

/**
 * Word-wraps `text` (already clean) into lines: the first at most `first` columns, the
 * rest at most `rest`. Paragraph breaks are kept; runs of spaces collapse.
 */
export function wrap(text: string, first: number, rest = first): string[] {
  const lines: string[] = [];
  let cur = '';
  let curW = 0;
  const limit = () => Math.max(1, lines.length === 0 ? first : rest);
  const flush = () => {
    lines.push(cur);
    cur = '';
    curW = 0;
  };
  for (const para of text.split('\n')) {
    for (const word of para.split(/ +/)) {
      if (!word) continue;
      const ww = width(word);
      if (curW > 0 && curW + 1 + ww <= limit()) {
        cur += ` ${word}`;
        curW += 1 + ww;
        continue;
      }
      if (curW > 0) flush();
      if (ww <= limit()) {
        cur = word;
        curW = ww;
        continue;
      }
      for (const piece of breakWord(word, limit())) {
        if (curW > 0) flush();
        cur = piece;
        curW = width(piece);
      }
    }
    flush();
  }
  while (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.length ? lines : [''];
}

/** A run of text in one style (the pane maps the tag to a colour). */
export interface Span<T extends string = string> {
  text: string;
  tag: T;
}

interface Cell<T extends string> {
  ch: string;
  w: number;
  tag: T;
}

/** Appends a cell to a row of spans, merging with the last span when the tag is the same. */
function push<T extends string>(row: Span<T>[], ch: string, tag: T): void {
  const last = row[row.length - 1];
  if (last && last.tag === tag) last.text += ch;
  else row.push({ text: ch, tag });
}

/**
 * Word-wraps styled spans (already clean) into rows: the first at most `first` columns,
 * the rest at most `rest`, measured by display columns (a wide character never straddles
 * an edge). Nothing is dropped but the spaces where a row breaks: a word wider than a row
 * is split across rows, a label wider than the row wraps like the text after it, and
 * leading spaces (an indent) stay with the first word. Paragraph breaks are kept.
 */
export function wrapSpans<T extends string>(spans: readonly Span<T>[], first: number, rest = first): Span<T>[][] {
  // Words as cells; a space ends a word, a newline a paragraph.
  const paras: Cell<T>[][][] = [[]];
  let word: Cell<T>[] | null = null;
  let leading = true;
  for (const s of spans) {
    for (const ch of s.text) {
      if (ch === '\n') {
        paras.push([]);
        word = null;
        leading = false;
      } else if (ch === ' ' && !leading) {
        word = null;
      } else {
        if (!word) {
          word = [];
          paras[paras.length - 1].push(word);
        }
        word.push({ ch, w: charWidth(ch), tag: s.tag });
        if (ch !== ' ') leading = false;
      }
    }
  }
  const rows: Span<T>[][] = [];
  let row: Span<T>[] = [];
  let rowW = 0;
  let lastTag: T | null = null;
  // At least 2 columns: the widest character must fit a row.
  const limit = () => Math.max(2, rows.length === 0 ? first : rest);
  const flush = () => {
    rows.push(row);
    row = [];
    rowW = 0;
  };
  for (const para of paras) {
    for (const cells of para) {
      const ww = cells.reduce((a, c) => a + c.w, 0);
      if (rowW > 0 && rowW + 1 + ww <= limit()) {
        push(row, ' ', lastTag ?? cells[0].tag);
        rowW += 1;
      } else if (rowW > 0) flush();
      for (const c of cells) {
        if (rowW + c.w > limit() && rowW > 0) flush();
        push(row, c.ch, c.tag);
        rowW += c.w;
        lastTag = c.tag;
      }
    }
    flush();
  }
  while (rows.length > 1 && rows[rows.length - 1].length === 0) rows.pop();
  return rows.length ? rows : [[]];
}
