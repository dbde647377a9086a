import type { SessionStatus, Status } from '../../protocol/status.js';

export interface SessionRow {
  id: string;
  s: SessionStatus;
  held: boolean;
}

/** How much a row deserves one of few lines: the operator's attention first, then recency. */
function weight(r: SessionRow): number {
  const s = r.s;
  return (
    (r.held ? 1000 : 0) + (s.paused_reason ? 500 : 0) + (s.awaiting_ack ? 100 : 0) + (s.pending > 0 ? 50 : 0) + (s.queued > 0 ? 20 : 0)
  );
}

/**
 * The rows that fit in `capacity` lines, in their natural order (config first), and how
 * many were left out. When rows must be left out, the ones needing attention stay.
 */
export function pickSessions(status: Status, capacity: number): { rows: SessionRow[]; hidden: SessionRow[] } {
  // Several sessions can ask at once (issue 23): each one's own state says so; held is the oldest.
  const all = Object.entries(status.sessions).map(([id, s]) => ({
    id,
    s,
    held: status.held?.session === id || s.state === 'asking' || s.state === 'awaiting_approval',
  }));
  if (all.length <= capacity) return { rows: all, hidden: [] };
  // One line for "+N more", unless that would leave no room for a row (the pane's title says it then).
  const keep = capacity <= 2 ? capacity : capacity - 1;
  const ranked = all
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        weight(b.r) - weight(a.r) ||
        (Date.parse(b.r.s.last_activity_at ?? '') || 0) - (Date.parse(a.r.s.last_activity_at ?? '') || 0) ||
        a.i - b.i,
    );
  const chosen = new Set(ranked.slice(0, keep).map((x) => x.i));
  return { rows: all.filter((_, i) => chosen.has(i)), hidden: all.filter((_, i) => !chosen.has(i)) };
}

export interface Column {
  key: 'queued' | 'replies' | 'input' | 'turns' | 'cost' | 'active';
  head: string;
  width: number;
}

const COLUMNS: Column[] = [
  { key: 'queued', head: 'queued', width: 6 },
  { key: 'replies', head: 'replies', width: 7 },
  { key: 'input', head: 'input.txt', width: 10 },
  { key: 'turns', head: 'turns', width: 5 },
  { key: 'cost', head: 'cost', width: 8 },
  { key: 'active', head: 'active', width: 6 },
];
/** Dropped first when the pane is narrow. */
const DROP_ORDER: Column['key'][] = ['active', 'replies', 'turns', 'queued'];

export function columnsFor(width: number, idWidth: number): { columns: Column[]; idWidth: number; flagWidth: number } {
  let columns = COLUMNS.slice();
  const fixed = () => columns.reduce((n, c) => n + c.width + 1, 0);
  for (const drop of DROP_ORDER) {
    if (width - fixed() >= 16) break;
    columns = columns.filter((c) => c.key !== drop);
  }
  const room = Math.max(4, width - fixed());
  const id = Math.max(Math.min(8, room), Math.min(idWidth, 24, room - 6));
  return { columns, idWidth: id, flagWidth: Math.max(0, room - id - 1) };
}
