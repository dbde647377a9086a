import { useInput, type Key } from 'ink';
import { useCallback, type MutableRefObject } from 'react';
import { resolveKey, swallows, type Action, type KeyContext } from './keymap.js';

export interface KeyHandlers {
  context: () => KeyContext;
  run: (action: Action) => void;
  /** Every keystroke: the engine's presence clock. */
  presence: () => void;
}

/**
 * The app-wide keys. Render it FIRST in the tree: its stable handler then subscribes
 * before the text input's and runs first on every keypress, so it can tell the prompt
 * to ignore the letter of a Ctrl+letter binding (see keymap.ts: swallows).
 */
export function KeyBindings({ handlers, swallow }: { handlers: MutableRefObject<KeyHandlers>; swallow: MutableRefObject<boolean> }) {
  const onInput = useCallback(
    (input: string, key: Key) => {
      const h = handlers.current;
      try {
        h.presence();
      } catch {
        /* presence is best effort */
      }
      const action = resolveKey(input, key, h.context());
      swallow.current = swallows(input, key, action);
      if (action) h.run(action);
    },
    [handlers, swallow],
  );
  useInput(onInput);
  return null;
}
