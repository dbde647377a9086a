import { Text } from 'ink';
import React from 'react';
import { oneLine } from './wrap.js';

/** One start-up warning under the header (a config typo, a key tmux will take), until dismissed. */
export function Notice({ text, index, total, dismiss }: { text: string; index: number; total: number; dismiss: string }) {
  const tail = ` (${total > 1 ? `${index + 1}/${total} · ` : ''}${dismiss} ${total > index + 1 ? 'next' : 'dismisses'})`;
  return (
    <Text wrap="truncate-end" color="yellow">
      <Text bold>{'⚠ '}</Text>
      {oneLine(text)}
      <Text dimColor>{tail}</Text>
    </Text>
  );
}

/** The one-line hints for bound keys a tmux prefix would take before relay-tui sees them. */
export function prefixHints(clashes: Array<{ action: string; label: string }>, tmuxPrefix: string | null | undefined): string[] {
  return clashes.map(({ action, label }) => {
    const mine = tmuxPrefix && label.toLowerCase() === tmuxPrefix.replace(/^C-/i, 'ctrl+').toLowerCase();
    return `${label} (keys.${action}) is ${mine ? 'your tmux prefix' : 'a common tmux prefix'}: tmux may keep it from relay-tui; bind another key in config.yaml keys:`;
  });
}
