import { useInput, type Key } from 'ink';
import { useCallback, type MutableRefObject } from 'react';
import { splitKeys } from './key-events.js';
import type { Action, KeyContext, Keymap } from './keymap.js';

export interface KeyHandlers {
  keymap: Keymap;
  context: () => KeyContext;
  run: (action: Action) => void;
  /** The prompt line's editing keys; false when the key is not the prompt's. */
  edit: (input: string, key: Key, paste?: boolean) => boolean;
  /** Every keystroke: the engine's presence clock. */
  presence: () => void;
}

/**
 * The one keyboard handler of the app: every keypress, in the order typed, first
 * against the keymap, then to the prompt line. One handler, so a binding's letter never
 * reaches the prompt and no key waits for a re-render to be understood.
 */
export function KeyBindings({ handlers, onHelpArrow }: { handlers: MutableRefObject<KeyHandlers>; onHelpArrow?: (dir: -1 | 1) => void }) {
  const onInput = useCallback(
    (input: string, key: Key) => {
      const h = handlers.current;
      try {
        h.presence();
      } catch {
        /* presence is best effort */
      }
      for (const e of splitKeys(input, key)) {
        const ctx = h.context();
        const action = h.keymap.resolve(e.input, e.key, ctx);
        if (action) h.run(action);
        else if (!ctx.helpOpen) h.edit(e.input, e.key, e.paste);
        else if (e.key.upArrow || e.key.downArrow) onHelpArrow?.(e.key.upArrow ? -1 : 1);
      }
    },
    [handlers, onHelpArrow],
  );
  useInput(onInput);
  return null;
}
