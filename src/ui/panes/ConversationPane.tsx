import { Box, Text } from 'ink';
import React from 'react';
import type { RelaySnapshot } from '../../engine/snapshot.js';
import { count, tokens } from '../format.js';
import type { Scrollback } from '../use-scrollback.js';
import { streamLines, windowLines, type ConvLine } from './conversation-lines.js';
import { PaneTitle } from './PaneTitle.js';

const ROLE_COLOR: Record<NonNullable<ConvLine['role']>, string> = {
  session: 'cyan',
  operator: 'green',
  chat: 'magenta',
  stream: 'magenta',
};

/** The last turns, newest at the bottom, wrapped to the pane; PgUp/PgDn scroll the whole history. */
export function ConversationPane({ snap, scroll, width, height }: { snap: RelaySnapshot; scroll: Scrollback; width: number; height: number }) {
  if (height <= 0) return null;
  const rows = height - 1;
  const s = snap.status;
  const streaming = scroll.offset === 0 && s.inflight && s.inflight.kind === 'turn' ? streamLines(snap.streaming, s.inflight.session, s.inflight.chars, width, Math.max(1, Math.floor(rows / 2))) : [];
  const win = windowLines(scroll.entries, streaming, width, rows, scroll.offset);
  scroll.clamp(win.offset, win.atTop);
  const detail =
    win.offset > 0
      ? `↑ ${count(win.offset)} rows back${win.atTop ? ' (top)' : ''}${scroll.newer ? ` · ${scroll.newer} new below` : ''} · PgDn / Esc to return`
      : `${count(s.history_turns)} turns in context · ${tokens(s.history_tokens)} tok${s.summaries ? ' · summarized' : ''} · PgUp scrolls back`;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <PaneTitle title="Conversation" detail={detail} width={width} color={win.offset > 0 ? 'yellow' : undefined} />
      {win.lines.length === 0 ? (
        <Text dimColor wrap="truncate-end">
          No turns yet: envelopes in queue/ start one; or type to talk to chat-Claude.
        </Text>
      ) : null}
      {win.lines.map((l) => (
        <Text key={l.key} wrap="truncate-end">
          {l.prefix ? (
            <Text color={l.role ? ROLE_COLOR[l.role] : undefined} bold={l.role !== 'stream'}>
              {l.prefix}
            </Text>
          ) : null}
          {l.text}
        </Text>
      ))}
    </Box>
  );
}
