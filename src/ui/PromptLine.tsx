import { Box, Text } from 'ink';
import React from 'react';
import { promptRows } from './prompt-rows.js';
import type { PromptController } from './hooks/use-prompt.js';
import { truncate } from './wrap.js';

export interface PromptLineProps {
  prompt: PromptController;
  /** False while the help overlay is open. */
  focus?: boolean;
  placeholder?: string;
  width: number;
  /** Rows available (long input wraps); the rows around the cursor are shown. */
  rows?: number;
}

/**
 * The operator's prompt line: SPEC.md's grammar goes to relay.submit(text, 'tui').
 * The keys reach it through KeyBindings (one handler for the whole app, in order).
 */
export function PromptLine({ prompt, focus = true, placeholder, width, rows = 1 }: PromptLineProps) {
  const color = focus ? 'cyan' : 'gray';
  if (!prompt.value) {
    const ph = truncate(placeholder ?? 'answer chat-Claude, @session: text, or /command  (? help)', Math.max(1, width - 3));
    return (
      <Box height={1} overflowY="hidden">
        <Text wrap="truncate-end">
          <Text color={color} bold>
            {'› '}
          </Text>
          {focus ? <Text inverse>{ph[0]}</Text> : <Text dimColor>{ph[0]}</Text>}
          <Text dimColor>{ph.slice(1)}</Text>
        </Text>
      </Box>
    );
  }
  const all = promptRows(prompt.value, prompt.cursor, width);
  const cursorRow = Math.max(
    0,
    all.findIndex((r) => r.cursor !== undefined),
  );
  const first = Math.max(0, Math.min(cursorRow - rows + 1, all.length - rows));
  const shown = all.slice(first, first + rows);
  return (
    <Box flexDirection="column" height={shown.length} overflowY="hidden">
      {shown.map((r, i) => {
        const gutter = first + i === 0 ? '› ' : first > 0 && i === 0 ? '… ' : '  ';
        const c = r.cursor;
        const at = c === undefined ? '' : String.fromCodePoint(r.text.codePointAt(c) ?? 32) || ' ';
        return (
          <Text key={first + i} wrap="truncate-end">
            <Text color={color} bold>
              {gutter}
            </Text>
            {c === undefined || !focus ? (
              r.text
            ) : (
              <>
                {r.text.slice(0, c)}
                <Text inverse>{at}</Text>
                {r.text.slice(c + at.length)}
              </>
            )}
          </Text>
        );
      })}
    </Box>
  );
}
