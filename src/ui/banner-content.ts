import type { Status } from '../protocol/status.js';
import { age, reasonLabel } from './format.js';
import { DEFAULT_KEYMAP, type Keymap } from './keymap.js';
import { clean, oneLine, width as textWidth, wrap } from './wrap.js';

export interface BannerContent {
  title: string;
  color: 'red' | 'yellow';
  body: string;
  keys: string[];
}

/** What the banner says in each pause, and the keys that end it. Null: nothing to say. */
export function bannerContent(s: Status, now: number, km: Keymap = DEFAULT_KEYMAP): BannerContent | null {
  const KEYS = km.label;
  const h = s.held;
  if (h) {
    const body = clean(h.text).replace('[NEEDS-JC]', '').trim();
    const when = `turn ${h.turn}, ${age(h.at, now)} ago`;
    return {
      // Who asks comes first: it is what survives a narrow pane.
      title: h.reason === 'needs_jc' ? `▲ ${h.session} asks you · NEEDS-JC (${when})` : `◆ reply for ${h.session} needs approval (${when})`,
      color: h.reason === 'needs_jc' ? 'red' : 'yellow',
      body,
      keys: [
        `${KEYS.approve} approve → ${h.session}`,
        `${KEYS.drop} drop`,
        'or type an answer + Enter',
        `${KEYS.reply} @${h.session}: direct`,
        `${KEYS.help} help`,
      ],
    };
  }
  if (s.state === 'error') {
    return {
      title: '✖ ERROR · the relay is paused, nothing was dropped',
      color: 'red',
      body: s.pause_message ?? s.last_error ?? 'API error',
      keys: [`${KEYS.pause} or /resume to retry`, `${KEYS.help} help`],
    };
  }
  if (s.state === 'paused') {
    const r = s.pause_reason;
    if (r === 'operator')
      return { title: '❚❚ PAUSED by you: no envelope is taken', color: 'yellow', body: '', keys: [`${KEYS.pause} or /resume to resume`] };
    const extra = r === 'budget_day' ? ["/budget USD raises today's budget"] : r === 'auto_turns' ? ['/allow SESSION N'] : [];
    return {
      title: `❚❚ PAUSED · ${reasonLabel(r)}`,
      color: 'yellow',
      body: s.pause_message ?? '',
      keys: [`${KEYS.pause} or /resume to go on (passes this guard once)`, ...extra],
    };
  }
  const paused = Object.entries(s.sessions).filter(([, x]) => x.paused_reason);
  if (paused.length) {
    const [id, x] = paused[0];
    return {
      title: `⏸ ${paused.length === 1 ? `${id} is` : `${paused.length} sessions are`} paused (${reasonLabel(x.paused_reason)}); the others flow`,
      color: 'yellow',
      body:
        paused.length === 1
          ? (x.paused_message ?? '')
          : paused.map(([i, p]) => `${i}: ${oneLine(p.paused_message ?? reasonLabel(p.paused_reason))}`).join('\n'),
      keys: ['/resume resumes them', `/allow ${id} N`],
    };
  }
  return null;
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

export const BODY_INDENT = '│ ';

/** Rows the banner would like at this width (the layout may give fewer). */
export function bannerRows(c: BannerContent | null, w: number, maxBody: number): number {
  if (!c) return 0;
  const body = c.body ? Math.min(maxBody, wrap(c.body, w - BODY_INDENT.length).length) : 0;
  return 1 + body + keyLines(c.keys, w - BODY_INDENT.length).length;
}
