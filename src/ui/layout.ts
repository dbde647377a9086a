/**
 * Row and column budget for every pane. Pure, so it is tested directly: the sum of
 * the rows is never more than rows - 1. Ink treats a frame as tall as the terminal
 * as full-screen and clears the whole terminal (scrollback too) on the next render;
 * one spare row avoids that.
 */

export interface LayoutInput {
  rows: number;
  columns: number;
  /** Rows the banner would like (0: no banner). */
  banner: number;
  sessions: number;
  /** Rows the prompt line needs (long input wraps); 1 by default. */
  prompt?: number;
}

export interface Layout {
  height: number;
  width: number;
  wide: boolean;
  header: number;
  banner: number;
  /** Queue + cost. Side by side when narrow (one height), stacked in the left column when wide. */
  queue: number;
  cost: number;
  sessions: number;
  conversation: number;
  /** The result line and the prompt line. */
  footer: number;
  prompt: number;
  /** Wide layout: the left column's width; narrow: the queue pane's width. */
  leftWidth: number;
  rightWidth: number;
  /** Rows of the body (everything between header+banner and footer): the help overlay's room. */
  body: number;
}

export const WIDE_MIN_COLUMNS = 140;

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

export function computeLayout(i: LayoutInput): Layout {
  const width = Math.max(20, i.columns || 80);
  const height = Math.max(4, (i.rows || 24) - 1);
  const wide = width >= WIDE_MIN_COLUMNS;
  const header = height >= 12 ? 2 : 1;
  const prompt = clamp(i.prompt ?? 1, 1, Math.max(1, Math.min(4, height - header - 3)));
  const footer = 1 + prompt;
  const banner = i.banner > 0 ? Math.min(i.banner, Math.max(2, Math.floor(height * (wide ? 0.3 : 0.35)))) : 0;
  const body = Math.max(0, height - header - footer - banner);
  const sessionRows = i.sessions + 2; // + title and column heads

  if (wide) {
    const leftWidth = clamp(Math.floor(width * 0.4), 76, 96);
    const rightWidth = width - leftWidth - 1;
    const queue = body >= 16 ? 4 : body >= 10 ? 3 : 0;
    const cost = body >= 16 ? 5 : body >= 10 ? 4 : body >= 6 ? 3 : 0;
    const sessions = Math.max(0, body - queue - cost);
    return { height, width, wide, header, banner, queue, cost, sessions, conversation: body, footer, prompt, leftWidth, rightWidth, body };
  }

  const stats = body >= 16 ? 5 : body >= 11 ? 4 : body >= 7 ? 3 : 0;
  const rest = body - stats;
  // All sessions when the conversation keeps 5 rows; else about half the room.
  let sessions = sessionRows <= rest - 5 ? sessionRows : Math.min(sessionRows, Math.max(Math.min(3, rest), Math.floor(rest * 0.5)));
  if (rest - sessions < 3) sessions = Math.max(0, Math.min(sessions, rest - 3));
  const conversation = Math.max(0, rest - sessions);
  const leftWidth = clamp(Math.floor(width * 0.38), 24, 44);
  return {
    height,
    width,
    wide,
    header,
    banner,
    queue: stats,
    cost: stats,
    sessions,
    conversation,
    footer,
    prompt,
    leftWidth,
    rightWidth: width - leftWidth - 1,
    body,
  };
}
