import { ChatError } from './anthropic.js';
import type { CcEvent } from './claude-code-process.js';

/**
 * What Claude Code's stream-json events say, read for the relay: a turn's text and cost,
 * and its failures as the relay's errors — a 429 (retryable, never retried by Claude Code
 * here), a usage limit with its reset time, a sign-in problem, a session Claude Code
 * cannot find (its transcript never written).
 */

export class ClaudeCodeError extends ChatError {
  /** A usage limit: when Claude Code says it resets (ms since the epoch), if it said. */
  resetsAt?: number;
}

/** 2.1.332 reports the turn's own cost (model_usage_since_last_result); 2.1.197 only the process's running total_cost_usd. */
export function turnCost(result: CcEvent): number | undefined {
  const since = result.model_usage_since_last_result;
  if (!since || typeof since !== 'object') return undefined;
  const costs = Object.values(since as Record<string, { costUSD?: unknown }>).map((m) => m?.costUSD);
  if (costs.length === 0 || costs.some((c) => typeof c !== 'number')) return undefined;
  return (costs as number[]).reduce((x, y) => x + y, 0);
}

export function assistantText(ev: CcEvent | undefined): string {
  const content = (ev?.message as { content?: unknown } | undefined)?.content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is { type: 'text'; text: string } => !!b && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('');
}

const NO_CONVERSATION = /No conversation found with session ID[^\n"]*/;

/**
 * A resume whose session Claude Code cannot find answers at once with an error result
 * (2.1.197: subtype error_during_execution, num_turns 0, `errors` and stderr saying "No
 * conversation found with session ID: …"), having sent nothing to the API. Its text, or undefined.
 */
export function sessionMissing(result: CcEvent, stderr: string): string | undefined {
  const errors = Array.isArray(result.errors) ? result.errors.filter((e): e is string => typeof e === 'string') : [];
  const said = [...errors, typeof result.result === 'string' ? result.result : '', stderr].join('\n');
  return said.match(NO_CONVERSATION)?.[0].trim();
}

/** resetsAt is epoch seconds in Claude Code's rate_limit_event. */
function resetTime(limit: Record<string, unknown> | undefined): number | undefined {
  const r = limit?.resetsAt;
  return typeof r === 'number' && r > 0 ? (r < 1e12 ? r * 1000 : r) : undefined;
}

export function rateLimited(retry: CcEvent, limit: Record<string, unknown> | undefined): ClaudeCodeError {
  const resetsAt = resetTime(limit);
  const delay = typeof retry.retry_delay_ms === 'number' ? retry.retry_delay_ms : undefined;
  const err = new ClaudeCodeError(
    `429 rate_limit_error: Claude Code was told to slow down${resetsAt ? `; resets at ${new Date(resetsAt).toISOString()}` : ''}`,
    true,
    429,
    'rate_limit_error',
    resetsAt ? Math.max(0, resetsAt - Date.now()) : delay,
  );
  if (resetsAt) err.resetsAt = resetsAt;
  return err;
}

const USAGE_LIMIT = /usage limit|hit your limit|limit reached/i;

/**
 * A result with is_error: Claude Code's api_error_status and its text ("API Error:
 * Request rejected (429) · …", "Claude AI usage limit reached|<epoch>"). A usage limit
 * is not retryable (retrying against a subscription only burns the window): the relay
 * pauses until resetsAt.
 */
export function resultError(result: CcEvent, limit: Record<string, unknown> | undefined): ClaudeCodeError {
  const text = typeof result.result === 'string' ? result.result : String(result.subtype ?? 'error');
  const status = typeof result.api_error_status === 'number' ? result.api_error_status : undefined;
  const legacyReset = text.match(/\|(\d{9,13})\b/)?.[1];
  const resetsAt = resetTime(limit) ?? (legacyReset ? resetTime({ resetsAt: Number(legacyReset) }) : undefined);
  const usageLimit = USAGE_LIMIT.test(text) || limit?.status === 'rejected';
  if (usageLimit) {
    const when = resetsAt ? `; resets at ${new Date(resetsAt).toISOString()}` : '';
    const err = new ClaudeCodeError(`usage limit reached${when}: ${text}`, false, status ?? 429, 'usage_limit');
    if (resetsAt) err.resetsAt = resetsAt;
    return err;
  }
  if (status === 401 || status === 403)
    return new ClaudeCodeError(`${status}: ${text} (sign Claude Code in: run claude, then /login)`, false, status, 'authentication_error');
  const retryable = status === undefined ? false : status === 408 || status === 409 || status === 429 || status >= 500;
  const type = typeof result.api_error_type === 'string' ? result.api_error_type : status === 429 ? 'rate_limit_error' : 'error';
  const err = new ClaudeCodeError(`${status ? `${status} ` : ''}${type}: ${text}`, retryable, status, type);
  if (resetsAt) err.resetsAt = resetsAt;
  return err;
}
