import { Box, Text } from 'ink';
import React, { useMemo } from 'react';
import type { RelaySnapshot } from '../../engine/api.js';
import { count, tokens } from '../format.js';
import type { ConversationNotes } from '../hooks/use-conversation-notes.js';
import type { Scrollback } from '../hooks/use-scrollback.js';
import { mergeItems, streamLines, windowLines, type ConvLine } from './conversation-lines.js';
import { PaneTitle } from './PaneTitle.js';

const ROLE_COLOR: Record<NonNullable<ConvLine['role']>, string> = {
  session: 'cyan',
  operator: 'green',
  chat: 'magenta',
  stream: 'magenta',
};

const NO_NOTES: ConversationNotes = { dispatches: [], outcomes: new Map() };

/** The last turns and dispatches, newest at the bottom, wrapped to the pane; PgUp/PgDn scroll the whole history. */
function ConversationPaneRows({
  snap,
  scroll,
  width,
  height,
  notes = NO_NOTES,
  keys,
}: {
  snap: RelaySnapshot;
  scroll: Scrollback;
  width: number;
  height: number;
  notes?: ConversationNotes;
  keys?: { up: string; down: string; end: string };
}) {
  const s = snap.status;
  // A string key, so the memo holds while the same replies stay held.
  const heldKey = heldTurns(s).join(',');
  // notes.outcomes is never changed in place: notesView builds a new map whenever a note
  // arrives (the snapshot's or a page's), so its identity is the change signal.
  const items = useMemo(
    () => mergeItems(scroll.entries, notes.dispatches, notes.outcomes, new Set(heldKey ? heldKey.split(',').map(Number) : [])),
    [scroll.entries, notes.dispatches, notes.outcomes, heldKey],
  );
  if (height <= 0) return null;
  const rows = height - 1;
  const f = s.inflight;
  // The reply streams under the session it will be delivered to, as it lands.
  const route = f ? (f.route ?? f.session) : '';
  const streaming =
    scroll.offset === 0 && f && f.kind === 'turn'
      ? streamLines(snap.streaming, route, f.chars, width, Math.max(1, Math.floor(rows / 2)))
      : [];
  const win = windowLines(items, streaming, width, rows, scroll.offset);
  scroll.clamp(win.offset, win.atTop);
  const k = keys ?? { up: 'PgUp', down: 'PgDn', end: 'Esc' };
  const detail =
    win.offset > 0
      ? `↑ ${count(win.offset)} rows back${win.atTop ? (scroll.full ? ' (top)' : ' (top of what is loaded)') : ''}${scroll.newer ? ` · ${scroll.newer} new below` : ''} · ${k.down} / ${k.end} to return`
      : `${count(s.history_turns)} turns in context · ${tokens(s.history_tokens)} tok${s.summaries ? ' · summarized' : ''} · ${k.up} scrolls back`;
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <PaneTitle title="Conversation" detail={detail} width={width} color={win.offset > 0 ? 'yellow' : undefined} />
      {win.lines.length === 0 && rows > 0 ? (
        <Text dimColor wrap="truncate-end">
          No turns yet: envelopes in queue/ start one; or type to talk to chat-Claude.
        </Text>
      ) : null}
      {win.lines.map((l) => (
        <Text key={l.key} wrap="truncate-end">
          {l.parts.map((p, i) =>
            p.tag === 'prefix' ? (
              <Text key={i} color={l.role ? ROLE_COLOR[l.role] : undefined} bold={l.role !== 'stream'}>
                {p.text}
              </Text>
            ) : p.tag === 'mark' ? (
              <Text key={i} color={l.markColor} bold>
                {p.text}
              </Text>
            ) : (
              p.text
            ),
          )}
        </Text>
      ))}
    </Box>
  );
}

/** The turns whose replies wait for the operator: every held item of status.waiting. */
function heldTurns(s: RelaySnapshot['status']): number[] {
  return (s.waiting ?? []).filter((i) => (i.kind === 'question' || i.kind === 'approval') && i.turn !== null).map((i) => i.turn!);
}

type ConversationProps = Parameters<typeof ConversationPaneRows>[0];

/**
 * Nothing in the pane depends on the clock: a tick of it (a few a minute when idle, one a
 * second while ages count seconds) skips the pane's rows instead of re-rendering them.
 */
function sameConversation(a: ConversationProps, b: ConversationProps): boolean {
  const ka = a.keys;
  const kb = b.keys;
  return (
    a.snap === b.snap &&
    a.width === b.width &&
    a.height === b.height &&
    a.notes === b.notes &&
    a.scroll.offset === b.scroll.offset &&
    a.scroll.entries === b.scroll.entries &&
    a.scroll.newer === b.scroll.newer &&
    a.scroll.full === b.scroll.full &&
    a.scroll.clamp === b.scroll.clamp &&
    (ka === kb || (!!ka && !!kb && ka.up === kb.up && ka.down === kb.down && ka.end === kb.end))
  );
}

export const ConversationPane = React.memo(ConversationPaneRows, sameConversation);
