import { z } from 'zod';
import { readFileConfined } from '../fs/confine.js';
import type { RootPaths } from './root.js';

/**
 * state/status.json: the relay's public snapshot. The engine builds it, the file
 * writer serialises it, `relay-tui status` and the hook parse it back with this
 * same schema, so the three can never drift.
 */

/** The relay as a whole (needs_jc: at least one question waits, even while other sessions flow);
 * `stopped`: written last by a clean stop (a status.json left saying `running` is a relay that died). */
export const relayStates = ['running', 'needs_jc', 'paused', 'error', 'stopped'] as const;
export type RelayState = (typeof relayStates)[number];

export const pauseReasons = [
  'needs_jc',
  'approval',
  'operator',
  'error',
  'budget_day',
  'budget_session',
  'turn_cost',
  'auto_turns',
  'rate',
  'loop',
  /** One session's files are unusable (a SessionFault): that session waits, the others flow. */
  'fault',
  /** chat-Claude's account hit its usage limit (claude-code backend): the relay waits for the reset, then resumes by itself. */
  'usage_limit',
] as const;
export type PauseReason = (typeof pauseReasons)[number];

/** The limits the guard enforces (a subset of the pause reasons): /resume passes each once. */
export const guardReasons = [
  'budget_day',
  'budget_session',
  'turn_cost',
  'auto_turns',
  'rate',
  'loop',
] as const satisfies readonly PauseReason[];
export type GuardReason = (typeof guardReasons)[number];

export function isGuardReason(r: PauseReason): r is GuardReason {
  return (guardReasons as readonly string[]).includes(r);
}

/** Limits on turns with no human in them: they never hold a turn the operator started. */
export function isOperatorExempt(r: PauseReason): boolean {
  return r === 'auto_turns' || r === 'rate' || r === 'loop';
}

/** Who started a turn: an envelope from queue/, the operator, or a Claude Code Stop hook. */
export const turnSources = ['envelope', 'operator', 'hook'] as const;
export type TurnSource = (typeof turnSources)[number];

/** One session's own state: flowing, or held by its question, its approval, or its pause. */
export const sessionStates = ['flowing', 'asking', 'awaiting_approval', 'paused'] as const;
export type SessionState = (typeof sessionStates)[number];

/** One thing waiting for the operator (status.json `waiting`, oldest first). */
export const waitingItemSchema = z.object({
  /** '*' for a pause of the relay as a whole. */
  session: z.string(),
  kind: z.enum(['question', 'approval', 'paused', 'fault', 'error']),
  reason: z.enum(pauseReasons).nullable(),
  /** The question or the pause message, whole. */
  text: z.string(),
  since: z.string(),
  /** The one-time code its phone ping carries. */
  code: z.string().nullable(),
  /** The held turn, for a question or an approval. */
  turn: z.number().int().nullable(),
});
export type WaitingItemStatus = z.infer<typeof waitingItemSchema>;
/** The same item as the views name it. */
export type WaitingItem = WaitingItemStatus;

export const sessionStatusSchema = z.object({
  registered: z.boolean(),
  description: z.string().nullable(),
  pending: z.number().int(),
  awaiting_ack: z.boolean(),
  awaiting_ack_since: z.string().nullable(),
  turns: z.number().int(),
  cost_usd: z.number(),
  today_cost_usd: z.number(),
  last_activity_at: z.string().nullable(),
  /** A guardrail that holds this session only (its envelopes wait, others flow). */
  paused_reason: z.enum(pauseReasons).nullable(),
  paused_message: z.string().nullable(),
  auto_turns: z.number().int(),
  hook_chain: z.number().int(),
  /** Envelopes from this session waiting in queue/. */
  queued: z.number().int(),
  /** The machine a remote session reports from (its envelopes' `host`). */
  host: z.string().nullable().optional(),
  /** Optional so a status.json from before per-session holds still reads. */
  state: z.enum(sessionStates).optional(),
  state_reason: z.enum(pauseReasons).nullable().optional(),
  /** Rises on every operator decision about this session (approve, drop, answer, @redirect, resume). */
  decision_seq: z.number().int().optional(),
  /** The highest turn whose reply the operator's own message set aside: it will never be delivered. */
  superseded_through: z.number().int().nullable().optional(),
  /** Of cost_usd: calls a crash (or a stop mid-request) cut short, counted at their projected cost. */
  cut_short_usd: z.number().optional(),
});
export type SessionStatus = z.infer<typeof sessionStatusSchema>;

export const statusSchema = z.object({
  state: z.enum(relayStates),
  pause_reason: z.enum(pauseReasons).nullable(),
  pause_message: z.string().nullable(),
  started_at: z.string(),
  updated_at: z.string(),
  model: z.string(),
  /** The price-table entry the last billed call used (src/pricing/prices.ts priceEntryName). */
  price_entry: z.string().nullable().optional(),
  approval: z.enum(['auto', 'needs_jc', 'all']),
  queue_depth: z.number().int(),
  queue_oldest_at: z.string().nullable(),
  rejected_count: z.number().int(),
  last_rejection: z.object({ file: z.string(), reason: z.string(), at: z.string() }).nullable(),
  sessions: z.record(z.string(), sessionStatusSchema),
  last_dispatch_at: z.string().nullable(),
  last_dispatch_session: z.string().nullable(),
  last_needs_jc_text: z.string().nullable(),
  /** Everything waiting for the operator, oldest first. Optional: older files lack it. */
  waiting: z.array(waitingItemSchema).optional(),
  /** The oldest held reply (kept for readers from before per-session holds; `waiting` lists them all). */
  held: z
    .object({
      turn: z.number().int(),
      session: z.string(),
      text: z.string(),
      reason: z.enum(['needs_jc', 'approval']),
      at: z.string(),
      code: z.string(),
    })
    .nullable(),
  inflight: z
    .object({
      kind: z.enum(['turn', 'summary']),
      session: z.string(),
      /** The session the reply will be delivered to (an operator turn's differs from its speaker). */
      route: z.string().optional(),
      started_at: z.string(),
      chars: z.number().int(),
      attempt: z.number().int(),
    })
    .nullable(),
  retry: z.object({ attempt: z.number().int(), of: z.number().int(), message: z.string(), next_at: z.string() }).nullable(),
  last_error: z.string().nullable(),
  history_turns: z.number().int(),
  history_tokens: z.number().int(),
  summaries: z.number().int(),
  total_input_tokens: z.number().int(),
  total_output_tokens: z.number().int(),
  total_cache_read_tokens: z.number().int(),
  total_cache_write_tokens: z.number().int(),
  total_cost_usd: z.number(),
  today_cost_usd: z.number(),
  last_turn_cost_usd: z.number().nullable(),
  /** The last turn's reply was cut by max_tokens (delivered, marked). */
  last_turn_truncated: z.boolean().optional(),
  budget_usd_per_day: z.number(),
  /**
   * Of total_cost_usd: calls cut short by a crash (or stopped mid-request by a clean stop)
   * whose bill nobody saw, counted at their projected (upper-bound) cost. null: none.
   */
  cut_short: z.object({ calls: z.number().int(), usd: z.number(), crashed_calls: z.number().int() }).nullable().optional(),
  ntfy_topic: z.string().nullable(),
  pid: z.number().int(),
  /** Who answers as chat-Claude (chat.backend) and the account it bills, when known (issue 26). */
  backend: z.enum(['api', 'claude-code']).optional(),
  /** A usage-limit pause: when the limit resets and the relay resumes by itself. */
  pause_until: z.string().nullable().optional(),
  account: z.string().nullable().optional(),
  /** Costs are at API prices for an account that does not pay per token: shown as `≈ $x at API prices`. */
  cost_notional: z.boolean().optional(),
});
export type Status = z.infer<typeof statusSchema>;

/** status.json is a boundary: what the schema rejects is reported (file, key, problem), never shown as if it were status. */
export class StatusFileError extends Error {}

/**
 * The one reader of status.json (`relay-tui status`, the hooks' chain count): undefined
 * when there is none yet; a StatusFileError naming the file and key when it is not JSON
 * or not a status; a link or special file there is refused (ConfinementError).
 */
export function readStatus(p: Pick<RootPaths, 'status'>): Status | undefined {
  const buf = readFileConfined(p.status);
  if (!buf) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new StatusFileError(`${p.status}: not JSON (${(err as Error).message})`);
  }
  const parsed = statusSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue.path.length ? issue.path.join('.') : '(top level)';
  throw new StatusFileError(`${p.status}: ${key}: ${issue.message}`);
}
