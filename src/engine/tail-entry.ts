import type { TurnRecord } from './conversation.js';

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
}

/** A recorded turn as a view shows it: the live tail and a scroll-back page use the same shape. */
export function tailEntry(
  t: Pick<TurnRecord, 'seq' | 'at' | 'session' | 'route' | 'user' | 'reply' | 'cost_usd'> & { truncated?: boolean },
): TailEntry {
  return {
    seq: t.seq,
    at: t.at,
    session: t.session,
    route: t.route,
    user: t.user,
    reply: t.reply,
    costUsd: t.cost_usd,
    ...(t.truncated ? { truncated: true } : {}),
  };
}
