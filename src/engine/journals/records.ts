import type { Usage } from '../../pricing/prices.js';
import type { TurnSource } from '../../protocol/status.js';

/**
 * The lines of state/conversation.jsonl and its archives: what the conversation
 * appends and rewrites (conversation.ts) and what scroll-back reads back from the
 * files' ends (history-page.ts).
 */

export interface TurnRecord {
  t: 'turn';
  seq: number;
  at: string;
  /** Who spoke: a session id, or 'operator'. */
  session: string;
  /** The session the reply is for. */
  route: string;
  source: TurnSource;
  user: string;
  reply: string;
  usage: Usage;
  cost_usd: number;
  model: string;
  /** Size of the conversation after this turn, from the API's usage: what cap_tokens is compared with. */
  history_tokens: number;
  envelope?: { file: string; key: string };
  input_id?: string;
  /** The reply was cut by max_tokens: delivered anyway, marked. */
  truncated?: boolean;
  /** The machine the speaking session reported from. */
  host?: string;
  /** One line of what the turn did; the whole digest is in `user`. */
  evidence?: string;
  /**
   * One section of a batched call (batch-form.ts): `call` is the seq of the call's first
   * record, `code` its marker code, `of` how many sessions the call carried. usage and
   * cost_usd are this section's share of the call (turn/batch.ts says how it is split).
   */
  batch?: { call: number; code: string; of: number };
  /** Billed to an account that does not pay per token (a Claude Code subscription): cost_usd is at API prices. */
  notional?: true;
}

export interface SummaryRecord {
  t: 'summary';
  seq: number;
  at: string;
  text: string;
  replaced_turns: number;
  history_tokens: number;
  cost_usd: number;
}

export type ConversationRecord = TurnRecord | SummaryRecord;
