import path from 'node:path';
import { writeAtomic } from '../fs/atomic.js';
import { changedFiles, watchDir } from '../fs/watch.js';
import type { Config } from '../config/schema.js';
import type { RootPaths } from '../protocol/root.js';
import { HOOK_NOTICES_NAME, HookNoticeReader } from '../protocol/hook-notices.js';
import { lookupPrice, type PriceLookup } from '../pricing/prices.js';
import { RelayEmitter } from './kernel/events.js';
import { API_IDENTITY, isoNow, type ChatClient, type Clock, type Notifier, type PhoneReplies, type WatchFn } from './kernel/ports.js';
import { Timers } from './kernel/timers.js';
import { Dispatcher } from './mailboxes/dispatch.js';
import { Inbox } from './mailboxes/inbox.js';
import { Intake } from './mailboxes/intake.js';
import { AuditLog, type AuditEntry } from './journals/audit.js';
import { Conversation } from './journals/conversation.js';
import { Ledger } from './journals/ledger.js';
import { Guard } from './limits/guard.js';
import { OperatorInput } from './operator/input.js';
import { Pauses } from './operator/pauses.js';
import { Pings } from './operator/pings.js';
import { LiveCall } from './view/live-call.js';
import { Store } from './view/publisher.js';
import { ViewState } from './view/view-state.js';
import { summaryCommitted, turnCommitted } from './turn/after-turn.js';
import { Committer, type CommitStep } from './turn/commit.js';
import { NextTurn } from './turn/next.js';
import { Batcher } from './turn/batch.js';
import { TurnRunner } from './turn/runner.js';
import { FaultHandler } from './faults.js';
import type { SupersedeStep } from './operator/supersede.js';
import { operatorResultsDir } from './operator/verdicts.js';

/**
 * Builds the relay's parts and wires them to each other, once, in the order they need
 * each other. The loop (relay.ts) hands in the two things only it knows: how to wake
 * it (kick) and whether it is stopping. Every watcher and part callback that can throw
 * runs through the timers' guard, which turns a throw into a fault (faults.ts).
 */

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
  /** Called after each durable step of a redirect's superseding: fault injection in the crash tests. */
  afterSupersedeStep?: (step: number, name: SupersedeStep) => void;
}

/** What only the loop knows. */
export interface LoopControl {
  kick(): void;
  stopping(): boolean;
}

export interface Parts {
  now: Clock;
  watch: WatchFn;
  config: Config;
  price: PriceLookup;
  events: RelayEmitter;
  timers: Timers;
  live: LiveCall;
  abort: AbortController;
  conversation: Conversation;
  ledger: Ledger;
  auditLog: AuditLog;
  pings: Pings;
  pauses: Pauses;
  guard: Guard;
  intake: Intake;
  dispatcher: Dispatcher;
  operator: OperatorInput;
  committer: Committer;
  turns: TurnRunner;
  nextTurn: NextTurn;
  batcher: Batcher;
  view: ViewState;
  store: Store;
  hookNotices: HookNoticeReader;
  faults: FaultHandler;
  /** Best effort: a full disk must not turn an audit line into a crash. */
  audit(e: AuditEntry): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  fault(err: unknown, where: string): void;
}

export function assemble(o: RelayOptions, loop: LoopControl): Parts {
  const p = o.paths;
  const now = o.now ?? Date.now;
  const config = o.config;
  const cfg = () => config;
  const events = new RelayEmitter();
  const log = (level: 'info' | 'warn' | 'error', message: string) => events.emit('log', { level, message });
  // Parts built further down are used only from callbacks, which run after this returns.
  const fault = (err: unknown, where: string) => faults.handle(err, where);
  const changed = (urgent?: boolean) => store.changed(urgent);
  const audit = (e: AuditEntry) => {
    try {
      auditLog.write(e);
      view.audited(e);
    } catch (err) {
      log('error', `cannot write the audit log: ${(err as Error).message}`);
    }
  };
  const timers = new Timers((where, err) => fault(err, where));
  const run = (where: string, fn: () => void) => timers.run(where, fn);
  const watch = o.watch ?? watchDir;
  const live = new LiveCall();
  const abort = new AbortController();
  const price = lookupPrice(config.model, config.prices);
  const conversation = new Conversation(p.conversation, path.join(p.state, 'archive'));
  const ledger = new Ledger(p.ledger);
  const auditLog = new AuditLog(p.audit);
  const pings = new Pings({ notifier: o.notifier, phone: o.phone ?? null, config: cfg, interactive: !!o.interactive, now, timers, events });
  const pauses = new Pauses({
    file: p.control,
    root: p.root,
    now,
    lastSeq: conversation.nextSeq() - 1,
    audit,
    events,
    pings,
    changed,
    onQuestion: () => config.on_question,
  });
  // The rate window from the ledger (per session, as Guard.recordTurn counts it): a summary does not shorten it.
  const guard = (pauses.guard = new Guard(
    () => config.guardrails,
    ledger,
    pauses.control.guard,
    now,
    ledger.turnsSince(now() - 3_600_000),
  ));
  const intake: Intake = new Intake({
    queueDir: p.queue,
    rejectedDir: p.rejected,
    maxBytes: () => config.limits.max_envelope_bytes,
    isRegistered: (s) => operator.isRegistered(s),
    strictSessions: () => config.strict_sessions,
    now,
    onRejected: (file, reason) => (events.emit('envelope:rejected', { file, reason }), changed()),
    onQueued: (e) => {
      if (intake.depth === 1) view.lastProgressAt = now();
      events.emit('envelope:queued', { file: e.name, session: e.session });
      changed();
      loop.kick();
    },
    scheduleRetry: (name, ms) => timers.after(ms, () => intake.look(name), { key: `look:${name}` }),
    onFault: (f) => fault(f, 'queue'),
  });
  const dispatcher = new Dispatcher({
    outboxDir: p.outbox,
    dispatchDir: p.dispatch,
    // Ack watchers pump from their own callbacks: a fault there must pause, not crash.
    watch: (dir, fn, onError) => watch(dir, (name) => run(`watch ${dir}`, () => fn(name)), onError),
    now,
    onWritten: (session, chars) => {
      view.lastDispatch = { at: now(), session };
      view.touch(session);
      events.emit('dispatch:written', { session, chars });
    },
    onAcked: (session) => (view.touch(session), events.emit('dispatch:acked', { session })),
    onWaiting: (session, pending) => events.emit('dispatch:waiting', { session, pending }),
    onChange: () => changed(),
    onWatchError: (m) => log('warn', m),
    // A SessionFault pauses that session alone; a RootFault puts the relay in state error (faults.ts).
    onFault: (f) => fault(f, 'dispatch'),
    // dispatch/<session>/ is usable again: its fault pause (and only a fault pause) ends, its replies flow.
    onRecovered: (session) => {
      const sp = pauses.control.session_pauses[session];
      if (sp?.reason !== 'fault' || sp.fault !== 'session') return;
      pauses.clearSessionPause(session, 'relay');
      pauses.trySave();
      log('info', `${session}: its dispatch directory is usable again; resumed`);
      store.changed(true);
      loop.kick();
    },
  });
  const inbox = new Inbox(p.operatorInbox, p.jcInput, {
    maxBytes: () => config.limits.max_operator_input_bytes,
    // Set aside (a link, a FIFO, over the size limit): never sent, and the operator is told why.
    onRefused: (file, reason) => {
      log('warn', `operator input ${file} refused: ${reason}; set aside, not sent`);
      audit({ at: isoNow(now), source: 'relay', action: 'input-refused', text: file, detail: reason });
      store.changed(true);
    },
    onFault: (f) => fault(f, 'operator input'),
  });
  const shared = { pauses, dispatcher, guard, ledger, pings, events, config: cfg, now };
  const operator = new OperatorInput({
    ...shared,
    inbox,
    intake,
    resultsDir: operatorResultsDir(p),
    // Envelopes of turns recorded but not finished are the committer's to finish, not a redirect's to set aside.
    ownedEnvelopes: () => committer.ownedEnvelopes(),
    afterSupersedeStep: o.afterSupersedeStep,
    audit,
    stopping: () => loop.stopping(),
    kick: () => loop.kick(),
    changed,
    fault: (err) => fault(err, 'operator input'),
  });
  const after = () => ({ view, pauses, pings, events, store, guard, now, audit, maxTokens: () => config.max_tokens });
  const committer = new Committer({
    ...shared,
    queueDir: p.queue,
    inboxDir: p.operatorInbox,
    price: () => price,
    conversation,
    intake,
    inputDone: (id) => operator.done(id),
    publish: () => store.changed(true),
    committed: (r, done) => turnCommitted(after(), r, done),
    summarized: (s) => summaryCommitted(after(), s),
    afterStep: o.afterCommitStep,
  });
  const turns = new TurnRunner({
    ...shared,
    chat: o.chat,
    price: () => price,
    conversation,
    signal: abort.signal,
    live,
    retryBaseMs: o.retryBaseMs ?? 2000,
    retryMaxMs: o.retryMaxMs ?? 60_000,
    passSpent: () => pauses.save(),
    committer,
    changed,
    touched: () => store.invalidate(),
  });
  const batcher = new Batcher({ ...shared, price: () => price, conversation, committer, log });
  const nextTurn = new NextTurn({ committer, pauses, operator, intake, dispatcher, batcher });
  const view: ViewState = new ViewState({
    ...shared,
    startedAt: now(),
    topic: o.topic,
    intake,
    conversation,
    live,
    chat: () => o.chat.describe?.() ?? API_IDENTITY,
    auditFile: p.audit,
  });
  const store: Store = new Store({
    now,
    timers,
    minIntervalMs: o.statusMinIntervalMs ?? 250,
    build: () => view.snapshot(),
    write: (s) => writeAtomic(p.status, JSON.stringify(s, null, 2) + '\n', 0o644),
    onError: (m) => log('error', m),
  });
  const hookNotices = new HookNoticeReader(path.join(p.state, HOOK_NOTICES_NAME));
  const faults: FaultHandler = new FaultHandler({
    root: p.root,
    controlFile: p.control,
    pauses,
    timers,
    live,
    events,
    baseMs: o.faultRetryBaseMs ?? 2000,
    maxMs: o.faultRetryMaxMs ?? 60_000,
    kick: () => loop.kick(),
    stopping: () => loop.stopping(),
  });
  events.on('state:changed', (e) => e.state === 'running' && (live.lastError = null));
  return {
    now,
    watch,
    config,
    price,
    events,
    timers,
    live,
    abort,
    conversation,
    ledger,
    auditLog,
    pings,
    pauses,
    guard,
    intake,
    dispatcher,
    operator,
    committer,
    turns,
    nextTurn,
    batcher,
    view,
    store,
    hookNotices,
    faults,
    audit,
    log,
    fault,
  };
}

/** Watch first, then list: a file that lands in between is seen by one or the other. Returns the unwatchers. */
export function watchRoot(
  p: RootPaths,
  watch: WatchFn,
  run: (where: string, fn: () => void) => void,
  warn: (m: string) => void,
  h: { queue(name: string | null): void; operatorInput(): void; hookNotices(): void },
): Array<() => void> {
  const guarded = (dir: string, fn: (name: string | null) => void) => watch(dir, (n) => run(`watch ${dir}`, () => fn(n)), warn);
  // A nameless event (macOS, some filesystems) in state/ is most often the relay's own status write.
  const stateChanged = changedFiles(p.state, [path.basename(p.jcInput), HOOK_NOTICES_NAME]);
  return [
    guarded(p.queue, (name) => h.queue(name)),
    guarded(p.state, (name) => {
      const names = name === null ? stateChanged() : [name];
      if (names.includes(path.basename(p.jcInput))) h.operatorInput();
      if (names.includes(HOOK_NOTICES_NAME)) h.hookNotices();
    }),
    guarded(p.operatorInbox, () => h.operatorInput()),
  ];
}
