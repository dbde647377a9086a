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
