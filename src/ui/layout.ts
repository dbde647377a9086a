/**
 * Row and column budget for every pane. Pure, so it is tested directly: the sum of
 * the rows is never more than rows - 1. Ink treats a frame as tall as the terminal
 * as full-screen and clears the whole terminal (scrollback too) on the next render;
 * one spare row avoids that.
 *
 * What is always on screen, at any size down to 60x15 and also during a pause: the
 * header, the cost line (the Cost pane's first line), the result line and the prompt.
 * What gives way first: the conversation, then the inbox's body (the "banner" rows:
 * the waiting items, the selected question, its keys), then the Sessions
 * pane's column heads.
 */

export interface LayoutInput {
  rows: number;
  columns: number;
  /** Rows the banner would like (0: no banner). */
  banner: number;
  sessions: number;
  /** Rows the prompt line needs (long input wraps); 1 by default. */
  prompt?: number;
  /** Rows the result line needs (1 or 2). */
  result?: number;
  /** A start-up warning is shown under the header. */
  notice?: boolean;
}

export interface Layout {
  height: number;
  width: number;
  wide: boolean;
  header: number;
  /** The warning line under the header (0 or 1). */
  notice: number;
  banner: number;
  /** Queue + cost. Side by side when narrow (one height), stacked in the left column when wide. */
  queue: number;
  cost: number;
  sessions: number;
  conversation: number;
  /** The result line and the prompt line. */
  footer: number;
  result: number;
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
  const result = clamp(i.result ?? 1, 1, height >= 14 ? 2 : 1);
  const prompt = clamp(i.prompt ?? 1, 1, Math.max(1, Math.min(4, Math.floor((height - header - result) / 4))));
  const footer = result + prompt;
  const notice = i.notice && height - header - footer >= 6 ? 1 : 0;
  const free = Math.max(0, height - header - footer - notice);
  // The banner must leave the cost line (2 rows: title + figures) and a little more.
  const bannerMax = Math.max(0, Math.min(Math.floor(height * (wide ? 0.3 : 0.4)), free - (wide ? 3 : 5)));
  const banner = i.banner > 0 ? Math.min(i.banner, Math.max(Math.min(2, free - 2), bannerMax)) : 0;
  const body = Math.max(0, free - banner);
  // The rows and columns every layout shares; the panes' split follows.
  const frame = { height, width, wide, header, notice, banner, footer, result, prompt, body };

  if (wide) {
    const leftWidth = clamp(Math.floor(width * 0.4), 76, 96);
    const rightWidth = width - leftWidth - 1;
    const queue = body >= 16 ? 4 : body >= 10 ? 3 : body >= 6 ? 2 : 0;
    const cost = body >= 16 ? 5 : body >= 10 ? 4 : body >= 4 ? 3 : Math.min(2, body);
    const sessions = Math.max(0, body - queue - cost);
    return { ...frame, queue, cost, sessions, conversation: body, leftWidth, rightWidth };
  }

  const stats = body >= 16 ? 5 : body >= 11 ? 4 : body >= 8 ? 3 : Math.min(2, body);
  const rest = body - stats;
  // Title + heads + every session when the conversation keeps 5 rows; else title + a few rows.
  const full = i.sessions + 2;
  let sessions: number;
  if (full <= rest - 5) sessions = full;
  else {
    const least = Math.min(rest, Math.min(i.sessions + 1, 2)); // title + one row
    sessions = clamp(Math.round(rest * 0.55), least, Math.min(full, rest));
  }
  let conversation = Math.max(0, rest - sessions);
  // A conversation of its title alone says nothing: the sessions take the row.
  if (conversation < 2) {
    sessions += conversation;
    conversation = 0;
  }
  const leftWidth = clamp(Math.floor(width * 0.38), 24, 44);
  return { ...frame, queue: stats, cost: stats, sessions, conversation, leftWidth, rightWidth: width - leftWidth - 1 };
}
