import type { Key } from 'ink';

/**
 * Ink hands a run of plain bytes to useInput as one string: "\x15abc" when Ctrl+U and the
 * next letters arrive in one read (fast typing, tmux send-keys, a slow frame). Each
 * control byte in such a run is a key of its own; splitting here lets every one of them
 * reach the keymap in order, whatever the timing.
 */

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
} as Key;

export interface KeyEvent {
  input: string;
  key: Key;
  /** A paste (text and line breaks in one read): its line breaks are spaces, not Enter. */
  paste?: boolean;
}

function controlKey(ch: string): KeyEvent {
  const c = ch.charCodeAt(0);
  if (ch === '\r' || ch === '\n') return { input: '', key: { ...NO_KEY, return: true } };
  if (ch === '\t') return { input: '', key: { ...NO_KEY, tab: true } };
  if (ch === '\x7f') return { input: '', key: { ...NO_KEY, delete: true } };
  if (ch === '\b') return { input: '', key: { ...NO_KEY, backspace: true } };
  if (c >= 1 && c <= 26) return { input: String.fromCharCode(c + 96), key: { ...NO_KEY, ctrl: true } };
  return { input: '', key: { ...NO_KEY } };
}

const CONTROL = /[\x00-\x1f\x7f]/;

export function splitKeys(input: string, key: Key): KeyEvent[] {
  if (input.length <= 1 || !CONTROL.test(input) || input.includes('\x1b')) return [{ input, key }];
  const out: KeyEvent[] = [];
  // Text with line breaks inside it is a paste: one paste never becomes several commands;
  // a single break at its very end is the Enter that followed the text.
  const inner = input.replace(/(\r\n|\r|\n)$/, '');
  const paste = /[\r\n]/.test(inner) && /[^\x00-\x1f\x7f]/.test(inner);
  let text = '';
  const flush = () => {
    if (text) out.push({ input: text, key: { ...NO_KEY }, paste });
    text = '';
  };
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (!CONTROL.test(ch)) {
      text += ch;
      continue;
    }
    const atEnd = i === input.length - 1 || (ch === '\r' && input[i + 1] === '\n' && i + 1 === input.length - 1);
    if (paste && (ch === '\r' || ch === '\n') && !atEnd) {
      if (ch === '\r' && input[i + 1] === '\n') i++;
      text += ' ';
      continue;
    }
    if (ch === '\r' && input[i + 1] === '\n') i++;
    flush();
    out.push(controlKey(ch));
  }
  flush();
  return out;
}
