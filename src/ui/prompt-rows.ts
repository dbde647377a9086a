import { charWidth } from './wrap.js';

/**
 * The prompt's text cut into rows of the pane's width, after a 2-column gutter ("› " on
 * the first row, two spaces on the others, so wrapped text lines up under the first
 * character). Cut by columns, not words, so the cursor's row and column are exact.
 */

export const GUTTER = 2;

export interface PromptRow {
  text: string;
  /** Index in `text` where the cursor is drawn, when it is on this row. */
  cursor?: number;
}

export function promptRows(value: string, cursor: number, width: number): PromptRow[] {
  const w = Math.max(4, width - GUTTER);
  const rows: PromptRow[] = [];
  let text = '';
  let cols = 0;
  let index = 0;
  let at: { row: number; col: number } | null = null;
  for (const ch of value) {
    const cw = charWidth(ch);
    if (cols + cw > w) {
      rows.push({ text });
      text = '';
      cols = 0;
    }
    if (index === cursor) at = { row: rows.length, col: text.length };
    text += ch;
    cols += cw;
    index += ch.length;
  }
  if (!at) {
    // The cursor after the last character needs a column of its own.
    if (cols + 1 > w) {
      rows.push({ text });
      text = '';
    }
    at = { row: rows.length, col: text.length };
  }
  rows.push({ text });
  rows[at.row].cursor = at.col;
  return rows;
}
