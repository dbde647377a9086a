import { Box, Text } from 'ink';
import React from 'react';
import type { Status } from '../../protocol/status.js';
import { age, money, reasonLabel, since } from '../format.js';
import { pad, truncate } from '../wrap.js';
import { PaneTitle } from './PaneTitle.js';
import { columnsFor, pickSessions, type Column, type SessionRow } from './session-rows.js';

const STALE_ACK_MS = 10 * 60_000;

function cell(r: SessionRow, c: Column, now: number): { text: string; color?: string; dim?: boolean } {
  const s = r.s;
  switch (c.key) {
    case 'queued':
      return { text: String(s.queued), color: s.queued > 0 ? 'yellow' : undefined, dim: s.queued === 0 };
    case 'replies':
      return { text: String(s.pending), color: s.pending > 0 ? 'yellow' : undefined, dim: s.pending === 0 };
    case 'input':
      return s.awaiting_ack
        ? { text: `unread ${age(s.awaiting_ack_since, now)}`, color: since(s.awaiting_ack_since, now) > STALE_ACK_MS ? 'yellow' : 'cyan' }
        : { text: '—', dim: true };
    case 'turns':
      return { text: String(s.turns) };
    case 'cost':
      // * : includes calls a crash cut short, counted at projected cost (the Cost pane says how much).
      return s.cut_short_usd ? { text: `${money(s.cost_usd)}*`, color: 'yellow' } : { text: money(s.cost_usd) };
    case 'active':
      return { text: age(s.last_activity_at, now), dim: !s.last_activity_at };
  }
}

function flag(r: SessionRow): { text: string; color?: string } {
  // A session on another machine says where it is (the envelope's host), after what needs attention.
  const where = r.s.host ? `@${r.s.host}` : '';
  const also = (t: string) => (where ? `${t} ${where}` : t);
  if (r.held) return { text: also('◀ asks you'), color: 'red' };
  if (r.s.paused_reason) return { text: also(`⏸ ${reasonLabel(r.s.paused_reason)}`), color: 'yellow' };
  if (!r.s.registered) return { text: also('unregistered'), color: 'gray' };
  return { text: where, color: 'cyan' };
}

/** One row per session, windowed to its rows: "+N more" says what did not fit. */
export function SessionsPane({ status, now, width, height }: { status: Status; now: number; width: number; height: number }) {
  if (height <= 0) return null;
  const ids = Object.keys(status.sessions);
  const heads = height >= 5 || (height >= 3 && height >= ids.length + 2);
  const capacity = Math.max(0, height - 1 - (heads ? 1 : 0));
  const { rows, hidden } = pickSessions(status, capacity);
  const longest = ids.reduce((n, id) => Math.max(n, id.length), 7);
  const { columns, idWidth, flagWidth } = columnsFor(width, longest);
  const unread = ids.filter((id) => status.sessions[id].awaiting_ack).length;
  const paused = ids.filter((id) => status.sessions[id].paused_reason).length;
  const moreInTitle = hidden.length > 0 && rows.length === capacity;
  const detail = [
    `(${ids.length})`,
    unread ? `${unread} unread` : '',
    paused ? `${paused} paused` : '',
    moreInTitle ? `+${hidden.length} more` : '',
    // No row for the column heads: the title names the columns, so no number is unlabeled.
    heads ? '' : columns.map((c) => c.head).join(' '),
  ]
    .filter(Boolean)
    .join(' · ');
  const moreNote = [
    hidden.filter((r) => r.s.awaiting_ack).length ? `${hidden.filter((r) => r.s.awaiting_ack).length} unread` : '',
    hidden.filter((r) => r.s.queued > 0).length ? `${hidden.filter((r) => r.s.queued > 0).length} with queued` : '',
  ].filter(Boolean);
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <PaneTitle title="Sessions" detail={detail} width={width} />
      {heads ? (
        <Text dimColor wrap="truncate-end">
          {pad('session', idWidth)}
          {columns.map((c) => ` ${pad(c.head, c.width, 'right')}`).join('')}
        </Text>
      ) : null}
      {rows.map((r) => {
        const f = flag(r);
        return (
          <Text key={r.id} wrap="truncate-end">
            <Text bold={r.held} color={r.held ? 'red' : r.s.registered ? undefined : 'gray'}>
              {pad(r.id, idWidth)}
            </Text>
            {columns.map((c) => {
              const v = cell(r, c, now);
              return (
                <Text key={c.key} color={v.color} dimColor={v.dim}>
                  {` ${pad(v.text, c.width, 'right')}`}
                </Text>
              );
            })}
            {f.text && flagWidth > 0 ? <Text color={f.color}>{` ${truncate(f.text, flagWidth)}`}</Text> : null}
          </Text>
        );
      })}
      {hidden.length && !moreInTitle ? (
        <Text dimColor wrap="truncate-end">
          {`+${hidden.length} more${moreNote.length ? ` (${moreNote.join(', ')})` : ''} · relay-tui status lists all`}
        </Text>
      ) : null}
    </Box>
  );
}
