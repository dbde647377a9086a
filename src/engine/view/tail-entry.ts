import type { TurnRecord } from '../journals/records.js';

/** A finished turn as the views show it. */
export interface TailEntry {
  seq: number;
  at: string;
  session: string;
  route: string;
  user: string;
  reply: string;
  costUsd: number;
  /** Cut by max_tokens (delivered anyway). */
  truncated?: boolean;
  /** One line of what the session's turn did (its evidence), when it sent one. */
  evidence?: string;
}

/** The fields of a recorded turn a view reads (scroll-back pages carry these). */
export type RecordedTurnView = Pick<TurnRecord, 'seq' | 'at' | 'session' | 'route' | 'user' | 'reply' | 'cost_usd'> & {
  truncated?: boolean;
  evidence?: string;
};

/** Only those fields, e.g. for a page that crosses to the view's thread (not the whole record). */
export function recordedTurnView(t: RecordedTurnView): RecordedTurnView {
  return {
    seq: t.seq,
    at: t.at,
    session: t.session,
    route: t.route,
    user: t.user,
    reply: t.reply,
    cost_usd: t.cost_usd,
    ...(t.truncated ? { truncated: true } : {}),
    ...(t.evidence ? { evidence: t.evidence } : {}),
  };
}

/** A recorded turn as a view shows it: the live tail and a scroll-back page use the same shape. */
export function tailEntry(t: RecordedTurnView): TailEntry {
  const { cost_usd: costUsd, ...rest } = recordedTurnView(t);
  return { ...rest, costUsd };
}
