import { Box, Text } from 'ink';
import React from 'react';
import { width as textWidth, truncate } from '../wrap.js';

/** One row: "── Title · detail ─────". Costs a single row, where a border would cost two. */
export function PaneTitle({ title, detail, width, color }: { title: string; detail?: string; width: number; color?: string }) {
  const head = `── ${title} `;
  const det = detail ? truncate(`${detail} `, Math.max(0, width - textWidth(head))) : '';
  const rule = '─'.repeat(Math.max(0, width - textWidth(head) - textWidth(det)));
  return (
    <Box height={1} overflowY="hidden">
      <Text wrap="truncate-end">
        <Text dimColor>── </Text>
        <Text bold color={color}>
          {title}
        </Text>
        <Text> </Text>
        {det ? <Text>{det}</Text> : null}
        <Text dimColor>{rule}</Text>
      </Text>
    </Box>
  );
}
