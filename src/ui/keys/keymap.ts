import type { Key } from 'ink';
import { DEFAULT_KEYS, KEY_ACTIONS, keyLabel, parseKeySpec, type KeyAction, type KeySpec } from '../../config/keys.js';

/**
 * Every key binding of the TUI, in one place, built from config.yaml's `keys:` (defaults
 * in src/config/keys.ts): what the keys do, when they apply, and the text the help, the
 * banner and the hint line show. No default needs Esc+letter or Alt (tmux delays and
 * mangles those) or Ctrl+A / Ctrl+B (the usual tmux prefixes).
 */

export type Action =
  | 'approve'
  | 'drop'
  | 'reply-session'
  | 'toggle-pause'
  | 'help'
  | 'close'
  | 'scroll-up'
  | 'scroll-down'
  | 'scroll-end'
  | 'clear-prompt'
  | 'inbox-next'
  | 'inbox-more'
  | 'quit'
  | 'history-prev'
  | 'history-next'
  | 'complete'
  | 'submit';

export interface KeyContext {
  promptEmpty: boolean;
  helpOpen: boolean;
  scrolled: boolean;
}

export interface Binding {
  action: Action;
  /** As shown on screen. */
  keys: string;
  label: string;
  match: (input: string, key: Key, ctx: KeyContext) => boolean;
  /** True for bindings of the prompt line (handled by the prompt, not the app). */
  prompt?: boolean;
}

const LABELS: Record<KeyAction, string> = {
  approve: 'approve the selected item (= /approve SESSION), or resume its pause',
  drop: "drop the selected item's held reply (= /drop SESSION)",
  reply: 'write to the selected session directly: fills "@session: "',
  pause: 'pause / resume taking envelopes (= /pause, /resume)',
  clear: 'clear the prompt line',
  help: 'open / close this help',
  quit: 'quit gracefully (= /quit)',
  scroll_up: 'scroll the conversation back (in help: scroll the help)',
  scroll_down: 'scroll the conversation forward',
  newest: 'back to the newest turn; closes help; dismisses a warning',
};

/**
 * The inbox's keys: Ctrl+N (next) and Ctrl+D (down the question). Neither is a tmux
 * prefix, a default binding, nor one of the prompt's readline keys (Ctrl+A/E/W/K).
 */
const inboxKey = (raw: string) => {
  const spec = parseKeySpec(raw) as KeySpec;
  return { spec, label: keyLabel(spec) };
};
const INBOX_KEYS = { next: inboxKey('ctrl+n'), more: inboxKey('ctrl+d') };

/** Does a keypress (as Ink reports it) match a spec? */
export function matches(s: KeySpec, input: string, key: Key): boolean {
  const named: Record<string, boolean> = {
    pageup: key.pageUp,
    pagedown: key.pageDown,
    home: key.home,
    end: key.end,
    escape: key.escape,
    tab: key.tab,
    up: key.upArrow,
    down: key.downArrow,
    left: key.leftArrow,
    right: key.rightArrow,
  };
  if (s.name in named) {
    if (!named[s.name]) return false;
    // Ink reports Esc with meta set: only a spec without modifiers matches a bare Esc.
    if (s.name === 'escape') return !s.ctrl && !s.shift;
    return !!key.ctrl === s.ctrl && !!key.meta === s.meta && !!key.shift === s.shift;
  }
  if (s.ctrl) return !!key.ctrl && input.toLowerCase() === s.name;
  if (s.meta) return !!key.meta && !key.ctrl && input.toLowerCase() === s.name;
  return !key.ctrl && !key.meta && input === s.name;
}

export interface Keymap {
  bindings: Binding[];
  /** On-screen label per configurable action ("Ctrl+Y"). */
  label: Record<KeyAction, string>;
  /** The inbox's own keys (fixed; a `keys:` entry on the same key takes precedence). */
  inbox: { next: string; more: string };
  /** The app-wide binding for a keypress, or null (prompt keys are resolved by resolvePrompt). */
  resolve: (input: string, key: Key, ctx: KeyContext) => Action | null;
  resolvePrompt: (input: string, key: Key) => Action | null;
  /** True when the prompt must not insert this keypress (the letter of a Ctrl+letter key, a bound "?"). */
  swallows: (input: string, key: Key, action: Action | null) => boolean;
}

/** A keymap from a validated `keys:` section (unknown entries were refused by the schema). */
export function buildKeymap(config: Record<string, string> = {}): Keymap {
  const specs = {} as Record<KeyAction, KeySpec>;
  const label = {} as Record<KeyAction, string>;
  for (const a of KEY_ACTIONS) {
    const parsed = parseKeySpec(config[a] ?? DEFAULT_KEYS[a]);
    specs[a] = typeof parsed === 'string' ? (parseKeySpec(DEFAULT_KEYS[a]) as KeySpec) : parsed;
    label[a] = keyLabel(specs[a]);
  }
  // A printable key ("?") acts only on an empty prompt; elsewhere it is typed text.
  const printable = (s: KeySpec) => !s.ctrl && !s.meta && s.name.length === 1;
  const when = (a: KeyAction, extra?: (c: KeyContext) => boolean) => (i: string, k: Key, c: KeyContext) =>
    matches(specs[a], i, k) && (!printable(specs[a]) || c.promptEmpty || c.helpOpen) && (!extra || extra(c));
  const bindings: Binding[] = [
    {
      action: 'close',
      keys: `${label.newest} / ${label.help}`,
      label: 'close this help',
      match: (i, k, c) => c.helpOpen && (matches(specs.newest, i, k) || matches(specs.help, i, k) || k.escape || i === 'q'),
    },
    { action: 'approve', keys: label.approve, label: LABELS.approve, match: when('approve') },
    { action: 'drop', keys: label.drop, label: LABELS.drop, match: when('drop') },
    { action: 'reply-session', keys: label.reply, label: LABELS.reply, match: when('reply') },
    { action: 'toggle-pause', keys: label.pause, label: LABELS.pause, match: when('pause') },
    { action: 'clear-prompt', keys: label.clear, label: LABELS.clear, match: when('clear') },
    { action: 'scroll-up', keys: label.scroll_up, label: LABELS.scroll_up, match: when('scroll_up') },
    { action: 'scroll-down', keys: label.scroll_down, label: LABELS.scroll_down, match: when('scroll_down') },
    { action: 'scroll-end', keys: label.newest, label: LABELS.newest, match: when('newest', (c) => !c.helpOpen) },
    {
      action: 'help',
      keys: label.help,
      label: `${LABELS.help}${printable(specs.help) ? ` (${label.help} on an empty prompt)` : ''}`,
      match: when('help', (c) => !c.helpOpen),
    },
    { action: 'quit', keys: label.quit, label: LABELS.quit, match: when('quit') },
    // After the configurable keys, so a `keys:` entry bound to the same key wins.
    {
      action: 'inbox-next',
      keys: INBOX_KEYS.next.label,
      label: 'select the next waiting item (the keys above act on it)',
      match: (i, k, c) => !c.helpOpen && matches(INBOX_KEYS.next.spec, i, k),
    },
    {
      action: 'inbox-more',
      keys: INBOX_KEYS.more.label,
      label: 'page the selected question to its end (PgUp/PgDn at small sizes)',
      match: (i, k, c) => !c.helpOpen && matches(INBOX_KEYS.more.spec, i, k),
    },
    {
      action: 'history-prev',
      keys: 'Up / Down',
      label: 'recall earlier / later inputs',
      match: (_i, k) => k.upArrow && !k.ctrl && !k.meta,
      prompt: true,
    },
    {
      action: 'history-next',
      keys: 'Down',
      label: 'recall the next input',
      match: (_i, k) => k.downArrow && !k.ctrl && !k.meta,
      prompt: true,
    },
    {
      action: 'complete',
      keys: 'Tab',
      label: 'complete a session id after @ (again: next match)',
      match: (_i, k) => k.tab && !k.shift,
      prompt: true,
    },
    { action: 'submit', keys: 'Enter', label: 'send the prompt line (grammar below)', match: (_i, k) => k.return, prompt: true },
  ];
  return {
    bindings,
    label,
    inbox: { next: INBOX_KEYS.next.label, more: INBOX_KEYS.more.label },
    resolve: (input, key, ctx) => {
      for (const b of bindings) if (!b.prompt && b.match(input, key, ctx)) return b.action;
      return null;
    },
    resolvePrompt: (input, key) => {
      for (const b of bindings)
        if (b.prompt && b.match(input, key, { promptEmpty: false, helpOpen: false, scrolled: false })) return b.action;
      return null;
    },
    swallows: (input, key, action) => (key.ctrl && /^[a-z]$/i.test(input)) || action !== null,
  };
}

export const DEFAULT_KEYMAP = buildKeymap();

/** The help overlay's key rows: every binding but the ones that share a row with another. */
export function helpRows(km: Keymap): Binding[] {
  return km.bindings.filter((b) => b.action !== 'close' && b.action !== 'history-next');
}

export interface HelpLine {
  kind: 'key' | 'head' | 'grammar';
  left: string;
  right: string;
}

/** Every line of the help, in order: the keys, then the prompt grammar (what the overlay scrolls). */
export function helpLines(km: Keymap): HelpLine[] {
  return [
    ...helpRows(km).map((b) => ({ kind: 'key' as const, left: b.keys, right: b.label })),
    { kind: 'head', left: 'Prompt line', right: '' },
    ...GRAMMAR.map(([g, what]) => ({ kind: 'grammar' as const, left: g, right: what })),
    { kind: 'head', left: 'Inbox (under the header while anything waits for you)', right: '' },
    ...inboxHelp(km).map(([g, what]) => ({ kind: 'grammar' as const, left: g, right: what })),
  ];
}

function inboxHelp(km: Keymap): Array<[string, string]> {
  const K = km.label;
  return [
    ['a row', 'one waiting item, oldest first: who, what (question, approval, paused, fault), how long, the start of its text'],
    ['▸ selected', `the oldest, until ${km.inbox.next} moves it; ${K.approve} ${K.drop} ${K.reply} and a typed answer act on it by name`],
    [`${km.inbox.more}`, `the rest of its text, a page at a time (${K.scroll_up}/${K.scroll_down} too when the conversation is hidden)`],
    ['a pause', `${K.approve} resumes it (/resume SESSION); @SESSION: text redirects it`],
  ];
}

export const GRAMMAR: Array<[string, string]> = [
  ['text + Enter', 'answer the selected question (else: talk to chat-Claude)'],
  ['@session-1: text', 'write text straight to that session (no API call)'],
  ['/approve  /drop [S]', "dispatch or discard session S's held reply"],
  ['/pause  /resume [S]', 'stop / restart taking envelopes; /resume S: one session'],
  ['/budget USD', "set today's budget"],
  ['/allow SESSION N', 'N more automatic turns for a session'],
  ['/quit', 'shut down gracefully'],
];
