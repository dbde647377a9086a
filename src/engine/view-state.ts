import type { Config } from '../config/schema.js';
import type { Conversation, TurnRecord } from './conversation.js';
import type { Dispatcher } from './dispatch.js';
import type { Guard } from './guard.js';
import type { Intake } from './intake.js';
import type { Ledger } from './ledger.js';
import type { Pauses } from './pauses.js';
import type { Clock } from './ports.js';
import { buildStatus, type RelaySnapshot, type TailEntry } from './snapshot.js';
import type { LiveCall } from './turn.js';

/**
 * What only the views need and nothing durable depends on: the recent turns, when
 * each session was last active and from which host, the last dispatch. Rebuilt from
 * the conversation at start.
 */

const TAIL_MAX = 200;

export interface ViewParts {
  config: () => Config;
  now: Clock;
  startedAt: number;
  topic: string | null;
  pauses: Pauses;
  intake: Intake;
  dispatcher: Dispatcher;
  ledger: Ledger;
  guard: Guard;
  conversation: Conversation;
  live: LiveCall;
}

export class ViewState {
  tail: TailEntry[] = [];
  readonly activity = new Map<string, number>();
  readonly hosts = new Map<string, string>();
  lastDispatch: { at: number; session: string } | null = null;
  lastTurnCost: number | null = null;
  lastTurnTruncated = false;
  /** When the queue last moved: the stuck-queue ping counts from here. */
  lastProgressAt: number;

  constructor(private readonly p: ViewParts) {
    this.lastProgressAt = p.now();
    for (const t of p.conversation.recentTurns(TAIL_MAX / 2)) this.turn(t, false);
  }

  touch(session: string): void {
    this.activity.set(session, this.p.now());
  }

  /** A committed turn (live=false: one loaded from the conversation at start). */
  turn(t: TurnRecord, live = true): void {
    this.tail = [...this.tail, { seq: t.seq, at: t.at, session: t.session, route: t.route, user: t.user, reply: t.reply, costUsd: t.cost_usd, ...(t.truncated ? { truncated: true } : {}) }].slice(-TAIL_MAX);
    if (t.host && t.session !== 'operator') this.hosts.set(t.session, t.host);
    if (!live) return;
    this.lastProgressAt = this.p.now();
    this.lastTurnCost = t.cost_usd;
    this.lastTurnTruncated = !!t.truncated;
    this.touch(t.route);
    if (t.session !== 'operator') this.touch(t.session);
  }

  snapshot(): RelaySnapshot {
    const p = this.p;
    const status = buildStatus({
      state: p.pauses.state(),
      control: p.pauses.control,
      config: p.config(),
      startedAt: p.startedAt,
      now: p.now(),
      intake: p.intake,
      dispatcher: p.dispatcher,
      ledger: p.ledger,
      guard: p.guard,
      activity: this.activity,
      hosts: this.hosts,
      conversation: p.conversation,
      inflight: p.live.inflight,
      retry: p.live.retry,
      lastError: p.live.lastError,
      lastTurnCost: this.lastTurnCost,
      lastTurnTruncated: this.lastTurnTruncated,
      lastDispatch: this.lastDispatch,
      topic: p.topic,
    });
    return { status, tail: this.tail, streaming: p.live.streamText, topic: p.topic };
  }
}
