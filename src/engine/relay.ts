import path from 'node:path';
import { writeAtomic } from '../fs/atomic.js';
import { watchDir } from '../fs/watch.js';
import type { Config } from '../config/schema.js';
import type { RootPaths } from '../protocol/root.js';
import { AuditLog, type AuditEntry } from './journals/audit.js';
import { budgetWarnings, turnCommitted } from './turn/after-turn.js';
import { Committer, type CommitStep } from './turn/commit.js';
import { Conversation, labelFor } from './journals/conversation.js';
import type { TurnRecord } from './journals/records.js';
import type { Dispatcher } from './mailboxes/dispatch.js';
import { RelayEmitter, type RelayEventName, type RelayEvents } from './kernel/events.js';
import { FaultHandler } from './faults.js';
import { Guard } from './limits/guard.js';
import { HOOK_NOTICES_NAME, HookNoticeReader } from '../protocol/hook-notices.js';
import { Inbox } from './mailboxes/inbox.js';
import type { Intake } from './mailboxes/intake.js';
import { Ledger } from './journals/ledger.js';
import type { OperatorSource } from './kernel/source.js';
import { OperatorInput, type SubmitResult } from './operator/input.js';
import { Pauses } from './operator/pauses.js';
import { Pings } from './operator/pings.js';
import { housekeeping } from './housekeeping.js';
import type { ChatClient, ChatResult, Clock, Notifier, PhoneReplies, WatchFn } from './kernel/ports.js';
import { lookupPrice, type PriceLookup } from '../pricing/prices.js';
import type { RelaySnapshot } from './view/snapshot.js';
import type { RelayState } from '../protocol/status.js';
import { Store } from './view/publisher.js';
import { Timers } from './kernel/timers.js';
import { LiveCall } from './view/live-call.js';
import { projectCost, TurnRunner, type TurnInput, type TurnOutcome } from './turn/runner.js';
import { ViewState } from './view/view-state.js';
import type { HistoryPageQuery, TurnPage } from './journals/history-page.js';
import type { ConversationNote } from './journals/notes.js';
import { openDispatcher, openIntake, watchRoot } from './assemble.js';

/**
 * The relay: wiring, start-up in one order (the caller holds the lock -> recover every
 * recorded turn -> open intake -> scan), stop, and the loop: next turn -> run -> commit
 * | trip | error. No terminal, no React. Views read snapshot() and events; operator
 * input from every source enters through submit(). The durable steps are in commit.ts.
 */

export type { Notifier, PhoneReplies, SubmitResult };

export interface RelayOptions {
  paths: RootPaths;
  config: Config;
  chat: ChatClient;
  /** null when ntfy is not configured. */
  notifier: Notifier | null;
  topic: string | null;
  phone?: PhoneReplies | null;
  now?: Clock;
  watch?: WatchFn;
  /** The TUI: pause pings wait until the operator has been away ntfy.away_after_s. */
  interactive?: boolean;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A root fault (disk full) is retried after this, doubling up to faultRetryMaxMs. */
  faultRetryBaseMs?: number;
  faultRetryMaxMs?: number;
  /** Safety rescan and housekeeping period. */
  maintenanceMs?: number;
  statusMinIntervalMs?: number;
  /** Fault injection for the crash tests: called after each numbered commit step. */
  afterCommitStep?: (step: number, name: CommitStep) => void;
}

export class Relay {
  readonly events = new RelayEmitter();
  private readonly now: Clock;
  private readonly config: Config;
  private readonly timers = new Timers((where, err) => this.fault(err, where));
  private readonly live = new LiveCall();
  private readonly abort = new AbortController();
  private readonly conversation: Conversation;
  private readonly ledger: Ledger;
  private readonly auditLog: AuditLog;
  private readonly pings: Pings;
  private readonly pauses: Pauses;
  private readonly guard: Guard;
  private readonly intake: Intake;
  private readonly dispatcher: Dispatcher;
  private readonly operator: OperatorInput;
  private readonly committer: Committer;
  private readonly turns: TurnRunner;
  private readonly view: ViewState;
  private readonly store: Store;
  private readonly hookNotices: HookNoticeReader;
  private readonly price: PriceLookup;
  private ready = false;
  private looping = false;
  private again = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private unwatchers: Array<() => void> = [];
  private phoneSub: { close(): void } | null = null;
  private readonly faults: FaultHandler;

  constructor(private readonly o: RelayOptions) {
    const p = o.paths;
    const now = (this.now = o.now ?? Date.now);
    const config = (this.config = o.config);
    const cfg = () => this.config;
    const changed = (urgent?: boolean) => this.store.changed(urgent);
    const audit = (e: AuditEntry) => this.audit(e);
    this.price = lookupPrice(config.model, config.prices);
    this.conversation = new Conversation(p.conversation, path.join(p.state, 'archive'));
    this.ledger = new Ledger(p.ledger);
    this.auditLog = new AuditLog(p.audit);
    this.pings = new Pings({
      notifier: o.notifier,
      phone: o.phone ?? null,
      config: cfg,
      interactive: !!o.interactive,
      now,
      timers: this.timers,
      events: this.events,
    });
    this.pauses = new Pauses({
      file: p.control,
      root: p.root,
      now,
      lastSeq: this.conversation.nextSeq() - 1,
      audit,
      events: this.events,
      pings: this.pings,
      changed,
    });
    // The rate window from the ledger (per session, as Guard.recordTurn counts it): a summary does not shorten it.
    this.guard = this.pauses.guard = new Guard(
      () => config.guardrails,
      this.ledger,
      this.pauses.control.guard,
      now,
      this.ledger.turnsSince(now() - 3_600_000),
    );
    const watch = o.watch ?? watchDir;
    const run = (where: string, fn: () => void) => this.timers.run(where, fn);
    this.intake = openIntake(p, cfg, now, {
      registered: (s) => this.operator.isRegistered(s),
      rejected: (file, reason) => (this.events.emit('envelope:rejected', { file, reason }), changed()),
      queued: (e) => {
        if (this.intake.depth === 1) this.view.lastProgressAt = now();
        this.events.emit('envelope:queued', { file: e.name, session: e.session });
        changed();
        this.kick();
      },
      retry: (name, ms) => this.timers.after(ms, () => this.intake.look(name), { key: `look:${name}` }),
      fault: (f) => this.fault(f, 'queue'),
    });
    this.dispatcher = openDispatcher(p, now, watch, run, {
      written: (session, chars) => (
        (this.view.lastDispatch = { at: now(), session }),
        this.view.touch(session),
        this.events.emit('dispatch:written', { session, chars })
      ),
      acked: (session) => (this.view.touch(session), this.events.emit('dispatch:acked', { session })),
      waiting: (session, pending) => this.events.emit('dispatch:waiting', { session, pending }),
      changed,
      warn: (m) => this.log('warn', m),
      fault: (f) => this.fault(f, 'dispatch'),
      recovered: (session) => this.sessionRecovered(session),
    });
    const inbox = new Inbox(p.operatorInbox, p.jcInput, {
      maxBytes: () => this.config.limits.max_operator_input_bytes,
      onRefused: (file, reason) => this.inputRefused(file, reason),
      onFault: (f) => this.fault(f, 'operator input'),
    });
    const parts = {
      pauses: this.pauses,
      dispatcher: this.dispatcher,
      guard: this.guard,
      ledger: this.ledger,
      pings: this.pings,
      events: this.events,
      config: cfg,
      now,
    };
    this.operator = new OperatorInput({
      ...parts,
      inbox,
      audit,
      stopping: () => this.stopping,
      kick: () => this.kick(),
      changed,
      fault: (err) => this.fault(err, 'operator input'),
    });
    this.committer = new Committer({
      ...parts,
      queueDir: p.queue,
      inboxDir: p.operatorInbox,
      price: () => this.price,
      conversation: this.conversation,
      intake: this.intake,
      inputDone: (id) => this.operator.done(id),
      publish: () => this.store.changed(true),
      committed: (r, done) =>
        turnCommitted(
          {
            view: this.view,
            pauses: this.pauses,
            pings: this.pings,
            events: this.events,
            store: this.store,
            maxTokens: () => this.config.max_tokens,
          },
          r,
          done,
        ),
      afterStep: o.afterCommitStep,
    });
    this.turns = new TurnRunner({
      ...parts,
      chat: o.chat,
      price: () => this.price,
      conversation: this.conversation,
      signal: this.abort.signal,
      live: this.live,
      retryBaseMs: o.retryBaseMs ?? 2000,
      retryMaxMs: o.retryMaxMs ?? 60_000,
      project: (u) => this.projectCost(u),
      passSpent: () => this.pauses.save(),
      commitSummary: (r) => this.summarized(r),
      changed,
      touched: () => this.store.invalidate(),
    });
    this.view = new ViewState({
      ...parts,
      config: cfg,
      startedAt: now(),
      topic: o.topic,
      intake: this.intake,
      conversation: this.conversation,
      live: this.live,
      auditFile: p.audit,
    });
    this.store = new Store({
      now,
      timers: this.timers,
      minIntervalMs: o.statusMinIntervalMs ?? 250,
      build: () => this.view.snapshot(),
      write: (s) => writeAtomic(p.status, JSON.stringify(s, null, 2) + '\n', 0o644),
      onError: (m) => this.log('error', m),
    });
    this.hookNotices = new HookNoticeReader(path.join(p.state, HOOK_NOTICES_NAME));
    this.faults = new FaultHandler({
      root: p.root,
      controlFile: p.control,
      pauses: this.pauses,
      timers: this.timers,
      live: this.live,
      events: this.events,
      baseMs: o.faultRetryBaseMs ?? 2000,
      maxMs: o.faultRetryMaxMs ?? 60_000,
      kick: () => this.kick(),
      stopping: () => this.stopping,
    });
    this.events.on('state:changed', (e) => e.state === 'running' && (this.live.lastError = null));
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    const p = this.o.paths;
    try {
      for (const s of new Set([...this.config.sessions.map((x) => x.id), ...this.dispatcher.knownOnDisk()]))
        this.timers.run(`session ${s}`, () => this.dispatcher.ensure(s));
      // A restart is a retry of a root fault the last run stopped on.
      if (this.pauses.control.paused?.fault === 'root') this.pauses.setPause(null, 'relay');
      const n = this.committer.recover();
      if (n) this.log('warn', `recovered ${n} turn(s) whose reply was recorded before a crash; finished without calling the API again`);
    } catch (err) {
      this.fault(err, 'recovery');
    }
    this.hookNotices.skipExisting();
    this.unwatchers = watchRoot(
      p,
      this.o.watch ?? watchDir,
      (w, fn) => this.timers.run(w, fn),
      (m) => this.log('warn', m),
      {
        queue: (name) => (name === null ? this.intake.rescan() : this.intake.look(name)),
        operatorInput: () => this.operator.drain(),
        hookNotices: () => this.operator.hookNotices(this.hookNotices.readNew()),
      },
    );
    this.timers.run('start-up scan', () => (this.intake.rescan(), this.dispatcher.pumpAll()));
    this.ready = true;
    this.timers.run('operator input', () => this.operator.drain());
    this.timers.every(
      this.o.maintenanceMs ?? 30_000,
      () =>
        housekeeping({
          now: this.now,
          intake: this.intake,
          dispatcher: this.dispatcher,
          operator: this.operator,
          hookNotices: this.hookNotices,
          pauses: this.pauses,
          pings: this.pings,
          view: this.view,
          store: this.store,
          kick: () => this.kick(),
        }),
      'maintenance',
    );
    this.phoneSub = this.operator.startPhone();
    if (this.price.warning) this.log('warn', this.price.warning);
    if (this.conversation.badLines) this.log('warn', `${p.conversation}: ${this.conversation.badLines} unreadable line(s) skipped`);
    this.audit({ at: this.iso(), source: 'relay', action: 'start', detail: `pid ${process.pid}` });
    this.log('info', `relay started on ${p.root} (model ${this.config.model}, ${this.intake.depth} queued)`);
    this.pings.notify({
      title: 'relay-tui started',
      message: `${this.config.model}, ${this.intake.depth} queued, root ${p.root}`,
      priority: 2,
      tags: ['rocket'],
    });
    this.store.changed(true);
    this.kick();
  }

  /** Finishes the write in hand (the loop yields only between durable steps), aborts a call in flight. */
  async stop(): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    this.abort.abort();
    this.phoneSub?.close();
    await this.loopDone;
    for (const u of this.unwatchers) u();
    this.timers.stop();
    this.dispatcher.close();
    this.live.inflight = null;
    // The counters of the turns since the last save: a clean stop needs no replay.
    this.pauses.trySave();
    this.audit({ at: this.iso(), source: 'relay', action: 'stop' });
    this.store.flush();
    this.store.close();
    for (const c of [this.conversation, this.ledger, this.auditLog]) this.timers.run('close', () => c.close());
  }

  // ---------------------------------------------------------------- views

  snapshot = (): RelaySnapshot => this.store.snapshot();
  subscribe = (fn: () => void): (() => void) => this.store.subscribe(fn);
  on<K extends RelayEventName>(name: K, fn: (p: RelayEvents[K]) => void): () => void {
    return this.events.on(name, fn);
  }
  /** The whole conversation ever recorded, for scroll-back. Reads the archive on demand. */
  history(): TurnRecord[] {
    return this.conversation.fullHistory();
  }
  /** Scroll-back a page at a time: reads only the files' ends it needs (history-page.ts). */
  historyPage(q: HistoryPageQuery): TurnPage & { notes: ConversationNote[] } {
    const page = this.conversation.historyPage(q);
    return { ...page, notes: this.view.pageNotes(page.turns, page.nextAt) };
  }
  /** The TUI calls this on every keystroke: pause pings go to the phone only when the operator is away. */
  notePresence(): void {
    this.pings.notePresence();
  }
  state(): RelayState {
    return this.pauses.state();
  }
  /** The one entry point for operator input, from every source. */
  submit(text: string, source: OperatorSource): SubmitResult {
    return this.operator.submit(text, source);
  }
  /** Projected cost of the next call (and of a summary it needs first): an upper bound, see projection.ts. */
  projectCost(userText: string): number {
    const now = this.now();
    // 1-hour cache writes cost more: the projection prices the lifetime the call will use.
    const cacheWrite1h = this.turns.cacheWrite1h(userText, now);
    return projectCost(
      { conversation: this.conversation, config: this.config, price: this.price, warmSince: this.live.lastCallAt, now, cacheWrite1h },
      userText,
    );
  }

  // ---------------------------------------------------------------- the loop

  private kick(): void {
    if (!this.ready || this.stopping) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    // After the current task: a directory scan in progress finishes first, so the oldest envelope goes first.
    this.loopDone = Promise.resolve()
      .then(() => this.loop())
      .finally(() => (this.looping = false));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      while (!this.stopping) {
        let outcome: TurnOutcome | null = null;
        let turn: TurnInput | null = null;
        try {
          turn = this.nextTurn();
          if (turn) outcome = await this.turns.run(turn);
        } catch (err) {
          this.fault(err, 'turn');
        }
        if (!turn || !outcome || !this.settle(turn, outcome)) break;
      }
    } while (this.again && !this.stopping);
  }

  /** What to do next: a recorded turn still unfinished, then an operator turn, then the oldest envelope that may go. */
  private nextTurn(): TurnInput | null {
    const sp = this.pauses.control.session_pauses;
    const erred = () => this.pauses.control.paused?.reason === 'error';
    this.committer.finishPending((route) => !sp[route] && !erred());
    if (this.committer.unfinished && (erred() || this.committer.blocksAll())) return null;
    const busy = this.committer.pendingRoutes();
    const op = this.operator.turns[0];
    if (op && !this.operator.blocked(op.route) && !busy.has(op.route)) {
      const user = `${labelFor('operator', { registered: true, re: op.route })}\n${op.text}`;
      return { session: 'operator', route: op.route, source: 'operator', user, automatic: false, inputId: op.inputId, guardText: op.text };
    }
    if (this.state() !== 'running') return null;
    for (;;) {
      const e = this.intake.next((s) => !sp[s] && !busy.has(s));
      if (!e) return null;
      const loaded = this.intake.load(e);
      if (!loaded) continue;
      const { envelope, key } = loaded;
      const session = envelope.session_id;
      this.dispatcher.ensure(session);
      const user = `${labelFor(session, { registered: this.operator.isRegistered(session), timestamp: envelope.timestamp })}\n${envelope.content}`;
      return {
        session,
        route: session,
        source: envelope.source === 'hook' ? 'hook' : 'envelope',
        user,
        automatic: true,
        envelope: { file: e.name, key },
        guardText: envelope.content,
        ...(envelope.host ? { host: envelope.host } : {}),
      };
    }
  }

  /** Returns false when the loop should stop taking turns. */
  private settle(turn: TurnInput, outcome: TurnOutcome): boolean {
    try {
      switch (outcome.kind) {
        case 'answered':
          this.committer.commit(turn, outcome.result);
          this.faults.healthy();
          return true;
        case 'tripped':
          this.pauses.trip(outcome.trip);
          return true;
        case 'refused':
          this.pauses.apiError(outcome.call, turn.session, outcome.error.message, turn.inputId);
          return false;
        case 'aborted':
          return false;
      }
    } catch (err) {
      this.fault(err, 'commit');
      return false;
    }
  }

  private fault(err: unknown, where: string): void {
    this.faults.handle(err, where);
  }

  /** dispatch/<session>/ is usable again: its fault pause (and only a fault pause) ends, its replies flow. */
  private sessionRecovered(session: string): void {
    const sp = this.pauses.control.session_pauses[session];
    if (sp?.reason !== 'fault' || sp.fault !== 'session') return;
    this.pauses.clearSessionPause(session, 'relay');
    this.pauses.trySave();
    this.log('info', `${session}: its dispatch directory is usable again; resumed`);
    this.store.changed(true);
    this.kick();
  }

  /** Operator input set aside (a link, a FIFO, over the size limit): never sent, and the operator is told why. */
  private inputRefused(file: string, reason: string): void {
    this.log('warn', `operator input ${file} refused: ${reason}; set aside, not sent`);
    this.audit({ at: this.iso(), source: 'relay', action: 'input-refused', text: file, detail: reason });
    this.store.changed(true);
  }

  private summarized(result: ChatResult): void {
    const { replaced, kept, cost } = this.committer.commitSummary(result);
    this.audit({
      at: this.iso(),
      source: 'relay',
      action: 'summarize',
      detail: `replaced ${replaced} turns, kept ${kept}, $${cost.toFixed(4)}`,
    });
    this.events.emit('summary:done', { replacedTurns: replaced, keptTurns: kept, costUsd: cost });
    budgetWarnings(this.pings, this.guard.warnings());
    this.store.changed(true);
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.events.emit('log', { level, message });
  }

  /** Best effort: a full disk must not turn an audit line into a crash. */
  private audit(e: AuditEntry): void {
    try {
      this.auditLog.write(e);
      this.view?.audited(e);
    } catch (err) {
      this.log('error', `cannot write the audit log: ${(err as Error).message}`);
    }
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

export type { AuditEntry };
