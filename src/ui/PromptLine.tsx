import { Box, Text, useInput } from 'ink';
import TextInput from 'ink-text-input';
import React from 'react';
import { resolvePromptKey } from './keymap.js';
import type { PromptController } from './use-prompt.js';

export interface PromptLineProps {
  prompt: PromptController;
  /** False while the help overlay is open. */
  focus?: boolean;
  placeholder?: string;
  /** Rows available (long input wraps). */
  rows?: number;
}

/**
 * The operator's prompt line: SPEC.md's grammar goes to relay.submit(text, 'tui').
 * Up/Down recall, Tab completes a session id after "@", Enter submits.
 */
export function PromptLine({ prompt, focus = true, placeholder, rows = 1 }: PromptLineProps) {
  useInput(
    (input, key) => {
      const action = resolvePromptKey(input, key, { promptEmpty: prompt.value === '', helpOpen: !focus, scrolled: false });
      if (action === 'history-prev') prompt.recall(-1);
      else if (action === 'history-next') prompt.recall(1);
      else if (action === 'complete') prompt.complete();
    },
    { isActive: focus },
  );
  return (
    <Box height={rows} overflow="hidden">
      <Text color={focus ? 'cyan' : 'gray'} bold>
        {'› '}
      </Text>
      <TextInput
        key={prompt.epoch}
        value={prompt.value}
        onChange={prompt.change}
        onSubmit={prompt.submitCurrent}
        focus={focus}
        placeholder={placeholder ?? 'answer chat-Claude, @session: text, or /command  (? help)'}
      />
    </Box>
  );
}
