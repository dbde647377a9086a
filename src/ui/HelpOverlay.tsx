import { Box, Text } from 'ink';
import React from 'react';
import { GRAMMAR, HELP_ROWS } from './keymap.js';
import { PaneTitle } from './panes/PaneTitle.js';
import { pad } from './wrap.js';

/** Every key (from keymap.ts, so it cannot drift) and the prompt grammar. Esc or ? closes it. */
export function HelpOverlay({ width, height }: { width: number; height: number }) {
  if (height <= 0) return null;
  const keyW = Math.max(...HELP_ROWS.map((b) => b.keys.length)) + 2;
  const gramW = Math.min(22, Math.max(...GRAMMAR.map(([g]) => g.length)) + 2);
  const rows = [
    ...HELP_ROWS.map((b) => (
      <Text key={b.action} wrap="truncate-end">
        <Text bold color="cyan">{`  ${pad(b.keys, keyW)}`}</Text>
        {b.label}
      </Text>
    )),
    <Text key="g" bold wrap="truncate-end">
      {'  Prompt line'}
    </Text>,
    ...GRAMMAR.map(([g, what]) => (
      <Text key={g} wrap="truncate-end">
        <Text color="green">{`  ${pad(g, gramW)}`}</Text>
        {what}
      </Text>
    )),
  ];
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <PaneTitle title="Help" detail="Esc or ? closes" width={width} color="cyan" />
      {rows.slice(0, height - 1)}
    </Box>
  );
}
