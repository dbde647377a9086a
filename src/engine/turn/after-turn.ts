import { asksOperator } from '../../protocol/needs-jc.js';
import type { Committed, Summarized } from './commit.js';
import type { AuditEntry } from '../journals/audit.js';
import { isoNow, type Clock } from '../kernel/ports.js';
import type { TurnRecord } from '../journals/records.js';
import type { RelayEmitter } from '../kernel/events.js';
import type { Guard, Warning } from '../limits/guard.js';
import type { Pauses } from '../operator/pauses.js';
import type { Pings } from '../operator/pings.js';
import type { Store } from '../view/publisher.js';
import type { ViewState } from '../view/view-state.js';

/**
 * What follows a committed turn or summary and is not durable: the views, the events,
 * the pings, a summary's audit line. Nothing here can lose a reply; it only tells about one.
 */

export interface AfterTurnParts {
  view: ViewState;
  pauses: Pauses;
  pings: Pings;
  events: RelayEmitter;
  store: Store;
  maxTokens: () => number;
  guard: Guard;
  now: Clock;
  /** Best effort (the relay's audit: a full disk does not make it throw). */
  audit: (e: AuditEntry) => void;
}

export function budgetWarnings(pings: Pings, warnings: Warning[]): void {
  for (const w of warnings) pings.notify({ title: 'relay-tui: budget warning', message: w.message, priority: 4, tags: ['moneybag'] });
}

export function turnCommitted(p: AfterTurnParts, r: TurnRecord, { held, newlyHeld, warnings, recovered }: Committed): void {
  p.view.turn(r);
  if (r.truncated)
    p.events.emit('log', {
      level: 'warn',
      message: `turn ${r.seq} for ${r.route}: the reply was cut at max_tokens (${p.maxTokens()}); delivered, marked truncated`,
    });
  if (held && newlyHeld) p.pauses.announceHeld(r, held);
  // approval: auto never holds, but the operator still hears about a question.
  else if (!held && asksOperator(r.reply))
    p.pings.notify({
      title: `relay-tui: ${r.route} asked for you (auto-approved)`,
      message: r.reply.slice(0, 400),
      priority: 4,
      tags: ['raising_hand'],
    });
  const u = r.usage;
  const prompt = u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
  if (!recovered)
    p.events.emit('turn:completed', {
      seq: r.seq,
      session: r.session,
      route: r.route,
      costUsd: r.cost_usd,
      cacheHit: prompt ? u.cache_read_input_tokens / prompt : 0,
      held,
      preview: r.reply.slice(0, 200),
      ...(r.truncated ? { truncated: true } : {}),
    });
  budgetWarnings(p.pings, warnings);
  // Not urgent: a finished turn is not a state change, and status.json is rewritten at most ~4/s (SPEC).
  p.store.changed(held !== null);
}

export function summaryCommitted(p: AfterTurnParts, { replaced, kept, cost }: Summarized): void {
  p.audit({
    at: isoNow(p.now),
    source: 'relay',
    action: 'summarize',
    detail: `replaced ${replaced} turns, kept ${kept}, $${cost.toFixed(4)}`,
  });
  p.events.emit('summary:done', { replacedTurns: replaced, keptTurns: kept, costUsd: cost });
  budgetWarnings(p.pings, p.guard.warnings());
  p.store.changed(true);
}
