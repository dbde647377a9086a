import type { Control } from './control.js';
import { heldList } from './control.js';
import type { WaitingItem } from '../../protocol/status.js';

export type { WaitingItem };

/**
 * What waits for the operator, one item per held reply or pause, oldest first: the
 * inbox that status.json lists (`waiting`), and the candidates a bare /approve, /drop
 * or /resume chooses among. A command with one candidate acts on it; with several it
 * is refused with the list: never a silent pick.
 */

// The item's shape is status.json's (one schema, protocol/status.ts): what the engine lists is what it writes.
export type WaitingKind = WaitingItem['kind'];

export function heldItems(c: Control): WaitingItem[] {
  return heldList(c).map((h) => ({
    session: h.session,
    kind: h.reason === 'needs_jc' ? 'question' : 'approval',
    reason: h.reason,
    text: h.text,
    since: h.at,
    code: h.code,
    turn: h.seq,
  }));
}

/** The pauses /resume lifts: the relay's own (session '*') and each session's. */
export function pauseItems(c: Control): WaitingItem[] {
  const out: WaitingItem[] = [];
  if (c.paused)
    out.push({
      session: '*',
      kind: c.paused.reason === 'error' ? 'error' : 'paused',
      reason: c.paused.reason,
      text: c.paused.message,
      since: c.paused.at,
      code: c.paused.code ?? null,
      turn: null,
    });
  for (const [session, sp] of Object.entries(c.session_pauses))
    out.push({
      session,
      kind: sp.reason === 'fault' ? 'fault' : 'paused',
      reason: sp.reason,
      text: sp.message,
      since: sp.at,
      code: sp.code ?? null,
      turn: null,
    });
  return out;
}

/** Everything waiting for the operator, oldest first (status.json `waiting`). */
export function waitingItems(c: Control): WaitingItem[] {
  return [...heldItems(c), ...pauseItems(c)].sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0));
}

function age(since: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** "session-1 (question, 4m), session-3 (loop, 1m)". */
export function describeItems(items: readonly WaitingItem[], now: number): string {
  return items
    .map((i) => `${i.session === '*' ? 'the relay' : i.session} (${i.kind === 'paused' ? i.reason : i.kind}, ${age(i.since, now)})`)
    .join(', ');
}

export type Pick = { ok: true; item: WaitingItem } | { ok: false; none: true } | { ok: false; none: false; message: string };

/**
 * The item a command means. `arg`: what the operator typed after it (a session id or a
 * one-time code); `selected`: the session the TUI has selected (a bare command's target
 * when it is a candidate). `none`: nothing matched (the caller words that refusal).
 */
export function pickItem(
  items: readonly WaitingItem[],
  cmd: string,
  arg: string | undefined,
  selected: string | undefined,
  now: number,
): Pick {
  if (arg) {
    const byName = items.find((i) => i.session === arg);
    if (byName) return { ok: true, item: byName };
    const byCode = items.find((i) => i.code !== null && i.code === arg.toUpperCase());
    return byCode ? { ok: true, item: byCode } : { ok: false, none: true };
  }
  if (selected) {
    const sel = items.find((i) => i.session === selected);
    if (sel) return { ok: true, item: sel };
  }
  if (items.length === 1) return { ok: true, item: items[0] };
  if (!items.length) return { ok: false, none: true };
  const first = items[0].session === '*' ? '' : ` ${items[0].session}`;
  return {
    ok: false,
    none: false,
    message: `several wait: ${describeItems(items, now)}; say ${cmd}${first || ' SESSION'}`,
  };
}
