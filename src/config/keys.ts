/**
 * The TUI's rebindable keys as config.yaml writes them (`approve: ctrl+y`): the actions,
 * their defaults, and the parser the schema validates with. Pure data, no Ink: the config
 * loader uses it in every process, the TUI builds its keymap from it.
 */

export const KEY_ACTIONS = ['approve', 'drop', 'reply', 'pause', 'clear', 'help', 'quit', 'scroll_up', 'scroll_down', 'newest'] as const;
export type KeyAction = (typeof KEY_ACTIONS)[number];

/** Ctrl+A and Ctrl+B are left alone: they are the tmux prefixes most people use. */
export const DEFAULT_KEYS: Record<KeyAction, string> = {
  approve: 'ctrl+y',
  drop: 'ctrl+x',
  reply: 'ctrl+t',
  pause: 'ctrl+p',
  clear: 'ctrl+u',
  help: '?',
  quit: 'ctrl+c',
  scroll_up: 'pageup',
  scroll_down: 'pagedown',
  newest: 'escape',
};

export interface KeySpec {
  ctrl: boolean;
  meta: boolean;
  shift: boolean;
  /** A named key (pageup, escape, ...) or one printable character. */
  name: string;
}

const NAMED: Record<string, string> = {
  pageup: 'pageup',
  pgup: 'pageup',
  pagedown: 'pagedown',
  pgdn: 'pagedown',
  home: 'home',
  end: 'end',
  escape: 'escape',
  esc: 'escape',
  tab: 'tab',
  up: 'up',
  down: 'down',
  left: 'left',
  right: 'right',
};

const LABEL: Record<string, string> = {
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
  escape: 'Esc',
  tab: 'Tab',
  up: 'Up',
  down: 'Down',
  left: 'Left',
  right: 'Right',
};

/** Ctrl+letters a terminal sends as the same byte as a key the prompt line needs. */
const CTRL_TAKEN: Record<string, string> = {
  h: 'Backspace',
  i: 'Tab',
  j: 'Enter',
  m: 'Enter',
};

/** Keys the prompt line needs for itself. */
const RESERVED = new Set(['up', 'down', 'left', 'right', 'tab', 'home', 'end']);

/** `ctrl+y`, `Ctrl+Y`, `alt+p`, `pageup`, `esc`, `?` → a KeySpec; a string says what is wrong. */
export function parseKeySpec(raw: string): KeySpec | string {
  const text = raw.trim();
  if (!text) return 'empty key';
  // "+" itself and "ctrl++" name the plus key.
  const parts = text === '+' ? ['+'] : text.endsWith('++') ? [...text.slice(0, -2).split('+'), '+'] : text.split('+');
  const last = parts.pop()!;
  const spec: KeySpec = { ctrl: false, meta: false, shift: false, name: '' };
  for (const m of parts) {
    const mod = m.trim().toLowerCase();
    if (mod === 'ctrl' || mod === 'control' || mod === 'c') spec.ctrl = true;
    else if (mod === 'alt' || mod === 'meta' || mod === 'option' || mod === 'm') spec.meta = true;
    else if (mod === 'shift' || mod === 's') spec.shift = true;
    else return `unknown modifier "${m}" (use ctrl, alt or shift)`;
  }
  const lower = last.trim().toLowerCase();
  if (NAMED[lower]) spec.name = NAMED[lower];
  else if ([...last].length === 1 && last >= ' ' && last !== '\x7f') spec.name = spec.ctrl || spec.meta ? last.toLowerCase() : last;
  else return `cannot read "${raw}" as a key (e.g. ctrl+y, alt+p, pageup, esc, ?)`;
  if (spec.name === 'tab' && !spec.shift) return 'Tab completes session ids at the prompt';
  if (RESERVED.has(spec.name) && !spec.ctrl && !spec.meta && !spec.shift) return `${LABEL[spec.name]} is the prompt line's own key`;
  if (spec.ctrl) {
    if (spec.name.length !== 1 || !/[a-z]/.test(spec.name))
      return 'ctrl+ works with a letter only (a terminal sends nothing else reliably)';
    if (CTRL_TAKEN[spec.name]) return `a terminal sends ctrl+${spec.name} as ${CTRL_TAKEN[spec.name]}`;
  }
  if (spec.name === ' ' && !spec.ctrl && !spec.meta) return 'space is typed text';
  if (spec.shift && spec.name.length === 1) return 'shift+ goes with a named key (pageup, tab, ...); write the character itself instead';
  return spec;
}

/** As the help and the banner show it: Ctrl+Y, Alt+P, PgUp, Esc, ?. */
export function keyLabel(s: KeySpec): string {
  const base = LABEL[s.name] ?? (s.ctrl || s.meta ? s.name.toUpperCase() : s.name);
  return `${s.ctrl ? 'Ctrl+' : ''}${s.meta ? 'Alt+' : ''}${s.shift ? 'Shift+' : ''}${base}`;
}

/** A stable form for finding two actions on one key. */
export function keyId(s: KeySpec): string {
  return `${s.ctrl ? 'c-' : ''}${s.meta ? 'm-' : ''}${s.shift ? 's-' : ''}${s.name}`;
}

/** Problems of a whole keys: section (path = the action), for the schema. */
export function checkKeys(rec: Record<string, unknown>): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const merged: Record<string, string> = { ...DEFAULT_KEYS };
  for (const [action, value] of Object.entries(rec)) {
    if (!(KEY_ACTIONS as readonly string[]).includes(action)) {
      out.push({ path: action, message: `unknown action (the actions are ${KEY_ACTIONS.join(', ')})` });
      continue;
    }
    if (typeof value !== 'string') {
      out.push({ path: action, message: `expected a key such as ctrl+y (got ${JSON.stringify(value)})` });
      continue;
    }
    const spec = parseKeySpec(value);
    if (typeof spec === 'string') out.push({ path: action, message: `${spec} (got ${JSON.stringify(value)})` });
    else merged[action] = value;
  }
  if (out.length) return out;
  const seen = new Map<string, string>();
  for (const action of KEY_ACTIONS) {
    const spec = parseKeySpec(merged[action]) as KeySpec;
    const id = keyId(spec);
    const other = seen.get(id);
    if (other) {
      const path = action in rec ? action : other;
      out.push({ path, message: `${keyLabel(spec)} is bound to both ${other} and ${action}` });
    } else seen.set(id, action);
  }
  return out;
}

/** Known tmux prefixes among the bound keys: ctrl+a and ctrl+b, plus the running tmux's own when known. */
export function tmuxPrefixClashes(keys: Record<string, string>, tmuxPrefix?: string | null): Array<{ action: string; label: string }> {
  const prefixes = new Set(['c-a', 'c-b']);
  if (tmuxPrefix) {
    const m = /^C-([a-z])$/i.exec(tmuxPrefix.trim());
    if (m) prefixes.add(`c-${m[1].toLowerCase()}`);
  }
  const out: Array<{ action: string; label: string }> = [];
  for (const [action, value] of Object.entries(keys)) {
    const spec = parseKeySpec(value);
    if (typeof spec !== 'string' && prefixes.has(keyId(spec))) out.push({ action, label: keyLabel(spec) });
  }
  return out;
}
