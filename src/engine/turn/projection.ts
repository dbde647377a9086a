import type { Config } from '../../config/schema.js';
import type { PriceLookup } from '../../pricing/prices.js';
import { projectTurnCost } from '../../pricing/projection.js';
import { TTL_MS } from '../../pricing/cache-rules.js';
import type { Conversation } from '../journals/conversation.js';

/**
 * The shape of the next calls, shared by the runner that makes them and the projection
 * that prices them before they are made: the two must agree, or the guard's check and
 * the ledger's reservation would cover a different call than the one sent.
 */

/** The request fields besides the messages; a summary may answer longer than a turn. */
export function requestBase(cfg: Config, kind: 'turn' | 'summary' = 'turn') {
  return { model: cfg.model, max_tokens: kind === 'summary' ? Math.max(cfg.max_tokens, 2048) : cfg.max_tokens, system: cfg.system_prompt };
}

/** The user message that asks for a summary. */
export function summaryPrompt(cfg: Config): string {
  return `[relay] ${cfg.history.summarization_prompt}`;
}

export function needsSummary(c: Conversation, cfg: Config, now?: number): boolean {
  // Summarizing only helps when there are turns beyond keep_recent to fold away.
  if (c.turnCount <= cfg.history.keep_recent) return false;
  return c.historyTokens > cfg.history.cap_tokens || (now !== undefined && coldHistory(c, cfg, now));
}

/** A history this large is worth summarizing when nothing of it can still be cached (docs/bench.md). */
export const COLD_SUMMARY_MIN_TOKENS = 30_000;

/**
 * Every cache entry of the history has expired (the last turn is more than the longest
 * lifetime ago) and the history is large: the next turn would write all of it again, at
 * the dearer rate. Summarizing first reads it once, uncached, at the plain input rate,
 * and every later call reads the short prefix. Past twice the size of a summary and its
 * kept turns this is cheaper (bench/day.ts: −$1.53 a day at cap 150,000).
 */
export function coldHistory(c: Conversation, cfg: Config, now: number): boolean {
  const last = c.lastTurn;
  if (!last || now - Date.parse(last.at) <= TTL_MS['1h']) return false;
  return c.historyTokens > Math.min(COLD_SUMMARY_MIN_TOKENS, cfg.history.cap_tokens / 2);
}

/** Projected cost of the next call (and of the summary it may need first), before it is made: an upper bound, see pricing/projection.ts. */
export function projectCost(
  o: { conversation: Conversation; config: Config; price: PriceLookup; warmSince: number; now: number; cacheWrite1h?: boolean },
  userText: string,
): number {
  const { conversation: c, config } = o;
  const h = config.history;
  const last = c.lastTurn;
  const summary = c.summaryRecord;
  const bytes = (texts: string[]) => texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const system = Buffer.byteLength(config.system_prompt);
  // Measured by the API: the last turn's prompt and reply, unless a summary has replaced that prefix since.
  const measured =
    last && (!summary || last.seq > summary.seq) ? { historyTokens: last.history_tokens, replyTokens: last.usage.output_tokens } : null;
  return projectTurnCost({
    price: o.price.price,
    maxTokens: config.max_tokens,
    measured,
    historyBytes: measured ? 0 : system + bytes(c.request('', requestBase(config)).messages.map((m) => m.content)),
    userBytes: Buffer.byteLength(userText),
    warmSince: o.warmSince,
    now: o.now,
    cacheWrite1h: o.cacheWrite1h,
    // The same condition as the runner's: this turn summarizes first, and the check must cover both calls.
    summary: needsSummary(c, config, o.now)
      ? {
          promptBytes: Buffer.byteLength(summaryPrompt(config)),
          maxTokens: requestBase(config, 'summary').max_tokens,
          // System prompt, the summary's wrapper and the assistant's acknowledgement (200), the kept turns.
          afterBytes: system + 200 + bytes(c.recentTurns(h.keep_recent).flatMap((t) => [t.user, t.reply])),
        }
      : undefined,
  });
}
