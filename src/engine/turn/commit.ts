import fs from 'node:fs';
import path from 'node:path';
import { unlinkDurable } from '../../fs/atomic.js';
import type { Config } from '../../config/schema.js';
import type { Conversation } from '../journals/conversation.js';
import type { TurnRecord } from '../journals/records.js';
import type { Dispatcher } from '../mailboxes/dispatch.js';
import { Guard, type Warning } from '../limits/guard.js';
import type { Intake } from '../mailboxes/intake.js';
import { localDay, type Ledger } from '../journals/ledger.js';
import { newCode, type Pauses } from '../operator/pauses.js';
import type { Pings } from '../operator/pings.js';
import { isoNow, type ChatResult, type Clock } from '../kernel/ports.js';
import { costOf, priceEntryName, type PriceLookup } from '../../pricing/prices.js';
import { asksOperator } from '../../protocol/needs-jc.js';
import type { TurnInput } from './turn-input.js';

/**
 * The durable steps of a turn, in this order, and the recovery that reuses them.
 *
 *   1. conversation line   the reply exists. From here on the turn is never asked again.
 *   2. ledger line         settles the call's reservation. A crash between 1 and 2 leaves
 *                          the reservation open, counted at its projected (upper-bound)
 *                          cost on the next start: spend is counted once, never less.
 *                          Written without a flush of its own (Ledger.record): a kill -9
 *                          cannot lose a written line, and a power cut that does is the
 *                          same case as a crash between 1 and 2. The next reservation's
 *                          fdatasync carries it to the disk before the next call.
 *   3. counters            guard (auto turns, repeats) and hook chain, in memory. Not
 *                          written per turn: start-up replays turns past control.json's
 *                          guard_seq from the conversation, so they count exactly once.
 *                          A hook's turn has status.json rewritten here, not up to 250 ms
 *                          later: the session's next Stop hook reads its chain count
 *                          there (the chain cap), and may run before a deferred write.
 *   4. reply durable       the outbox file (dispatch.ts), or held in control.json.
 *   5. source removed      the envelope from queue/, or the operator's inbox file.
 *   6. delivery            the outbox file renamed onto dispatch/<session>/input.txt.
 *
 * Nothing is removed before what replaces it is durable (4 before 5, 5 before 6), so
 * start-up can tell a finished turn from an unfinished one by its source alone: a
 * recorded turn whose source is still there resumes at step 4, without the API.
 * A step that throws in-process leaves the turn pending here; the loop finishes it
 * (from the failed step) before it takes anything new.
 */

export const COMMIT_STEPS = ['conversation', 'ledger', 'counters', 'reply', 'source', 'deliver'] as const;
export type CommitStep = (typeof COMMIT_STEPS)[number];

export type Held = 'needs_jc' | 'approval' | null;

export interface CommitterOptions {
  queueDir: string;
  inboxDir: string;
  config: () => Config;
  price: () => PriceLookup;
  now: Clock;
  conversation: Conversation;
  ledger: Ledger;
  guard: Guard;
  pauses: Pauses;
  dispatcher: Dispatcher;
  intake: Intake;
  pings: Pings;
  /** The operator input is done with (the inbox file is removed by the committer). */
  inputDone: (id: string) => void;
  /** status.json now (Store.changed(true)): a hook's chain count is read from it. */
  publish: () => void;
  /** After the last step: views, events, pings (after-turn.ts). */
  committed: (record: TurnRecord, done: Committed) => void;
  /** After a summary's steps: the audit line, views, events (after-turn.ts). */
  summarized: (s: Summarized) => void;
  /** Called after each step completes: fault injection in the crash tests. */
  afterStep?: (step: number, name: CommitStep) => void;
}

export interface Committed {
  held: Held;
  /** Held by this commit (not already held by an earlier run): announce and ping it. */
  newlyHeld: boolean;
  warnings: Warning[];
  /** Finished by start-up recovery from the record. */
  recovered: boolean;
}

/** What a summary did to the conversation, and what it cost. */
export interface Summarized {
  replaced: number;
  kept: number;
  cost: number;
}

interface Pending {
  record: TurnRecord;
  automatic: boolean;
  /** The next step to run (1-based). */
  next: number;
  warnings: Warning[];
  held: Held;
  newlyHeld: boolean;
  recovered: boolean;
  /** Its ledger line settles the call's reservation: false for a batch's sections but the last. */
  settles?: boolean;
}

/** The unlabelled text a turn was guarded on: what follows the label line. */
export function guardTextOf(r: TurnRecord): string {
  const i = r.user.indexOf('\n');
  return i < 0 ? r.user : r.user.slice(i + 1);
}

export class Committer {
  private pending: Pending[] = [];

  constructor(private readonly o: CommitterOptions) {}

  get unfinished(): number {
    return this.pending.length;
  }

  /** Routes of recorded turns still waiting for a step (their sessions take nothing new). */
  pendingRoutes(): Set<string> {
    return new Set(this.pending.map((p) => p.record.route));
  }

  commit(t: TurnInput, result: ChatResult): TurnRecord {
    const record = this.recordOf(t, result, this.o.conversation.nextSeq());
    this.commitAll([{ record, automatic: t.automatic }]);
    return record;
  }

  /** The record of a one-envelope turn; a batch's sections are made from it (batch.ts). */
  recordOf(t: TurnInput, result: ChatResult, seq: number): TurnRecord {
    const { usage } = result;
    const cfg = this.o.config();
    const cost = costOf(usage, this.o.price().price);
    return {
      t: 'turn',
      seq,
      at: isoNow(this.o.now),
      session: t.session,
      route: t.route,
      source: t.source,
      user: t.user,
      reply: result.text,
      usage,
      cost_usd: cost,
      model: result.model || cfg.model,
      history_tokens: usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens + usage.output_tokens,
      envelope: t.envelope,
      input_id: t.inputId,
      ...(result.stopReason === 'max_tokens' ? { truncated: true } : {}),
      ...(t.host ? { host: t.host } : {}),
      ...(t.evidence ? { evidence: t.evidence } : {}),
      ...(result.notional ? { notional: true as const } : {}),
    };
  }

  /**
   * Records of one call through the steps, in step order across them: every record's
   * conversation line before any ledger line, and so on (a batch, batch.ts, commits its
   * sections so: a crash loses no section whose line was written, and the call's
   * reservation stays open until the last ledger line, so spend is never under-counted).
   */
  commitAll(records: Array<{ record: TurnRecord; automatic: boolean }>): void {
    const ps: Pending[] = records.map(({ record, automatic }, i) => ({
      record,
      automatic,
      next: 1,
      warnings: [],
      held: null,
      newlyHeld: false,
      recovered: false,
      settles: i === records.length - 1,
    }));
    this.pending.push(...ps);
    for (let step = 1; step <= COMMIT_STEPS.length; step++)
      for (const p of ps) {
        this.run(step, p);
        p.next = step + 1;
        this.o.afterStep?.(step, COMMIT_STEPS[step - 1]);
      }
    for (const p of ps) this.finished(p);
  }

  /** Finishes turns a thrown step left pending (oldest first) whose route may go now. */
  finishPending(mayGo: (route: string) => boolean): void {
    for (const p of [...this.pending]) if (mayGo(p.record.route)) this.advance(p);
  }

  /** queue/ files of recorded turns still waiting for a step: theirs to remove, nobody else's. */
  ownedEnvelopes(): Set<string> {
    return new Set(this.pending.flatMap((p) => (p.record.envelope ? [p.record.envelope.file] : [])));
  }

  /** A turn stopped before its ledger line: no other call may reserve until it is settled. */
  blocksAll(): boolean {
    return this.pending.some((p) => p.next <= 2);
  }

  /**
   * Start-up, before intake opens: counts every recorded turn past guard_seq once, then
   * finishes every recorded turn whose source is still there. Returns how many.
   */
  recover(): number {
    this.replayCounters();
    let n = 0;
    for (const record of this.o.conversation.recentTurns(this.o.conversation.turnCount)) {
      if (!this.sourcePresent(record)) continue;
      n++;
      this.pending.push({
        record,
        automatic: record.source !== 'operator',
        next: 4,
        warnings: [],
        held: null,
        newlyHeld: false,
        recovered: true,
      });
    }
    for (const p of [...this.pending]) this.advance(p);
    return n;
  }

  private advance(p: Pending): void {
    while (p.next <= COMMIT_STEPS.length) {
      const step = p.next;
      this.run(step, p);
      p.next = step + 1;
      this.o.afterStep?.(step, COMMIT_STEPS[step - 1]);
    }
    this.finished(p);
  }

  private finished(p: Pending): void {
    this.pending = this.pending.filter((x) => x !== p);
    this.o.committed(p.record, { held: p.held, newlyHeld: p.newlyHeld, warnings: p.warnings, recovered: p.recovered });
  }

  private run(step: number, p: Pending): void {
    const r = p.record;
    switch (COMMIT_STEPS[step - 1]) {
      case 'conversation':
        this.o.conversation.append(r);
        return;
      case 'ledger':
        this.o.ledger.record(
          {
            at: r.at,
            day: localDay(this.o.now()),
            session: r.route,
            kind: 'turn',
            model: r.model,
            usage: r.usage,
            cost_usd: r.cost_usd,
            seq: r.seq,
            price_entry: priceEntryName(this.o.price(), r.usage),
            ...(r.batch ? { batch: r.batch.call } : {}),
            ...(r.notional ? { notional: true as const } : {}),
          },
          { settles: p.settles ?? true },
        );
        return;
      case 'counters':
        p.warnings = this.count(this.o.guard, r);
        if (r.source === 'hook') this.o.publish();
        return;
      case 'reply':
        [p.held, p.newlyHeld] = this.replyDurable(r);
        return;
      case 'source':
        this.removeSource(r);
        return;
      case 'deliver':
        if (!p.held) this.o.dispatcher.pump(r.route);
        return;
    }
  }

  /** Step 3 for one turn: what Guard.recordTurn and the hook chain make of it. */
  private count(guard: Guard, r: TurnRecord): Warning[] {
    const c = this.o.pauses.control;
    if (r.seq <= c.guard_seq) return [];
    const warnings = guard.recordTurn({ session: r.route, automatic: r.source !== 'operator', text: guardTextOf(r), reply: r.reply });
    if (r.source === 'hook') c.hook_chain[r.route] = (c.hook_chain[r.route] ?? 0) + 1;
    c.guard_seq = r.seq;
    return warnings;
  }

  /**
   * Turns recorded after control.json was last written. A guard of its own over the same
   * state: the live guard's rate window comes from the ledger, which already has them.
   */
  private replayCounters(): void {
    const c = this.o.pauses.control;
    const later = this.o.conversation.recentTurns(this.o.conversation.turnCount).filter((t) => t.seq > c.guard_seq);
    if (!later.length) return;
    const replay = new Guard(() => this.o.config().guardrails, this.o.ledger, c.guard, this.o.now);
    // Their budget warnings are marked as given, not sent again: the run that recorded the turns
    // may well have sent them before it died, and a warning twice is worse than once late.
    for (const t of later) this.count(replay, t);
  }

  private sourcePresent(r: TurnRecord): boolean {
    if (r.input_id) return fs.existsSync(path.join(this.o.inboxDir, `${r.input_id}.txt`));
    if (!r.envelope || !fs.existsSync(path.join(this.o.queueDir, r.envelope.file))) return false;
    const e = this.o.intake.load({ name: r.envelope.file, mtimeMs: 0, size: 0, session: r.route });
    return !!e && e.key === r.envelope.key;
  }

  /** Step 4: a reply that needs the operator is held in control.json; any other goes to the outbox. */
  private replyDurable(r: TurnRecord): [Held, boolean] {
    const cfg = this.o.config();
    const needsJc = asksOperator(r.reply);
    const reason = needsJc && cfg.approval !== 'auto' ? 'needs_jc' : cfg.approval === 'all' ? 'approval' : null;
    if (!reason) {
      this.o.dispatcher.enqueue(r.route, r.reply, `t${r.seq}`);
      return [null, false];
    }
    const pauses = this.o.pauses;
    if (pauses.control.held[r.route]?.seq === r.seq) return [reason, false];
    pauses.hold({ seq: r.seq, session: r.route, text: r.reply, reason, at: r.at, code: newCode() }, reason === 'needs_jc' ? r.reply : null);
    pauses.save();
    return [reason, true];
  }

  /** Step 5. */
  private removeSource(r: TurnRecord): void {
    if (r.envelope) {
      unlinkDurable(path.join(this.o.queueDir, r.envelope.file));
      this.o.intake.forget(r.envelope.file);
    }
    if (r.input_id) {
      unlinkDurable(path.join(this.o.inboxDir, `${r.input_id}.txt`));
      this.o.inputDone(r.input_id);
    }
  }

  /**
   * A summary's durable steps: control.json first (guard_seq covers every turn the summary
   * folds away), then the conversation rewrite, then its ledger line. A crash before the
   * ledger line leaves the turn's reservation open, which was projected to cover both.
   */
  commitSummary(result: ChatResult): void {
    const cfg = this.o.config();
    const cost = costOf(result.usage, this.o.price().price);
    this.o.pauses.save();
    const at = isoNow(this.o.now);
    const { replaced, kept } = this.o.conversation.replaceWithSummary(
      // The next call's size: summary in, kept turns roughly as before; the next usage corrects it.
      { at, text: result.text, history_tokens: result.usage.output_tokens + Math.ceil(cfg.system_prompt.length / 4), cost_usd: cost },
      cfg.history.keep_recent,
    );
    this.o.ledger.record({
      at,
      day: localDay(this.o.now()),
      session: 'relay',
      kind: 'summary',
      model: cfg.model,
      usage: result.usage,
      cost_usd: cost,
      price_entry: priceEntryName(this.o.price(), result.usage),
      ...(result.notional ? { notional: true as const } : {}),
    });
    this.o.summarized({ replaced, kept, cost });
  }
}
