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
import { coldHistory, needsSummary, projectCost, requestBase, summaryPrompt } from './projection.js';
import { isBatch, type BatchInput, type TurnInput, type TurnOutcome } from './turn-input.js';
import { batchConfig } from './batch.js';

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
  project(userText: string, sessions = 1): number {
    const o = this.o;
    const now = o.now();
    const config = batchConfig(o.config(), sessions);
    // 1-hour cache writes cost more: the projection prices the lifetime the call will use.
    const cacheWrite1h = this.cacheWrite1h(userText, now, config);
    return projectCost(
      { conversation: o.conversation, config, price: o.price(), warmSince: o.live.lastCallAt, now, cacheWrite1h },
      userText,
    );
  }

  /**
   * Whether the next call for this text may write 1-hour cache entries (priced dearer),
   * for the projection. Before a summary the turn's prompt is not known yet: any
   * lifetime the setting allows is assumed. Otherwise the choice is made now and kept.
   */
  private cacheWrite1h(userText: string, now: number, cfg: Config): boolean {
    if (needsSummary(this.o.conversation, cfg, now)) return cfg.cache.ttl !== '5m' || this.ttl.last === '1h';
    let chosen = '5m' as CacheTtl;
    this.o.conversation.request(userText, requestBase(cfg), {
      ttl: (s) => (chosen = this.ttl.choose(now, s.prefixTokens, s.addedTokens, s.minTokens).ttl),
    });
    this.planned = { text: userText, ttl: chosen };
    return chosen === '1h';
  }

  async run(input: TurnInput | BatchInput): Promise<TurnOutcome> {
    const o = this.o;
    const batch = isBatch(input) ? input : null;
    const t = batch ? batch.turns[0] : (input as TurnInput);
    const cfg = batchConfig(o.config(), batch?.turns.length ?? 1);
    const projectedUsd = this.project(input.user, batch?.turns.length ?? 1);
    if (batch) {
      // Every session's limits against the whole call's projection. A batch that any limit
      // (or an operator's one-time pass, which belongs to one turn) would stop is not sent:
      // its turns go one by one, where the limits trip and the passes apply as always.
      if (o.guard.state.pass_once.length) return { kind: 'unbatch' };
      for (const x of batch.turns)
        if (o.guard.check({ session: x.route, projectedUsd, automatic: x.automatic, text: x.guardText })) return { kind: 'unbatch' };
    } else {
      const passes = o.guard.state.pass_once.length;
      const trip = o.guard.check({ session: t.route, projectedUsd, automatic: t.automatic, text: t.guardText });
      if (trip) return { kind: 'tripped', trip };
      if (o.guard.state.pass_once.length !== passes) o.passSpent();
    }
    // Durable before the call: a kill -9 mid-call still counts it (at this projection) on the next start.
    o.ledger.reserve({ at: isoNow(this.o.now), day: localDay(o.now()), session: t.route, projectedUsd });
    let planned = this.planned?.text === input.user ? this.planned.ttl : undefined;
    this.planned = null;
    if (needsSummary(o.conversation, cfg, o.now())) {
      // After a summary the turn keeps the lifetime the turns had: choosing again would see the
      // whole new prefix as added tokens and bet on 5 minutes, lost at the next longer gap.
      planned = this.ttl.last;
      // It only reads the prefix the turns cached, at their lifetime; it is not a gap between turns (not recorded).
      // After a long gap nothing is cached: no breakpoint on the history, or it would be written for nothing.
      const cold = coldHistory(o.conversation, cfg, o.now());
      const req = o.conversation.request(summaryPrompt(cfg), requestBase(o.config(), 'summary'), {
        ttl: this.ttl.last,
        writeEnd: false,
        cold,
      });
      o.events.emit('turn:started', { session: t.route, kind: 'summary', source: 'operator' });
      o.events.emit('log', {
        level: 'info',
        message: `conversation at ${o.conversation.historyTokens} tokens (cap ${cfg.history.cap_tokens})${cold ? ', its cache expired' : ''}: summarizing`,
      });
      const s = await this.call('summary', t.route, req);
      if (s.kind !== 'answered') return s;
      o.committer.commitSummary(s.result);
    }
    let chosen = '5m' as CacheTtl;
    const req = o.conversation.request(input.user, requestBase(cfg), {
      ttl: (s) => (chosen = planned ?? this.ttl.choose(o.now(), s.prefixTokens, s.addedTokens, s.minTokens).ttl),
    });
    for (const x of batch?.turns ?? [t])
      o.events.emit('turn:started', { session: x.session, kind: 'turn', source: x.source, file: x.envelope?.file });
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
