import { Box } from 'ink';
import React from 'react';
import type { RelaySnapshot } from '../engine/api.js';
import type { Layout } from './layout.js';
import { ConversationPane } from './panes/ConversationPane.js';
import { CostPane } from './panes/CostPane.js';
import { QueuePane } from './panes/QueuePane.js';
import { SessionsPane } from './panes/SessionsPane.js';
import type { ConversationNotes } from './hooks/use-conversation-notes.js';
import type { Scrollback } from './hooks/use-scrollback.js';

/**
 * The panes between the header and the prompt, each in the rows the layout gave it.
 * Wide: queue, cost and sessions on the left, the conversation on the right.
 * Narrow: queue and cost side by side, then sessions, then the conversation.
 */
export function Panes({
  snap,
  scroll,
  lay,
  now,
  notes,
  keys,
}: {
  snap: RelaySnapshot;
  scroll: Scrollback;
  lay: Layout;
  now: number;
  notes?: ConversationNotes;
  keys?: { up: string; down: string; end: string };
}) {
  const s = snap.status;
  if (lay.wide) {
    return (
      <Box flexDirection="row" height={lay.body}>
        <Box flexDirection="column" width={lay.leftWidth} height={lay.body} overflowY="hidden">
          <QueuePane status={s} now={now} width={lay.leftWidth} height={lay.queue} />
          <CostPane status={s} width={lay.leftWidth} height={lay.cost} />
          <SessionsPane status={s} now={now} width={lay.leftWidth} height={lay.sessions} />
        </Box>
        <Box width={1} />
        <ConversationPane snap={snap} scroll={scroll} width={lay.rightWidth} height={lay.conversation} notes={notes} keys={keys} />
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={lay.body} overflowY="hidden">
      {lay.queue > 0 ? (
        <Box flexDirection="row" height={lay.queue}>
          <QueuePane status={s} now={now} width={lay.leftWidth} height={lay.queue} />
          <Box width={1} />
          <CostPane status={s} width={lay.rightWidth} height={lay.cost} />
        </Box>
      ) : null}
      <SessionsPane status={s} now={now} width={lay.width} height={lay.sessions} />
      <ConversationPane snap={snap} scroll={scroll} width={lay.width} height={lay.conversation} notes={notes} keys={keys} />
    </Box>
  );
}

/** Rows the queue and cost strip takes above the help: each pane's title and first line. */
export const STATS_STRIP_ROWS = 2;

/**
 * The queue and the spend while the help covers the panes: the README promises both on
 * screen at every size, whatever is open.
 */
export function StatsStrip({ status, now, lay }: { status: RelaySnapshot['status']; now: number; lay: Layout }) {
  const h = Math.min(STATS_STRIP_ROWS, lay.body + lay.banner);
  if (h <= 0) return null;
  return (
    <Box flexDirection="row" height={h}>
      <QueuePane status={status} now={now} width={lay.leftWidth} height={h} />
      <Box width={1} />
      <CostPane status={status} width={lay.width - lay.leftWidth - 1} height={h} />
    </Box>
  );
}
