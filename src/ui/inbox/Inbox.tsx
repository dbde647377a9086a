import { Box, Text } from 'ink';
import React from 'react';
import type { WaitingItem } from '../../protocol/status.js';
import { INBOX_INDENT, itemColor, itemRow, type InboxPlan } from './inbox-items.js';

/**
 * The operator's inbox, where the pause banner was: every waiting item on a row
 * (oldest first; ▸ marks the selected one when several wait), the selected item's
 * question or message from the plan's offset, and the keys that act on it.
 */
export function Inbox({
  items,
  plan,
  width,
  height,
  now,
}: {
  items: readonly WaitingItem[];
  plan: InboxPlan;
  width: number;
  height: number;
  now: number;
}) {
  if (height <= 0) return null;
  const color = itemColor(plan.item);
  const several = items.length > 1;
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      {plan.listed.map((at) => {
        const it = items[at];
        const selected = at === plan.sel;
        const mark = several ? (selected ? '▸ ' : '  ') : '';
        return (
          <Text key={`i${at}`} wrap="truncate-end" bold={selected} inverse={selected} color={itemColor(it)}>
            {`${mark}${itemRow(it, now, Math.max(8, width - mark.length - 1))} `}
          </Text>
        );
      })}
      {plan.body.map((line, i) => (
        <Text key={`b${plan.offset + i}`} wrap="truncate-end">
          <Text color={color}>{INBOX_INDENT}</Text>
          {line}
        </Text>
      ))}
      {plan.keys.map((line, i) => (
        <Text key={`k${i}`} wrap="truncate-end">
          <Text color={color}>{INBOX_INDENT}</Text>
          <Text bold>{line}</Text>
        </Text>
      ))}
    </Box>
  );
}
