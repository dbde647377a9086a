import type { Config } from '../../config/schema.js';
import type { AuditEntry } from '../journals/audit.js';
import { noteFromAudit, NOTES_MAX, readNotes, type ConversationNote } from '../journals/notes.js';
import type { Conversation } from '../journals/conversation.js';
import type { TurnRecord } from '../journals/records.js';
import type { Dispatcher } from '../mailboxes/dispatch.js';
import type { Guard } from '../limits/guard.js';
import type { Intake } from '../mailboxes/intake.js';
import type { Ledger } from '../journals/ledger.js';
import type { Pauses } from '../operator/pauses.js';
import type { ChatIdentity } from '../kernel/ports.js';
import type { Clock } from '../kernel/ports.js';
import { buildStatus, type RelaySnapshot } from './snapshot.js';
import { heldSeqsOf, rebuildFromRecord } from './rebuild.js';
import { tailEntry, type TailEntry } from './tail-entry.js';
import type { LiveCall } from './live-call.js';

/**
 * What only the views need and nothing durable depends on: the recent turns, when
 * each session was last active and from which host, the last dispatch. Rebuilt from
 * the conversation, the ledger and the audit log at start (rebuild.ts).
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
  /** Who answers as chat-Claude, asked on each snapshot (Claude Code's account is known after its first start). */
  chat: () => ChatIdentity;
  /** The audit log: where the notes (dispatches, held-reply outcomes) are rebuilt from at start. */
  auditFile?: string;
}

export class ViewState {
  tail: TailEntry[] = [];
  /** Dispatches and held-reply outcomes, newest last (notes.ts). */
  notes: ConversationNote[] = [];
  readonly activity = new Map<string, number>();
  readonly hosts = new Map<string, string>();
  lastDispatch: { at: number; session: string } | null = null;
  lastTurnCost: number | null = null;
  lastTurnTruncated = false;
  /** When the queue last moved: the stuck-queue ping counts from here. */
  lastProgressAt: number;
  /** A clean stop finished: the last snapshot says `stopped`. */
  stopped = false;

  constructor(private readonly p: ViewParts) {
    this.lastProgressAt = p.now();
    const turns = p.conversation.recentTurns(TAIL_MAX / 2);
    for (const t of turns) this.turn(t, false);
    if (p.auditFile) this.notes = readNotes(p.auditFile, { sinceAt: this.tail[0]?.at ?? null, limit: NOTES_MAX, turns: this.tail });
    const heldSeqs = heldSeqsOf(p.pauses.control.held);
    const past = rebuildFromRecord({ turns, notes: this.notes, lastTurns: p.ledger.lastTurns(), heldSeqs });
    for (const [s, at] of past.activity) this.activity.set(s, at);
    this.lastDispatch = past.lastDispatch;
  }

  touch(session: string): void {
    this.activity.set(session, this.p.now());
  }

  /** A committed turn (live=false: one loaded from the conversation at start). */
  turn(t: TurnRecord, live = true): void {
    this.tail = [...this.tail, tailEntry(t)].slice(-TAIL_MAX);
    if (t.host && t.session !== 'operator') this.hosts.set(t.session, t.host);
    if (!live) return;
    this.lastProgressAt = this.p.now();
    this.lastTurnCost = t.cost_usd;
    this.lastTurnTruncated = !!t.truncated;
    this.touch(t.route);
    if (t.session !== 'operator') this.touch(t.session);
  }

  /** An audit entry was written: the ones that tell what reached a session become notes. */
  audited(e: AuditEntry): void {
    const last = this.tail.length ? this.tail[this.tail.length - 1].seq : this.p.conversation.nextSeq() - 1;
    const n = noteFromAudit(e, last);
    if (n) this.notes = [...this.notes, n].slice(-NOTES_MAX);
  }

  /** The notes that belong among a scroll-back page's turns (read from the audit log's end). */
  pageNotes(turns: readonly TurnRecord[], nextAt: string | undefined): ConversationNote[] {
    if (!this.p.auditFile || !turns.length) return [];
    return readNotes(this.p.auditFile, { sinceAt: turns[0].at, untilAt: nextAt, limit: NOTES_MAX, turns });
  }

  snapshot(): RelaySnapshot {
    const p = this.p;
    const status = buildStatus({
      state: this.stopped ? 'stopped' : p.pauses.state(),
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
      chat: p.chat(),
    });
    return { status, tail: this.tail, notes: this.notes, streaming: p.live.streamText, topic: p.topic };
  }
}
