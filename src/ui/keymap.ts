import type { Key } from 'ink';

/**
 * Every key binding of the TUI, in one place: what the keys do, when they apply, and
 * the text the help overlay and the banner show. Ctrl+letter keys were chosen because
 * they reach the program unchanged through tmux (default prefix Ctrl+B) and the text
 * input does not use them; no binding needs Esc or Alt (tmux delays and mangles those).
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
  /** True for bindings of the prompt line (handled by PromptLine, not the app). */
  prompt?: boolean;
  /** Shown in the help on another binding's row. */
  helpRow?: false;
}

const ctrl = (letter: string) => (input: string, key: Key) => key.ctrl && input === letter;

export const KEYS = {
  approve: 'Ctrl+A',
  drop: 'Ctrl+X',
  reply: 'Ctrl+T',
  pause: 'Ctrl+P',
  help: '?',
  quit: 'Ctrl+C',
} as const;

export const BINDINGS: Binding[] = [
  { action: 'approve', keys: KEYS.approve, label: 'approve the held reply: dispatch it as it is (= /approve)', match: ctrl('a') },
  { action: 'drop', keys: KEYS.drop, label: 'drop the held reply and resume (= /drop)', match: ctrl('x') },
  { action: 'reply-session', keys: KEYS.reply, label: 'answer the asking session directly: fills "@session: "', match: ctrl('t') },
  { action: 'toggle-pause', keys: KEYS.pause, label: 'pause / resume taking envelopes (= /pause, /resume)', match: ctrl('p') },
  { action: 'clear-prompt', keys: 'Ctrl+U', label: 'clear the prompt line', match: ctrl('u') },
  { action: 'scroll-up', keys: 'PgUp / PgDn / Esc', label: 'scroll the conversation back / forward / to the newest', match: (_i, k) => k.pageUp },
  { action: 'scroll-down', keys: 'PgDn', label: 'scroll the conversation forward', match: (_i, k) => k.pageDown, helpRow: false },
  { action: 'scroll-end', keys: 'Esc', label: 'back to the newest turn (when scrolled back)', match: (_i, k, c) => k.escape && !c.helpOpen && c.scrolled, helpRow: false },
  { action: 'close', keys: 'Esc / ?', label: 'close this help', match: (i, k, c) => c.helpOpen && (k.escape || i === '?' || i === 'q'), helpRow: false },
  { action: 'help', keys: '? / Esc', label: 'open / close this help (? on an empty prompt)', match: (i, k, c) => i === '?' && !k.ctrl && !k.meta && c.promptEmpty },
  { action: 'quit', keys: KEYS.quit, label: 'quit gracefully (= /quit)', match: ctrl('c') },
  { action: 'history-prev', keys: 'Up / Down', label: 'recall earlier inputs', match: (_i, k) => k.upArrow, prompt: true },
  { action: 'history-next', keys: 'Down', label: 'recall the next input', match: (_i, k) => k.downArrow, prompt: true, helpRow: false },
  { action: 'complete', keys: 'Tab', label: 'complete a session id after @ (again: next match)', match: (_i, k) => k.tab && !k.shift, prompt: true },
  { action: 'submit', keys: 'Enter', label: 'send the prompt line (grammar below)', match: () => false, prompt: true, helpRow: false },
];

/** The help overlay's rows: one per binding, some bindings sharing a row. */
export const HELP_ROWS = BINDINGS.filter((b) => b.helpRow !== false);

/** The app-wide binding for a keypress, or null. Prompt-line bindings are resolved by resolvePromptKey. */
export function resolveKey(input: string, key: Key, ctx: KeyContext): Action | null {
  for (const b of BINDINGS) if (!b.prompt && b.match(input, key, ctx)) return b.action;
  return null;
}

export function resolvePromptKey(input: string, key: Key, ctx: KeyContext): Action | null {
  for (const b of BINDINGS) if (b.prompt && b.match(input, key, ctx)) return b.action;
  return null;
}

/**
 * ink-text-input inserts the letter of any Ctrl+letter key (Ctrl+A types "a"), so the
 * app swallows those; and the "?" that opened the help.
 */
export function swallows(input: string, key: Key, action: Action | null): boolean {
  if (key.ctrl && /^[a-z]$/.test(input)) return true;
  return action === 'help' || action === 'close';
}

export const GRAMMAR: Array<[string, string]> = [
  ['text + Enter', 'answer chat-Claude; its reply goes to the asking session'],
  ['@session-1: text', 'write text straight to that session (no API call)'],
  ['/approve  /drop', 'dispatch or discard the held reply'],
  ['/pause  /resume', 'stop / restart taking envelopes; /resume ends any pause'],
  ['/budget USD', "set today's budget"],
  ['/allow SESSION N', 'N more automatic turns for a session'],
  ['/quit', 'shut down gracefully'],
];
