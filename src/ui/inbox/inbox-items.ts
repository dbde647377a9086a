import type { Status, WaitingItem } from '../../protocol/status.js';
import { age, reasonLabel } from '../format.js';
import { DEFAULT_KEYMAP, type Keymap } from '../keys/keymap.js';
import { clean, oneLine, truncate, width as textWidth, wrap } from '../wrap.js';

/**
 * The operator's inbox as the TUI reads it, from status.json's `waiting` (not the engine's
 * mailboxes/inbox.ts, which is operator input on its way in). Pure, so it is tested
 * directly: the items that wait, oldest first, what each is called on screen, which
 * command each key sends for the selected one, and how many rows the pane would like.
 */

/** session '*' is the relay as a whole (the day budget, /pause, an API error). */
export const RELAY_WIDE = '*';

/**
 * status.waiting, as the engine writes it (engine/operator/targets.ts is the one place
 * that decides what waits, in what order). A status.json without it has nothing waiting.
 */
export function inboxItems(s: Status): readonly WaitingItem[] {
  return s.waiting ?? [];
}

/** An item's identity across snapshots (a session has at most one item of a kind). */
export const itemKey = (i: WaitingItem) => `${i.session}|${i.kind}`;

/** The selected item: the one chosen while it still waits, else the oldest. */
export function selectedIndex(items: readonly WaitingItem[], key: string | null): number {
  if (!items.length) return -1;
  const at = key === null ? -1 : items.findIndex((i) => itemKey(i) === key);
  return at >= 0 ? at : 0;
}

const holdsReply = (i: WaitingItem) => i.kind === 'question' || i.kind === 'approval';

export function itemColor(i: WaitingItem): 'red' | 'yellow' {
  return i.kind === 'question' || i.kind === 'fault' || i.kind === 'error' ? 'red' : 'yellow';
}

/** Who and what, as one phrase: "session-2 asks you", "relay paused (daily budget)". */
export function itemWhat(i: WaitingItem): string {
  if (i.session === RELAY_WIDE) {
    if (i.kind === 'error') return '✖ API ERROR: the relay is paused, nothing was dropped';
    return i.reason === 'operator' ? '❚❚ PAUSED by you: no envelope is taken' : `❚❚ PAUSED (${reasonLabel(i.reason)}): every session waits`;
  }
  const who = i.session;
  switch (i.kind) {
    case 'question':
      return `▲ ${who} asks you`;
    case 'approval':
      return `◆ reply for ${who} needs approval`;
    case 'error':
      return `✖ ${who} stopped: API error`;
    case 'fault':
      return `✖ ${who} fault`;
    default:
      return `⏸ ${who} paused (${reasonLabel(i.reason)})`;
  }
}

/** The question or message, whole, without the marker that made it a question. */
export function itemBody(i: WaitingItem): string {
  return clean(i.text).replace('[NEEDS-JC]', '').trim();
}

/** One row of the list: what, how long it has waited, the start of the text; cut to the width. */
export function itemRow(i: WaitingItem, now: number, w: number): string {
  const head = `${itemWhat(i)} · ${age(i.since, now)}${i.turn !== null ? ` · turn ${i.turn}` : ''}`;
  const body = oneLine(itemBody(i));
  return truncate(body ? `${head} · ${body}` : head, w);
}

/**
 * The command each key sends for the selected item, naming its session (several may wait:
 * the engine refuses a bare command then); the relay as a whole has no name to give.
 */
export function approveCommand(i: WaitingItem): string {
  if (i.session === RELAY_WIDE) return holdsReply(i) ? '/approve' : '/resume';
  return holdsReply(i) ? `/approve ${i.session}` : `/resume ${i.session}`;
}

/** A refusal (shown instead of sent) when nothing is held to drop. */
export function dropCommand(i: WaitingItem): string | { refused: string } {
  if (holdsReply(i)) return `/drop ${i.session}`;
  const who = i.session === RELAY_WIDE ? 'the relay' : i.session;
  return { refused: `nothing is held for ${who} to drop: it is paused (${reasonLabel(i.reason)}); approve resumes it` };
}

/** The session a plain-text answer goes to while this item is selected (none for the relay as a whole). */
export function answerTarget(i: WaitingItem | undefined): string | undefined {
  return i && i.session !== RELAY_WIDE ? i.session : undefined;
}

/** The keys that act on this item, most useful first (a narrow pane keeps the first). */
export function itemKeys(i: WaitingItem, km: Keymap = DEFAULT_KEYMAP): string[] {
  const K = km.label;
  if (i.session === RELAY_WIDE) {
    const extra = i.reason === 'budget_day' ? ["/budget USD raises today's budget"] : [];
    const what = i.kind === 'error' ? 'resume (retries)' : i.reason === 'operator' ? 'resume' : 'resume (passes this guard once)';
    return [`${K.approve} or ${K.pause} ${what}`, ...extra, `${K.help} help`];
  }
  if (holdsReply(i))
    return [
      `${K.approve} approve → ${i.session}`,
      `${K.drop} drop`,
      'or type an answer + Enter',
      `${K.reply} @${i.session}: direct`,
      `${K.help} help`,
    ];
  const extra = i.reason === 'auto_turns' ? [`/allow ${i.session} N`] : [];
  return [`${K.approve} resume ${i.session}`, `${K.reply} @${i.session}: redirects it`, ...extra, `${K.help} help`];
}

export const INBOX_INDENT = '│ ';

/** Rows the body of the selected item takes at this width, whole. */
export function bodyLines(i: WaitingItem, w: number): string[] {
  const body = itemBody(i);
  return body ? wrap(body, Math.max(8, w - INBOX_INDENT.length)) : [];
}

/** Rows the inbox would like: the list, the whole body (up to maxBody) and the keys. */
export function inboxRows(items: readonly WaitingItem[], sel: number, w: number, maxBody: number, km: Keymap = DEFAULT_KEYMAP): number {
  if (!items.length) return 0;
  const i = items[Math.max(0, sel)];
  const keys = keyLines(navKeys(items.length, sel, 0, 0, 0, km).concat(itemKeys(i, km)), w - INBOX_INDENT.length);
  return Math.min(items.length, 6) + Math.min(maxBody, bodyLines(i, w).length) + keys.length;
}

/** The inbox's own keys: the next item, and the question's position when it is cut. */
export function navKeys(count: number, sel: number, offset: number, shown: number, total: number, km: Keymap = DEFAULT_KEYMAP): string[] {
  const out: string[] = [];
  if (count > 1) out.push(`${km.inbox.next} next (${sel + 1}/${count})`);
  if (shown < total) out.push(`${km.inbox.more} more (${offset + 1}-${offset + shown}/${total})`);
  return out;
}

export interface InboxPlan {
  item: WaitingItem;
  sel: number;
  /** Indices of the items listed (a window around the selected one when few rows are left). */
  listed: number[];
  /** The body rows on screen, from `offset`. */
  body: string[];
  offset: number;
  total: number;
  keys: string[];
  /** Where "more" goes next: a page on, or back to the start after the end. */
  nextOffset: number;
  prevOffset: number;
}

/**
 * What the inbox shows in `height` rows: the list (at least the selected row), the
 * keys (one line, two with room) and, in the rest, the selected item's body from
 * `offset` (clamped), so a question of any length can be read to its end.
 */
export function planInbox(
  items: readonly WaitingItem[],
  selIn: number,
  offsetIn: number,
  w: number,
  height: number,
  km: Keymap = DEFAULT_KEYMAP,
): InboxPlan | null {
  if (!items.length || height <= 0) return null;
  const sel = Math.max(0, Math.min(items.length - 1, selIn));
  const item = items[sel];
  const lines = bodyLines(item, w);
  const inner = Math.max(8, w - INBOX_INDENT.length);
  const allKeys = keyLines([...navKeys(items.length, sel, 0, 0, lines.length, km), ...itemKeys(item, km)], inner).length;
  // One line of keys in a small pane; every line (up to 3) when the body keeps 3 rows.
  const keyBudget = height >= 3 ? Math.max(1, Math.min(allKeys, 3, height - 1 - Math.min(lines.length, 3))) : 0;
  const listWant = Math.min(items.length, 6);
  const listRows = Math.max(1, Math.min(listWant, height - keyBudget - Math.min(lines.length, 3)));
  const first = Math.max(0, Math.min(sel - Math.floor((listRows - 1) / 2), items.length - listRows));
  const listed = Array.from({ length: Math.min(listRows, height) }, (_, k) => first + k);
  const keysFor = (offset: number, shown: number) =>
    keyLines([...navKeys(items.length, sel, offset, shown, lines.length, km), ...itemKeys(item, km)], inner).slice(0, keyBudget);
  // The keys' line count depends on whether the body is cut: measure with the tighter case.
  let bodyRows = Math.max(0, height - listed.length - keysFor(0, 0).length);
  bodyRows = Math.min(bodyRows, lines.length);
  const maxOffset = Math.max(0, lines.length - bodyRows);
  const offset = Math.max(0, Math.min(offsetIn, maxOffset));
  const step = Math.max(1, bodyRows > 2 ? bodyRows - 1 : bodyRows);
  return {
    item,
    sel,
    listed,
    body: lines.slice(offset, offset + bodyRows),
    offset,
    total: lines.length,
    keys: keysFor(offset, bodyRows),
    nextOffset: offset >= maxOffset ? 0 : Math.min(maxOffset, offset + step),
    prevOffset: Math.max(0, offset - step),
  };
}

/** Keys joined with " · ", wrapped between keys (never inside one). */
export function keyLines(keys: string[], w: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const k of keys) {
    const next = cur ? `${cur} · ${k}` : k;
    if (cur && textWidth(next) > w) {
      lines.push(cur);
      cur = k;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}
