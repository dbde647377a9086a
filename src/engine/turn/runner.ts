import type { Config } from '../../config/schema.js';
import type { CacheTtl } from '../../pricing/cache-rules.js';
import { TtlChooser } from '../../pricing/cache-lifetime.js';
import { abortableSleep, callWithRetries, type CallOutcome } from './call.js';
import type { Conversation } from '../journals/conversation.js';
import type { RelayEmitter } from '../kernel/events.js';
import type { Guard } from '../limits/guard.js';
import { localDay, type Ledger } from '../journals/ledger.js';
import { isoNow, type ChatClient, type ChatRequest, type Clock } from '../kernel/ports.js';
import type { PriceLookup } from '../../pricing/prices.js';
import type { LiveCall } from '../view/live-call.js';
import type { Committer } from './commit.js';
import { needsSummary, projectCost, requestBase, summaryPrompt } from './projection.js';
import type { TurnInput, TurnOutcome } from './turn-input.js';

/**
 * One turn up to the reply: projection -> guard -> reservation -> summary (when the
 * conversation outgrew its cap, committed here through the Committer) -> the call with
 * retries. It returns what happened and decides nothing more: the relay's loop
 * commits, pauses or stops on the outcome.
 */

const STREAM_KEEP = 4000;

export interface TurnRunnerOptions {
  chat: ChatClient;
  config: () => Config;
  price: () => PriceLookup;
  conversation: Conversation;
  ledger: Ledger;
  guard: Guard;
  now: Clock;
  signal: AbortSignal;
  live: LiveCall;
  events: RelayEmitter;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A guard pass (/resume) was spent by the check: make that durable before the call. */
  passSpent: () => void;
  /** Where a summary's durable steps are written (commit.ts). */
  committer: Committer;
  changed: (urgent?: boolean) => void;
  touched: () => void;
}

export class TurnRunner {
  /** The cache lifetime of each turn's breakpoints (cache.ttl; auto: by the recent gaps between calls). */
  readonly ttl: TtlChooser;
  /** The lifetime the last projection assumed for this text: the call then uses it, so the bill stays within the projection. */
  private planned: { text: string; ttl: CacheTtl } | null = null;

  constructor(private readonly o: TurnRunnerOptions) {
    this.ttl = new TtlChooser({ setting: () => o.config().cache.ttl, price: () => o.price().price });
    // After a restart the gaps between the recorded turns are the evidence (97 turns: 96 gaps).
    this.ttl.seed(o.conversation.recentTurns(97).map((t) => Date.parse(t.at)));
  }

  /** Projected cost of the next call for this text (and of a summary it needs first): an upper bound, see projection.ts. */
  project(userText: string): number {
    const o = this.o;
    const now = o.now();
    // 1-hour cache writes cost more: the projection prices the lifetime the call will use.
    const cacheWrite1h = this.cacheWrite1h(userText, now);
    return projectCost(
      { conversation: o.conversation, config: o.config(), price: o.price(), warmSince: o.live.lastCallAt, now, cacheWrite1h },
      userText,
    );
  }

  /**
   * Whether the next call for this text may write 1-hour cache entries (priced dearer),
   * for the projection. Before a summary the turn's prompt is not known yet: any
   * lifetime the setting allows is assumed. Otherwise the choice is made now and kept.
   */
  private cacheWrite1h(userText: string, now: number): boolean {
    const cfg = this.o.config();
    if (needsSummary(this.o.conversation, cfg)) return cfg.cache.ttl !== '5m' || this.ttl.last === '1h';
    let chosen = '5m' as CacheTtl;
    this.o.conversation.request(userText, requestBase(cfg), {
      ttl: (s) => (chosen = this.ttl.choose(now, s.prefixTokens, s.addedTokens, s.minTokens).ttl),
    });
    this.planned = { text: userText, ttl: chosen };
    return chosen === '1h';
  }

  async run(t: TurnInput): Promise<TurnOutcome> {
    const o = this.o;
    const cfg = o.config();
    const projectedUsd = this.project(t.user);
    const passes = o.guard.state.pass_once.length;
    const trip = o.guard.check({ session: t.route, projectedUsd, automatic: t.automatic, text: t.guardText });
    if (trip) return { kind: 'tripped', trip };
    if (o.guard.state.pass_once.length !== passes) o.passSpent();
    // Durable before the call: a kill -9 mid-call still counts it (at this projection) on the next start.
    o.ledger.reserve({ at: isoNow(this.o.now), day: localDay(o.now()), session: t.route, projectedUsd });
    let planned = this.planned?.text === t.user ? this.planned.ttl : undefined;
    this.planned = null;
    if (needsSummary(o.conversation, cfg)) {
      planned = undefined;
      // It only reads the prefix the turns cached, at their lifetime; it is not a gap between turns (not recorded).
      const req = o.conversation.request(summaryPrompt(cfg), requestBase(cfg, 'summary'), { ttl: this.ttl.last, writeEnd: false });
      o.events.emit('turn:started', { session: t.route, kind: 'summary', source: 'operator' });
      o.events.emit('log', {
        level: 'info',
        message: `conversation at ${o.conversation.historyTokens} tokens (cap ${cfg.history.cap_tokens}): summarizing`,
      });
      const s = await this.call('summary', t.route, req);
      if (s.kind !== 'answered') return s;
      o.committer.commitSummary(s.result);
    }
    let chosen = '5m' as CacheTtl;
    const req = o.conversation.request(t.user, requestBase(cfg), {
      ttl: (s) => (chosen = planned ?? this.ttl.choose(o.now(), s.prefixTokens, s.addedTokens, s.minTokens).ttl),
    });
    o.events.emit('turn:started', { session: t.session, kind: 'turn', source: t.source, file: t.envelope?.file });
    return this.call('turn', t.session, req, chosen, t.route);
  }

  private async call(kind: 'turn' | 'summary', session: string, req: ChatRequest, ttl?: CacheTtl, route = session): Promise<TurnOutcome> {
    const o = this.o;
    const live = o.live;
    const cfg = o.config();
    live.streamText = '';
    live.inflight = { kind, session, route, started_at: isoNow(this.o.now), chars: 0, attempt: 0 };
    o.changed();
    const startedAt = o.now();
    let outcome: CallOutcome;
    try {
      outcome = await callWithRetries(o.chat, req, {
        outerRetries: cfg.api.outer_retries,
        baseDelayMs: o.retryBaseMs,
        maxDelayMs: o.retryMaxMs,
        signal: o.signal,
        sleep: abortableSleep,
        onAttempt: (attempt) => {
          if (live.inflight) live.inflight = { ...live.inflight, attempt, chars: 0 };
          live.streamText = '';
          o.changed();
        },
        onText: (delta) => {
          // Text flows: whatever retry was shown is over.
          if (live.retry) {
            live.retry = null;
            o.changed();
          }
          live.streamText = (live.streamText + delta).slice(-STREAM_KEEP);
          if (live.inflight) live.inflight = { ...live.inflight, chars: live.inflight.chars + delta.length };
          o.events.emit('turn:delta', { session, chars: live.inflight?.chars ?? 0 });
          o.touched();
        },
        // Inside one attempt the SDK retries by itself (api.max_retries): the same display, said to be the SDK's.
        onSdkRetry: (info) => {
          const message = `${info.message} (the SDK's own retry)`;
          live.retry = { attempt: info.attempt, of: info.of, message, next_at: new Date(o.now() + info.delayMs).toISOString() };
          o.events.emit('turn:retry', { ...info, message });
          o.changed(true);
        },
        onRetry: (info) => {
          live.retry = {
            attempt: info.attempt,
            of: info.of,
            message: info.message,
            next_at: new Date(o.now() + info.delayMs).toISOString(),
          };
          // Logged once, by the views' formatter of this event.
          o.events.emit('turn:retry', info);
          o.changed(true);
        },
      });
    } finally {
      live.inflight = null;
      live.retry = null;
      live.streamText = '';
    }
    if (outcome.ok) {
      // What the projection may assume is cached: a turn's prefix, from when its call started; a summary replaced it.
      live.lastCallAt = kind === 'turn' ? startedAt : 0;
      if (kind === 'turn' && ttl) this.ttl.record(startedAt, ttl);
      live.lastError = null;
      o.changed();
      return { kind: 'answered', result: outcome.result };
    }
    if (outcome.aborted) {
      // Cut off while a request was out: it may have been billed, so its reservation stays
      // (counted on the next start). Stopped during a backoff wait: nothing was outstanding.
      if (!outcome.inFlight) o.ledger.release(outcome.error.reachedApi === false ? 'not_sent' : 'shutdown');
      o.changed();
      return { kind: 'aborted' };
    }
    // The API refused it, retries ran out, or it never got there: not billed, so the reservation is released, saying which.
    o.ledger.release(outcome.error.reachedApi === false ? 'not_sent' : 'refused');
    live.lastError = outcome.error.message;
    o.events.emit('turn:failed', { session, message: outcome.error.message });
    return { kind: 'refused', call: kind, error: outcome.error };
  }
}
