import type { Trip } from '../limits/guard.js';
import type { ChatFailure, ChatResult } from '../kernel/ports.js';
import type { TurnSource } from '../../protocol/status.js';

/**
 * What a turn is between the rooms of turn/: the next-turn picker makes a TurnInput,
 * the runner turns it into a TurnOutcome, the committer records an answered one.
 */

/** One turn about to be asked: who spoke, where the reply goes, and what to remove once it is durable. */
export interface TurnInput {
  session: string;
  route: string;
  source: TurnSource;
  /** The labelled user message as sent. */
  user: string;
  /** false for a turn the operator started: only money limits apply. */
  automatic: boolean;
  envelope?: { file: string; key: string };
  inputId?: string;
  /** The unlabelled text, for the loop guard. */
  guardText: string;
  host?: string;
  /** One line of what the turn did (protocol/evidence.ts), when the envelope carried evidence. */
  evidence?: string;
}

/** Several sessions' envelopes in one call (batch.ts): `user` is the one message sent, `code` its markers' code. */
export interface BatchInput {
  kind: 'batch';
  turns: TurnInput[];
  code: string;
  user: string;
}

export const isBatch = (t: TurnInput | BatchInput): t is BatchInput => 'kind' in t && t.kind === 'batch';

export type TurnOutcome =
  | { kind: 'answered'; result: ChatResult }
  | { kind: 'tripped'; trip: Trip }
  /** Refused by the API or out of retries: not billed, its reservation released. */
  | { kind: 'refused'; call: 'turn' | 'summary'; error: ChatFailure }
  /** Stopped (shutdown). */
  | { kind: 'aborted' }
  /** A batch some limit would stop: nothing reserved or spent; its first turn goes alone, through the usual checks. */
  | { kind: 'unbatch' };
