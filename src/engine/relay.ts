import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ChatClient, ChatResult } from '../adapters/anthropic.js';
import { unlinkDurable, writeAtomic } from '../adapters/fs-atomic.js';
import type { NtfyAction, NtfyMessage, PublishResult } from '../adapters/ntfy.js';
import { watchDir, type WatchFn } from '../adapters/watch.js';
import type { Config } from '../config/schema.js';
import type { RootPaths } from '../root.js';
import { AuditLog, type AuditEntry } from './audit.js';
import { abortableSleep, callWithRetries } from './call.js';
import { loadControl, saveControl, type Control, type HeldReply, type PauseInfo } from './control.js';
import { Conversation, labelFor, type TurnRecord } from './conversation.js';
import { Dispatcher } from './dispatch.js';
import { RelayEmitter, type RelayEventName, type RelayEvents } from './events.js';
import { Guard, type Trip } from './guard.js';
import { Inbox, inboxTag, type InboxItem } from './inbox.js';
import { Intake, type QueuedEnvelope } from './intake.js';
import { formatNotice, HOOK_NOTICES_NAME, HookNoticeReader } from './hook-notices.js';
import { Ledger, localDay } from './ledger.js';
import { projectTurnCost } from './projection.js';
import { parseOperatorInput, type OperatorSource } from './operator.js';
import { costOf, lookupPrice, type PriceLookup } from './prices.js';
import { buildStatus, type RelaySnapshot, type TailEntry } from './snapshot.js';
import type { PauseReason, RelayState, Status } from './status.js';

/**
 * The relay: one state machine, no terminal, no React. Views read snapshot() and
 * events; every operator action from any source enters through submit().
 *
 * Durability rule for a turn, in this order: the ledger line (it was billed), the
 * conversation line (the reply exists), the reply made durable (outbox file or held
 * in control.json), the source removed (envelope or inbox file), then delivery. A
 * crash before the conversation line re-asks the API; after it, start-up finishes
 * the turn from the record without calling the API again.
 */

export interface Notifier {
  publish(msg: NtfyMessage): Promise<PublishResult>;
}

/**
 * Answering from the phone: pause pings carry buttons that publish to a second,
 * secret topic, which the relay subscribes to. The adapter is injected so tests
 * can use a local server.
 */
export interface PhoneReplies {
  /** server/topic of the reply topic: where the buttons publish, and what "Answer" opens. */
  replyUrl: string;
  /** Sent with the buttons' requests for a self-hosted server that needs it. */
  token?: string;
  subscribe(since: string, onMessage: (m: { id: string; message: string }) => void, onState: (s: { connected: boolean; error?: string }) => void): { close(): void };
}

export interface RelayOptions {
  paths: RootPaths;
  config: Config;
  chat: ChatClient;
  /** null when ntfy is not configured. */
  notifier: Notifier | null;
  topic: string | null;
  phone?: PhoneReplies | null;
  now?: () => number;
  watch?: WatchFn;
  /** The TUI: pause pings wait until the operator has been away ntfy.away_after_s. */
  interactive?: boolean;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Safety rescan and housekeeping period. */
  maintenanceMs?: number;
  statusMinIntervalMs?: number;
}

export interface SubmitResult {
  ok: boolean;
  message: string;
  quit?: boolean;
}

interface OperatorTurn {
  inputId: string;
  text: string;
  source: OperatorSource;
  route: string;
}

/** One turn about to be asked: who spoke, where the reply goes, and what to remove once it is durable. */
interface TurnInput {
  session: string;
  route: string;
  source: 'envelope' | 'operator' | 'hook';
  /** The labelled user message as sent. */
  user: string;
  /** false for a turn the operator started: only money limits apply. */
  automatic: boolean;
  envelope?: { file: string; key: string };
  inputId?: string;
  /** The unlabelled text, for the loop guard. */
  guardText: string;
}

const NEEDS_JC = '[NEEDS-JC]';
const TAIL_MAX = 200;
const STREAM_KEEP = 4000;
const STUCK_MS = 10 * 60_000;

export class Relay {
  readonly events = new RelayEmitter();
  private readonly now: () => number;
  private readonly watch: WatchFn;
  private readonly paths: RootPaths;
  private config: Config;
  private readonly conversation: Conversation;
  private readonly ledger: Ledger;
  private readonly audit: AuditLog;
  private readonly intake: Intake;
  private readonly dispatcher: Dispatcher;
  private readonly inbox: Inbox;
  private readonly guard: Guard;
  private control: Control;
  private price: PriceLookup;

  private readonly startedAt: number;
  private inflight: Status['inflight'] = null;
  private streamText = '';
  private retry: Status['retry'] = null;
  private lastError: string | null = null;
  private lastTurnCost: number | null = null;
  private lastDispatch: { at: number; session: string } | null = null;
  private lastProgressAt: number;
  /** When the last successful turn call started (0: none since start, or a summary since): what projectCost may assume cached. */
  private lastCallAt = 0;
  private lastKeystrokeAt: number;
  private tail: TailEntry[] = [];
  private activity = new Map<string, number>();
  private operatorTurns: OperatorTurn[] = [];
  private handledInputs = new Set<string>();

  private looping = false;
  private again = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private unwatchers: Array<() => void> = [];
  private timers = new Set<NodeJS.Timeout>();
  private deferredPing: { key: string; msg: NtfyMessage } | null = null;
  private phoneSub: { close(): void } | null = null;

  private listeners = new Set<() => void>();
  private cached: RelaySnapshot | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private lastStatusWrite = 0;
  private retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly hookNotices: HookNoticeReader;

  constructor(private readonly o: RelayOptions) {
    this.now = o.now ?? Date.now;
    this.watch = o.watch ?? watchDir;
    this.paths = o.paths;
    this.config = o.config;
    this.startedAt = this.now();
    this.lastProgressAt = this.now();
    this.lastKeystrokeAt = this.now();
    const p = o.paths;
    this.conversation = new Conversation(p.conversation, path.join(p.state, 'archive'));
    this.ledger = new Ledger(p.ledger);
    this.audit = new AuditLog(p.audit);
    this.control = loadControl(p.control);
    this.price = lookupPrice(this.config.model, this.config.prices);
    // The rate window from the ledger (per session, as Guard.recordTurn counts it): unlike the
    // conversation, a summary does not shorten it.
    const recent = this.ledger.turnsSince(this.now() - 3_600_000);
    this.guard = new Guard(() => this.config.guardrails, this.ledger, this.control.guard, this.now, recent);
    this.inbox = new Inbox(p.operatorInbox, p.jcInput);
    this.hookNotices = new HookNoticeReader(path.join(p.state, HOOK_NOTICES_NAME));
    this.intake = new Intake({
      queueDir: p.queue,
      rejectedDir: p.rejected,
      maxBytes: () => this.config.limits.max_envelope_bytes,
      isRegistered: (s) => this.isRegistered(s),
      strictSessions: () => this.config.strict_sessions,
      now: this.now,
      onRejected: (file, reason) => {
        this.emit('envelope:rejected', { file, reason });
        this.changed();
      },
      onQueued: (e) => {
        if (this.intake.depth === 1) this.lastProgressAt = this.now();
        this.emit('envelope:queued', { file: e.name, session: e.session });
        this.changed();
        this.kick();
      },
      scheduleRetry: (name, delayMs) => this.scheduleLook(name, delayMs),
    });
    this.dispatcher = new Dispatcher({
      outboxDir: p.outbox,
      dispatchDir: p.dispatch,
      watch: this.watch,
      now: this.now,
      onWritten: (session, chars) => {
        this.lastDispatch = { at: this.now(), session };
        this.touch(session);
        this.emit('dispatch:written', { session, chars });
      },
      onAcked: (session) => {
        this.touch(session);
        this.emit('dispatch:acked', { session });
      },
      onWaiting: (session, pending) => this.emit('dispatch:waiting', { session, pending }),
      onChange: () => this.changed(),
      onWatchError: (message) => this.log('warn', message),
    });
    for (const t of this.conversation.recentTurns(TAIL_MAX / 2)) this.pushTail(t);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    const p = this.paths;
    const sessions = new Set([...this.config.sessions.map((s) => s.id), ...this.dispatcher.knownOnDisk()]);
    for (const s of sessions) this.dispatcher.ensure(s);
    this.hookNotices.skipExisting();
    // Watch first, then list: a file that lands in between is seen by one or the other.
    const warn = (message: string) => this.log('warn', message);
    this.unwatchers.push(
      this.watch(p.queue, (name) => (name === null ? this.intake.rescan() : this.intake.look(name)), warn),
      this.watch(
        p.state,
        (name) => {
          if (name === null || name === path.basename(p.jcInput)) this.drainInbox();
          if (name === null || name === HOOK_NOTICES_NAME) this.showHookNotices();
        },
        warn,
      ),
      this.watch(p.operatorInbox, () => this.drainInbox(), warn),
    );
    this.intake.rescan();
    this.recover();
    this.dispatcher.pumpAll();
    this.drainInbox();
    this.every(this.o.maintenanceMs ?? 30_000, () => this.maintenance());
    this.startPhone();
    // Here rather than in the constructor: views attach their listeners between the two.
    if (!this.price.known) {
      this.log('warn', `model ${this.config.model} is not in the price table; priced as ${this.price.matched} (the most expensive) until config.yaml prices: says otherwise`);
    }
    if (this.conversation.badLines) this.log('warn', `${p.conversation}: ${this.conversation.badLines} unreadable line(s) skipped`);
    this.audit.write({ at: this.iso(), source: 'relay', action: 'start', detail: `pid ${process.pid}` });
    this.log('info', `relay started on ${p.root} (model ${this.config.model}, ${this.intake.depth} queued)`);
    this.notify({ title: 'relay-tui started', message: `${this.config.model}, ${this.intake.depth} queued, root ${p.root}`, priority: 2, tags: ['rocket'] });
    this.changed(true);
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
    for (const t of this.timers) clearTimeout(t);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.dispatcher.close();
    this.inflight = null;
    this.audit.write({ at: this.iso(), source: 'relay', action: 'stop' });
    this.flushStatus();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.conversation.close();
    this.ledger.close();
    this.audit.close();
  }

  // ---------------------------------------------------------------- views

  /** For useSyncExternalStore: the same object until something changes. */
  snapshot = (): RelaySnapshot => {
    if (!this.cached) {
      this.cached = {
        status: this.buildStatus(),
        tail: this.tail,
        streaming: this.streamText,
        topic: this.o.topic,
      };
    }
    return this.cached;
  };

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  on<K extends RelayEventName>(name: K, fn: (p: RelayEvents[K]) => void): () => void {
    return this.events.on(name, fn);
  }

  /** The whole conversation ever recorded, for scroll-back. Reads the archive on demand. */
  history(): TurnRecord[] {
    return this.conversation.fullHistory();
  }

  /** The TUI calls this on every keystroke: pause pings go to the phone only when the operator is away. */
  notePresence(): void {
    this.lastKeystrokeAt = this.now();
  }

  private emit<K extends RelayEventName>(name: K, payload: RelayEvents[K]): void {
    this.events.emit(name, payload);
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.emit('log', { level, message });
  }

  private changed(urgent = false): void {
    this.cached = null;
    for (const fn of this.listeners) {
      try {
        fn();
      } catch {
        /* a view's problem must not stop the relay */
      }
    }
    this.scheduleStatus(urgent);
  }

  private scheduleStatus(urgent: boolean): void {
    const min = this.o.statusMinIntervalMs ?? 250;
    const due = this.lastStatusWrite + min - this.now();
    if (urgent || due <= 0) {
      this.flushStatus();
      return;
    }
    if (!this.statusTimer) {
      this.statusTimer = setTimeout(() => {
        this.statusTimer = null;
        this.flushStatus();
      }, due);
    }
  }

  private flushStatus(): void {
    if (this.statusTimer) {
      clearTimeout(this.statusTimer);
      this.statusTimer = null;
    }
    this.lastStatusWrite = this.now();
    try {
      writeAtomic(this.paths.status, JSON.stringify(this.snapshot().status, null, 2) + '\n', 0o644);
    } catch (err) {
      this.log('error', `cannot write ${this.paths.status}: ${(err as Error).message}`);
    }
  }

  private buildStatus(): Status {
    return buildStatus({
      state: this.state(),
      control: this.control,
      config: this.config,
      startedAt: this.startedAt,
      now: this.now(),
      intake: this.intake,
      dispatcher: this.dispatcher,
      ledger: this.ledger,
      guard: this.guard,
      activity: this.activity,
      conversation: this.conversation,
      inflight: this.inflight,
      retry: this.retry,
      lastError: this.lastError,
      lastTurnCost: this.lastTurnCost,
      lastDispatch: this.lastDispatch,
      topic: this.o.topic,
    });
  }

  state(): RelayState {
    if (this.control.held?.reason === 'needs_jc') return 'needs_jc';
    if (this.control.paused?.reason === 'error') return 'error';
    if (this.control.paused || this.control.held) return 'paused';
    return 'running';
  }

  // ---------------------------------------------------------------- operator input

  /**
   * The one entry point for operator input, from every source. The input is made
   * durable in the inbox first, then applied in order.
   */
  submit(text: string, source: OperatorSource): SubmitResult {
    const id = this.inbox.add(text, source);
    const results = this.drainInbox();
    return results.get(id) ?? { ok: true, message: 'queued' };
  }

  private drainInbox(): Map<string, SubmitResult> {
    const results = new Map<string, SubmitResult>();
    if (this.stopping) return results;
    this.inbox.claimJcInput();
    for (const item of this.inbox.list()) {
      if (this.handledInputs.has(item.id)) continue;
      this.handledInputs.add(item.id);
      let result: SubmitResult;
      try {
        result = this.apply(item);
      } catch (err) {
        result = { ok: false, message: `failed: ${(err as Error).message}` };
        this.inbox.remove(item.id);
      }
      results.set(item.id, result);
      this.emit('operator:result', { source: item.source, input: item.text.trim(), ok: result.ok, message: result.message });
    }
    this.changed(true);
    this.kick();
    return results;
  }

  private auditOp(item: InboxItem, action: string, detail?: string): void {
    this.audit.write({ at: this.iso(), source: item.source, action, text: item.text.trim(), detail, input_id: item.id });
  }

  /** Applies one inbox item. Its effect is made durable before the inbox file is removed. */
  private apply(item: InboxItem): SubmitResult {
    const cmd = parseOperatorInput(item.text);
    const fromPhone = item.source === 'ntfy';
    const done = (r: SubmitResult, action: string, detail?: string): SubmitResult => {
      if (fromPhone) this.notify({ title: `relay-tui: ${r.ok ? '' : 'not done: '}${r.message}`.slice(0, 120), message: `${r.message}\n(your reply: ${item.text.trim().slice(0, 200)})`, priority: 2, tags: [r.ok ? 'white_check_mark' : 'x'] });
      this.auditOp(item, action, detail ?? r.message);
      if (!this.operatorTurns.some((t) => t.inputId === item.id)) {
        this.inbox.remove(item.id);
        this.handledInputs.delete(item.id);
      }
      return r;
    };
    const held = this.control.held;
    if (fromPhone) {
      const tag = inboxTag(item.id);
      if (tag && this.control.ntfy_seen.includes(tag)) {
        this.inbox.remove(item.id);
        this.handledInputs.delete(item.id);
        return { ok: true, message: 'already applied' };
      }
      if (tag) {
        this.control.ntfy_seen = [...this.control.ntfy_seen.slice(-199), tag];
        this.control.ntfy_since = tag;
        this.saveControl();
      }
      // Anyone who learns the reply topic can publish to it: free text counts only as the answer to an open pause.
      const open = held || this.control.paused || Object.keys(this.control.session_pauses).length;
      if (cmd.kind === 'answer' && !open) return done({ ok: false, message: 'no pause is open, so a typed answer from the phone was not sent' }, 'answer-refused');
    }
    switch (cmd.kind) {
      case 'invalid':
        return done({ ok: false, message: cmd.message }, 'invalid');
      case 'quit':
        if (item.source !== 'tui') return done({ ok: false, message: '/quit works only at the TUI prompt; stop a daemon with SIGTERM' }, 'quit-refused');
        return done({ ok: true, message: 'shutting down', quit: true }, 'quit');
      case 'dispatch': {
        // A session that is neither in config.yaml nor has ever spoken is most likely a typo.
        const known = this.isRegistered(cmd.session) || this.dispatcher.sessions().includes(cmd.session);
        if (!known) {
          const ids = [...new Set([...this.config.sessions.map((s) => s.id), ...this.dispatcher.sessions()])];
          return done({ ok: false, message: `unknown session ${cmd.session} (known: ${ids.join(', ') || 'none'}); add it to config.yaml sessions to write to it first` }, 'dispatch-refused');
        }
        this.dispatcher.enqueue(cmd.session, cmd.text, `op-${item.id}`);
        this.guard.operatorInput(cmd.session);
        this.resetHookChain(cmd.session);
        const cleared: string[] = [];
        if (held && held.session === cmd.session) {
          this.resolveHeld('dropped', item.source, `superseded by @${cmd.session}`);
          cleared.push(`held reply for ${cmd.session} dropped`);
        }
        if (this.clearSessionPause(cmd.session, item.source)) cleared.push(`${cmd.session} resumed`);
        if (this.control.paused && this.control.paused.reason !== 'error' && !this.control.held) {
          cleared.push(`relay resumed (was ${this.control.paused.reason})`);
          this.setPause(null, item.source);
        }
        this.saveControl();
        this.dispatcher.pump(cmd.session);
        const waiting = this.dispatcher.pending(cmd.session);
        const where = waiting > 0 ? `waiting until ${cmd.session} consumes input.txt (${waiting} queued)` : `written to dispatch/${cmd.session}/input.txt`;
        const msg = `dispatched to ${cmd.session}: ${where}${cleared.length ? `; ${cleared.join('; ')}` : ''}`;
        return done({ ok: true, message: msg }, 'dispatch');
      }
      case 'answer': {
        const route = held?.session ?? this.firstSession();
        if (held) this.resolveHeld('dropped', item.source, 'replaced by the operator\'s answer');
        this.operatorTurns.push({ inputId: item.id, text: cmd.text, source: item.source, route });
        this.guard.operatorInput(route);
        this.resetHookChain(route);
        if (this.control.paused?.reason === 'needs_jc') this.setPause(null, item.source);
        // operatorInput just reset the counters behind these two pauses: the session's run starts again.
        const sp = this.control.session_pauses[route];
        const resumed = !!sp && (sp.reason === 'auto_turns' || sp.reason === 'loop') && this.clearSessionPause(route, item.source);
        this.saveControl();
        return done({ ok: true, message: `sent to chat-Claude; the reply goes to ${route}${resumed ? `; ${route} resumed` : ''}` }, 'answer');
      }
      case 'approve': {
        if (!held) return done({ ok: false, message: this.staleCode(cmd.code) ?? 'nothing to approve' }, 'approve-none');
        if (cmd.code && cmd.code.toUpperCase() !== held.code) {
          return done({ ok: false, message: this.staleCode(cmd.code) ?? `code ${cmd.code} does not match the open pause` }, 'approve-stale');
        }
        this.dispatcher.enqueue(held.session, held.text, `t${held.seq}`);
        this.guard.operatorInput(held.session);
        this.resolveHeld('approved', item.source);
        this.saveControl();
        this.dispatcher.pump(held.session);
        return done({ ok: true, message: `approved: dispatched to ${held.session}` }, 'approve');
      }
      case 'drop': {
        if (!held) return done({ ok: false, message: this.staleCode(cmd.code) ?? 'nothing to drop' }, 'drop-none');
        if (cmd.code && cmd.code.toUpperCase() !== held.code) {
          return done({ ok: false, message: this.staleCode(cmd.code) ?? `code ${cmd.code} does not match the open pause` }, 'drop-stale');
        }
        this.guard.operatorInput(held.session);
        this.resolveHeld('dropped', item.source);
        this.saveControl();
        return done({ ok: true, message: `dropped the held reply for ${held.session}` }, 'drop');
      }
      case 'pause': {
        if (this.control.paused?.reason === 'operator') return done({ ok: true, message: 'already paused' }, 'pause');
        this.setPause({ reason: 'operator', message: `paused by the operator (${item.source})`, at: this.iso() }, item.source);
        this.saveControl();
        return done({ ok: true, message: 'paused: no envelope will be taken until /resume' }, 'pause');
      }
      case 'resume': {
        if (cmd.code) return done(this.resumeByCode(cmd.code, item.source), 'resume');
        const what: string[] = [];
        const p = this.control.paused;
        if (p) {
          if (isGuardReason(p.reason)) this.guard.passOnceFor({ reason: p.reason, session: p.session ?? '', scope: 'relay' });
          what.push(`relay (${p.reason})`);
          this.setPause(null, item.source);
        }
        for (const [s, sp] of Object.entries(this.control.session_pauses)) {
          if (isGuardReason(sp.reason)) this.guard.passOnceFor({ reason: sp.reason, session: s, scope: 'session' });
          this.clearSessionPause(s, item.source);
          what.push(`${s} (${sp.reason})`);
        }
        this.saveControl();
        if (held) {
          const suffix = what.length ? `resumed ${what.join(', ')}; ` : '';
          return done({ ok: false, message: `${suffix}a reply for ${held.session} is still held: /approve or /drop it` }, 'resume');
        }
        if (!what.length) return done({ ok: true, message: 'not paused' }, 'resume');
        return done({ ok: true, message: `resumed ${what.join(', ')}` }, 'resume');
      }
      case 'budget': {
        this.guard.setDayBudget(cmd.usd);
        const cleared = this.control.paused?.reason === 'budget_day';
        if (cleared) this.setPause(null, item.source);
        this.saveControl();
        const spent = this.ledger.day(localDay(this.now())).costUsd;
        return done({ ok: true, message: `today's budget is $${cmd.usd.toFixed(2)} ($${spent.toFixed(2)} spent)${cleared ? '; resumed' : ''}` }, 'budget');
      }
      case 'allow': {
        this.guard.allow(cmd.session, cmd.turns);
        const cleared = this.control.session_pauses[cmd.session]?.reason === 'auto_turns' && this.clearSessionPause(cmd.session, item.source);
        this.saveControl();
        return done({ ok: true, message: `${cmd.session} may take ${cmd.turns} more automatic turns${cleared ? '; resumed' : ''}` }, 'allow');
      }
    }
  }

  private staleCode(code: string | undefined): string | undefined {
    if (code && this.control.spent_codes.includes(code.toUpperCase())) return `code ${code.toUpperCase()} belongs to a pause that is already over`;
    return undefined;
  }

  private resolveHeld(how: 'approved' | 'dropped', source: OperatorSource, why?: string): void {
    const held = this.control.held;
    if (!held) return;
    this.control.held = null;
    this.spendCode(held.code);
    this.deferredPing = null;
    this.audit.write({ at: this.iso(), source, action: `held-${how}`, text: held.text.slice(0, 2000), detail: `${held.session} turn ${held.seq}${why ? `: ${why}` : ''}` });
    this.emit('state:changed', { state: this.state(), reason: this.control.paused?.reason ?? null, message: `held reply ${how}` });
  }

  /** A phone button's /resume CODE: resumes exactly the pause that carried the code. */
  private resumeByCode(raw: string, source: OperatorSource): SubmitResult {
    const code = raw.toUpperCase();
    const p = this.control.paused;
    if (p?.code === code) {
      if (isGuardReason(p.reason)) this.guard.passOnceFor({ reason: p.reason, session: p.session ?? '', scope: 'relay' });
      this.setPause(null, source);
      this.saveControl();
      return { ok: true, message: `resumed the relay (was ${p.reason})` };
    }
    for (const [s, sp] of Object.entries(this.control.session_pauses)) {
      if (sp.code !== code) continue;
      if (isGuardReason(sp.reason)) this.guard.passOnceFor({ reason: sp.reason, session: s, scope: 'session' });
      this.clearSessionPause(s, source);
      this.saveControl();
      return { ok: true, message: `resumed ${s} (was ${sp.reason})` };
    }
    return { ok: false, message: this.staleCode(code) ?? `code ${code} does not match an open pause` };
  }

  private spendCode(code: string | undefined): void {
    if (code) this.control.spent_codes = [...this.control.spent_codes.slice(-49), code];
  }

  private setPause(p: PauseInfo | null, source: OperatorSource | 'relay'): void {
    const prev = this.control.paused;
    if (prev && prev !== p) this.spendCode(prev.code);
    this.control.paused = p;
    this.audit.write({
      at: this.iso(),
      source,
      action: p ? 'pause' : 'resume',
      text: p ? p.message : prev?.message,
      detail: p ? p.reason : prev?.reason,
    });
    if (!p) {
      this.lastError = null;
      this.deferredPing = null;
    }
    this.emit('state:changed', { state: this.state(), reason: p?.reason ?? null, message: p?.message ?? null });
  }

  private clearSessionPause(session: string, source: OperatorSource | 'relay'): boolean {
    const sp = this.control.session_pauses[session];
    if (!sp) return false;
    delete this.control.session_pauses[session];
    this.spendCode(sp.code);
    // A ping still waiting for the operator to be away is about a pause that is now over.
    if (this.deferredPing?.key === `guard:${sp.reason}:${session}`) this.deferredPing = null;
    this.audit.write({ at: this.iso(), source, action: 'session-resume', text: sp.message, detail: `${session}: ${sp.reason}` });
    this.emit('session:resumed', { session });
    return true;
  }

  private resetHookChain(session: string): void {
    delete this.control.hook_chain[session];
  }

  private saveControl(): void {
    saveControl(this.paths.control, this.control);
    this.changed();
  }

  // ---------------------------------------------------------------- the loop

  private kick(): void {
    if (this.stopping) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    this.loopDone = this.loop().finally(() => {
      this.looping = false;
    });
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopping) {
          const op = this.operatorTurns[0];
          if (op && !this.operatorBlocked(op.route)) {
            await this.runOperatorTurn(op);
            continue;
          }
          if (this.state() !== 'running') break;
          const e = this.intake.next((s) => !this.control.session_pauses[s]);
          if (!e) break;
          const ran = await this.runEnvelopeTurn(e);
          if (!ran) break;
        }
      } while (this.again && !this.stopping);
    } catch (err) {
      this.lastError = `internal error: ${(err as Error).stack ?? err}`;
      this.log('error', this.lastError);
      this.setPause({ reason: 'error', message: `internal error: ${(err as Error).message}`, at: this.iso() }, 'relay');
      this.saveControl();
    }
  }

  /**
   * The operator's own turns run even while the relay is paused for them, but not
   * past an API error or a money limit: those wait (durably, in the inbox) for /resume.
   */
  private operatorBlocked(route: string): boolean {
    const p = this.control.paused;
    // A session paused by auto_turns, rate or loop does not hold the operator's own turn: those limits
    // are about turns with no human in them. Its money limit (budget_session) does.
    const sp = this.control.session_pauses[route];
    return (!!p && (p.reason === 'error' || isGuardReason(p.reason))) || (!!sp && !isOperatorExempt(sp.reason));
  }

  private async runOperatorTurn(op: OperatorTurn): Promise<void> {
    const user = `${labelFor('operator', { registered: true, re: op.route })}\n${op.text}`;
    const outcome = await this.runTurn({ session: 'operator', route: op.route, source: 'operator', user, automatic: false, inputId: op.inputId, guardText: op.text });
    if (outcome === 'done') {
      this.operatorTurns.shift();
      this.handledInputs.delete(op.inputId);
    }
  }

  /** Returns false when the loop should stop taking envelopes (paused, error). */
  private async runEnvelopeTurn(e: QueuedEnvelope): Promise<boolean> {
    const loaded = this.intake.load(e);
    if (!loaded) return true;
    const { envelope, key } = loaded;
    const session = envelope.session_id;
    this.dispatcher.ensure(session);
    const isHook = (envelope as any).source === 'hook';
    const user = `${labelFor(session, { registered: this.isRegistered(session), timestamp: envelope.timestamp })}\n${envelope.content}`;
    const outcome = await this.runTurn({
      session,
      route: session,
      source: isHook ? 'hook' : 'envelope',
      user,
      automatic: true,
      envelope: { file: e.name, key },
      guardText: envelope.content,
    });
    return outcome === 'done' || outcome === 'session-paused';
  }

  /** Projected cost of the next call (and of the summary it may need first), before it is made: an upper bound, see projection.ts. */
  projectCost(userText: string): number {
    const c = this.conversation;
    const h = this.config.history;
    const last = c.lastTurn;
    const summary = c.summaryRecord;
    const bytes = (texts: string[]) => texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    const system = Buffer.byteLength(this.config.system_prompt);
    // Measured by the API: the last turn's prompt and reply, unless a summary has replaced that prefix since.
    const measured = last && (!summary || last.seq > summary.seq) ? { historyTokens: last.history_tokens, replyTokens: last.usage.output_tokens } : null;
    const base = { model: this.config.model, max_tokens: this.config.max_tokens, system: this.config.system_prompt };
    return projectTurnCost({
      price: this.price.price,
      maxTokens: this.config.max_tokens,
      measured,
      historyBytes: measured ? 0 : system + bytes(c.request('', base).messages.map((m) => m.content)),
      userBytes: Buffer.byteLength(userText),
      warmSince: this.lastCallAt,
      now: this.now(),
      // The same condition as runTurn's: this turn summarizes first, and the check must cover both calls.
      summary:
        c.historyTokens > h.cap_tokens && c.turnCount > h.keep_recent
          ? {
              promptBytes: Buffer.byteLength(`[relay] ${h.summarization_prompt}`),
              maxTokens: Math.max(this.config.max_tokens, 2048),
              // System prompt, the summary's wrapper and the assistant's acknowledgement (200), the kept turns.
              afterBytes: system + 200 + bytes(c.recentTurns(h.keep_recent).flatMap((t) => [t.user, t.reply])),
            }
          : undefined,
    });
  }

  private async runTurn(t: TurnInput): Promise<'done' | 'paused' | 'session-paused' | 'retry-later'> {
    const projectedUsd = this.projectCost(t.user);
    const trip = this.guard.check({ session: t.route, projectedUsd, automatic: t.automatic, text: t.guardText });
    if (trip) {
      this.trip(trip);
      return trip.scope === 'session' ? 'session-paused' : t.automatic ? 'paused' : 'retry-later';
    }
    // Durable before the call: a kill -9 mid-call still counts it (at this projection) on the next start.
    this.ledger.reserve({ at: this.iso(), day: localDay(this.now()), session: t.route, projectedUsd });
    // Summarizing only helps when there are turns beyond keep_recent to fold away.
    if (this.conversation.historyTokens > this.config.history.cap_tokens && this.conversation.turnCount > this.config.history.keep_recent) {
      const ok = await this.summarize(t.route);
      if (!ok) return t.automatic ? 'paused' : 'retry-later';
    }
    const req = this.conversation.request(t.user, {
      model: this.config.model,
      max_tokens: this.config.max_tokens,
      system: this.config.system_prompt,
    });
    this.emit('turn:started', { session: t.session, kind: 'turn', source: t.source, file: t.envelope?.file });
    const result = await this.call('turn', t.session, req);
    if (!result) return t.automatic ? 'paused' : 'retry-later';
    this.commitTurn({ ...t, result });
    return 'done';
  }

  private async call(kind: 'turn' | 'summary', session: string, req: ReturnType<Conversation['request']>): Promise<ChatResult | null> {
    this.streamText = '';
    this.inflight = { kind, session, started_at: this.iso(), chars: 0, attempt: 0 };
    this.changed();
    const startedAt = this.now();
    const outcome = await callWithRetries(this.o.chat, req, {
      outerRetries: this.config.api.outer_retries,
      baseDelayMs: this.o.retryBaseMs ?? 2000,
      maxDelayMs: this.o.retryMaxMs ?? 60_000,
      signal: this.abort.signal,
      sleep: abortableSleep,
      onAttempt: (attempt) => {
        if (this.inflight) this.inflight = { ...this.inflight, attempt, chars: 0 };
        this.streamText = '';
        this.changed();
      },
      onText: (delta) => {
        this.streamText = (this.streamText + delta).slice(-STREAM_KEEP);
        if (this.inflight) this.inflight = { ...this.inflight, chars: this.inflight.chars + delta.length };
        this.emit('turn:delta', { session, chars: this.inflight?.chars ?? 0 });
        this.cached = null;
        for (const fn of this.listeners) fn();
      },
      onRetry: (info) => {
        this.retry = { attempt: info.attempt, of: info.of, message: info.message, next_at: new Date(this.now() + info.delayMs).toISOString() };
        this.log('warn', `API ${info.message}; retry ${info.attempt}/${info.of} in ${(info.delayMs / 1000).toFixed(1)} s`);
        this.emit('turn:retry', info);
        this.changed(true);
      },
    });
    this.inflight = null;
    this.retry = null;
    this.streamText = '';
    if (outcome.ok) {
      // What projectCost may assume is cached: a turn's prefix, from when its call started; a summary replaced it.
      this.lastCallAt = kind === 'turn' ? startedAt : 0;
      this.lastError = null;
      this.changed();
      return outcome.result;
    }
    if (outcome.aborted) {
      // Stopped mid-call: it may have been billed, so its reservation stays (counted on the next start).
      this.changed();
      return null;
    }
    // The API refused it: not billed, so its reservation is released (not counted after a restart).
    this.ledger.release();
    const message = outcome.error.message;
    this.lastError = message;
    this.emit('turn:failed', { session, message });
    const code = newCode();
    this.setPause({ reason: 'error', message: `API error (${kind} for ${session}): ${message}`, at: this.iso(), session, code }, 'relay');
    this.saveControl();
    this.pausePing('error', { title: 'relay-tui: API error, relay paused', message: `${message}\nNothing was dropped. /resume to try again.`, priority: 5, tags: ['warning'], actions: this.resumeButtons(code) });
    return null;
  }

  private trip(trip: Trip): void {
    const info: PauseInfo = { reason: trip.reason, message: trip.message, at: this.iso(), session: trip.session, code: newCode() };
    if (trip.scope === 'relay') {
      this.setPause(info, 'relay');
    } else {
      this.control.session_pauses[trip.session] = info;
      this.audit.write({ at: this.iso(), source: 'relay', action: 'session-pause', text: trip.message, detail: `${trip.session}: ${trip.reason}` });
      this.emit('session:paused', { session: trip.session, reason: trip.reason, message: trip.message });
    }
    this.saveControl();
    this.log('warn', `guardrail ${trip.reason}: ${trip.message}`);
    this.pausePing(`guard:${trip.reason}:${trip.session}`, {
      title: `relay-tui: ${trip.scope === 'session' ? `${trip.session} paused` : 'relay paused'} (${trip.reason})`,
      message: trip.message,
      priority: 5,
      tags: ['octagonal_sign'],
      actions: this.resumeButtons(info.code!),
    });
  }

  private commitTurn(t: TurnInput & { result: ChatResult }): void {
    const { usage } = t.result;
    const seq = this.conversation.nextSeq();
    const cost = costOf(usage, this.price.price);
    const at = this.iso();
    this.ledger.record({ at, day: localDay(this.now()), session: t.route, kind: 'turn', model: this.config.model, usage, cost_usd: cost, seq });
    const record: TurnRecord = {
      t: 'turn',
      seq,
      at,
      session: t.session,
      route: t.route,
      source: t.source,
      user: t.user,
      reply: t.result.text,
      usage,
      cost_usd: cost,
      model: t.result.model || this.config.model,
      history_tokens: usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens + usage.output_tokens,
      envelope: t.envelope,
      input_id: t.inputId,
    };
    this.conversation.append(record);
    this.lastTurnCost = cost;
    const warnings = this.guard.recordTurn({ session: t.route, automatic: t.automatic, text: t.guardText, reply: t.result.text });
    if (t.source === 'hook') this.control.hook_chain[t.route] = (this.control.hook_chain[t.route] ?? 0) + 1;
    // The guard's counters and the hook chain must survive a restart or a kill -9.
    this.saveControl();
    const held = this.deliverOrHold(record);
    this.removeSource(record);
    this.lastProgressAt = this.now();
    this.touch(t.route);
    if (t.session !== 'operator') this.touch(t.session);
    this.pushTail(record);
    const promptTokens = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens;
    this.emit('turn:completed', {
      seq,
      session: t.session,
      route: t.route,
      costUsd: cost,
      cacheHit: promptTokens ? usage.cache_read_input_tokens / promptTokens : 0,
      held,
      preview: t.result.text.slice(0, 200),
    });
    if (!held) this.dispatcher.pump(t.route);
    for (const w of warnings) this.notify({ title: 'relay-tui: budget warning', message: w.message, priority: 4, tags: ['moneybag'] });
    // Not urgent: a finished turn is not a state change, and status.json is rewritten at most
    // ~4/s (SPEC); writing it after every turn cost two fsyncs a turn (see BENCHMARKS.md).
    this.changed(held !== null);
  }

  /** A reply that needs the operator is held in control.json; any other goes to the outbox. */
  private deliverOrHold(record: TurnRecord): 'needs_jc' | 'approval' | null {
    const needsJc = record.reply.slice(0, 200).includes(NEEDS_JC);
    const approval = this.config.approval;
    const reason = needsJc && approval !== 'auto' ? 'needs_jc' : approval === 'all' ? 'approval' : null;
    if (!reason) {
      this.dispatcher.enqueue(record.route, record.reply, `t${record.seq}`);
      // approval: auto never holds, but the operator still hears about a question.
      if (needsJc) this.notify({ title: `relay-tui: ${record.route} asked for you (auto-approved)`, message: record.reply.slice(0, 400), priority: 4, tags: ['raising_hand'] });
      return null;
    }
    if (this.control.held?.seq === record.seq) return reason;
    const held: HeldReply = { seq: record.seq, session: record.route, text: record.reply, reason, at: record.at, code: newCode() };
    this.control.held = held;
    if (reason === 'needs_jc') this.control.last_needs_jc_text = record.reply;
    this.saveControl();
    this.audit.write({ at: this.iso(), source: 'relay', action: 'pause', text: record.reply.slice(0, 2000), detail: `${reason}: ${record.route} turn ${record.seq}` });
    this.emit('state:changed', { state: this.state(), reason, message: `${record.route}: ${record.reply.slice(0, 120)}` });
    const question = record.reply.replace(NEEDS_JC, '').trim();
    this.pausePing(`held:${record.seq}`, {
      title: reason === 'needs_jc' ? `relay-tui: ${record.route} needs you` : `relay-tui: reply for ${record.route} awaits approval`,
      message: `${question.slice(0, 400)}${question.length > 400 ? '…' : ''}\n\nApprove, drop or answer at the relay (code ${held.code}).`,
      priority: reason === 'needs_jc' ? 5 : 3,
      tags: ['raising_hand'],
      actions: this.heldButtons(held.code),
    });
    return reason;
  }

  private removeSource(record: TurnRecord): void {
    if (record.envelope) {
      unlinkDurable(path.join(this.paths.queue, record.envelope.file));
      this.intake.forget(record.envelope.file);
    }
    if (record.input_id) {
      this.inbox.remove(record.input_id);
      this.handledInputs.delete(record.input_id);
    }
  }

  private async summarize(session: string): Promise<boolean> {
    const prompt = `[relay] ${this.config.history.summarization_prompt}`;
    const req = this.conversation.request(prompt, { model: this.config.model, max_tokens: Math.max(this.config.max_tokens, 2048), system: this.config.system_prompt });
    this.emit('turn:started', { session, kind: 'summary', source: 'operator' });
    this.log('info', `conversation at ${this.conversation.historyTokens} tokens (cap ${this.config.history.cap_tokens}): summarizing`);
    const result = await this.call('summary', session, req);
    if (!result) return false;
    const cost = costOf(result.usage, this.price.price);
    this.ledger.record({ at: this.iso(), day: localDay(this.now()), session: 'relay', kind: 'summary', model: this.config.model, usage: result.usage, cost_usd: cost });
    const { replaced, kept } = this.conversation.replaceWithSummary(
      {
        at: this.iso(),
        text: result.text,
        // The next call's size: summary in, kept turns roughly as before; the next usage corrects it.
        history_tokens: result.usage.output_tokens + Math.ceil(this.config.system_prompt.length / 4),
        cost_usd: cost,
      },
      this.config.history.keep_recent,
    );
    this.audit.write({ at: this.iso(), source: 'relay', action: 'summarize', detail: `replaced ${replaced} turns, kept ${kept}, $${cost.toFixed(4)}` });
    this.emit('summary:done', { replacedTurns: replaced, keptTurns: kept, costUsd: cost });
    for (const w of this.guard.warnings()) this.notify({ title: 'relay-tui: budget warning', message: w.message, priority: 4, tags: ['moneybag'] });
    this.changed(true);
    return true;
  }

  // ---------------------------------------------------------------- recovery

  /**
   * After a crash: a turn whose reply was recorded but whose source (envelope or
   * operator input) is still there is finished from the record, not re-asked.
   */
  private recover(): void {
    const last = this.conversation.lastTurn;
    if (!last) return;
    let pending = false;
    if (last.envelope) {
      const file = path.join(this.paths.queue, last.envelope.file);
      const e = this.intake.has(last.envelope.file) ? this.intake.load({ name: last.envelope.file, mtimeMs: 0, size: 0, session: last.route }) : undefined;
      pending = !!e && e.key === last.envelope.key && fs.existsSync(file);
    }
    if (last.input_id) pending = fs.existsSync(path.join(this.paths.operatorInbox, `${last.input_id}.txt`));
    if (!pending) return;
    this.log('warn', `recovering turn ${last.seq} for ${last.route}: its reply was recorded before a crash; finishing it without calling the API again`);
    this.deliverOrHold(last);
    this.removeSource(last);
    this.pushTail(last);
  }

  // ---------------------------------------------------------------- housekeeping

  private every(ms: number, fn: () => void): void {
    const tick = () => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.stopping) return;
        fn();
        tick();
      }, ms);
      t.unref?.();
      this.timers.add(t);
    };
    tick();
  }

  private scheduleLook(name: string, delayMs: number): void {
    if (this.retryTimers.has(name) || this.stopping) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(name);
      this.intake.look(name);
    }, delayMs);
    this.retryTimers.set(name, t);
  }

  /** Notices from Claude Code hooks (state/hook-notices.jsonl): a chain cap, a permission prompt. */
  private showHookNotices(): void {
    for (const n of this.hookNotices.readNew()) this.log('warn', formatNotice(n));
  }

  /** The slow safety net for missed watcher events, the stuck-queue ping, and the date rolling over. */
  private maintenance(): void {
    this.showHookNotices();
    this.intake.rescan();
    this.drainInbox();
    this.dispatcher.pumpAll();
    const depth = this.intake.depth;
    if (depth > 0 && this.now() - this.lastProgressAt >= STUCK_MS) {
      const lastPing = this.control.last_stuck_ping_at ?? 0;
      if (this.now() - lastPing >= STUCK_MS) {
        this.control.last_stuck_ping_at = this.now();
        this.saveControl();
        const why = this.state() === 'running' ? (Object.keys(this.control.session_pauses).length ? 'sessions paused' : 'busy') : `${this.state()}: ${this.control.paused?.message ?? this.control.held?.session ?? ''}`;
        this.notify({ title: 'relay-tui: queue stuck', message: `${depth} envelope(s) waiting for ${Math.round((this.now() - this.lastProgressAt) / 60_000)} min (${why})`, priority: 5, tags: ['hourglass'] });
      }
    }
    this.changed();
    this.kick();
  }

  // ---------------------------------------------------------------- notifications

  private notify(msg: NtfyMessage): void {
    const n = this.o.notifier;
    if (!n) return;
    const title = msg.title ?? '';
    const priority = typeof msg.priority === 'number' ? msg.priority : 3;
    n.publish(msg).then(
      (r) => {
        if (r.ok) this.emit('notify:sent', { title, priority });
        else this.emit('notify:failed', { title, error: r.error ?? `status ${r.status}` });
      },
      (err) => this.emit('notify:failed', { title, error: String(err) }),
    );
  }

  /**
   * A pause ping. Headless always pings. The TUI pings only once the operator has
   * been away (no keystroke) for ntfy.away_after_s, re-checking until the pause ends.
   */
  private pausePing(key: string, msg: NtfyMessage): void {
    if (!this.o.interactive || this.config.ntfy.always) return this.notify(msg);
    this.deferredPing = { key, msg };
    const check = () => {
      if (this.stopping || this.deferredPing?.key !== key) return;
      const awayMs = this.config.ntfy.away_after_s * 1000;
      const idle = this.now() - this.lastKeystrokeAt;
      if (idle >= awayMs) {
        this.deferredPing = null;
        this.notify(msg);
        return;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        check();
      }, awayMs - idle + 10);
      this.timers.add(t);
    };
    check();
  }

  // ---------------------------------------------------------------- the phone

  private phoneOn(): PhoneReplies | null {
    return this.o.phone && this.config.ntfy.accept_replies ? this.o.phone : null;
  }

  private startPhone(): void {
    const phone = this.phoneOn();
    if (!phone) return;
    if (!this.control.ntfy_since) {
      // First time replies are accepted: nothing older than now counts.
      this.control.ntfy_since = String(Math.floor(this.now() / 1000));
      this.saveControl();
    }
    this.phoneSub = phone.subscribe(
      this.control.ntfy_since,
      (m) => {
        const tag = m.id.replace(/[^A-Za-z0-9]/g, '');
        if (this.stopping || this.control.ntfy_seen.includes(tag)) return;
        this.inbox.add(m.message, 'ntfy', tag);
        this.drainInbox();
      },
      (s) => this.log(s.connected ? 'info' : 'warn', s.connected ? 'phone replies: subscribed to the reply topic' : `phone replies: disconnected (${s.error ?? 'stream ended'}), reconnecting`),
    );
  }

  private publishButton(label: string, body: string): NtfyAction {
    const phone = this.phoneOn()!;
    return { action: 'http', label, url: phone.replyUrl, method: 'POST', body, clear: true, ...(phone.token ? { headers: { Authorization: `Bearer ${phone.token}` } } : {}) };
  }

  /** Approve, Drop, and Answer (opens the reply topic, where the operator can type). At most three: ntfy's limit. */
  private heldButtons(code: string): NtfyAction[] | undefined {
    const phone = this.phoneOn();
    if (!phone) return undefined;
    return [this.publishButton('Approve', `/approve ${code}`), this.publishButton('Drop', `/drop ${code}`), { action: 'view', label: 'Answer', url: phone.replyUrl }];
  }

  private resumeButtons(code: string): NtfyAction[] | undefined {
    const phone = this.phoneOn();
    if (!phone) return undefined;
    return [this.publishButton('Resume once', `/resume ${code}`), { action: 'view', label: 'Answer', url: phone.replyUrl }];
  }

  // ---------------------------------------------------------------- small helpers

  private isRegistered(session: string): boolean {
    return this.config.sessions.some((s) => s.id === session);
  }

  private firstSession(): string {
    return this.config.sessions[0]?.id ?? 'session-1';
  }

  private touch(session: string): void {
    this.activity.set(session, this.now());
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private pushTail(t: TurnRecord): void {
    this.tail = [...this.tail, { seq: t.seq, at: t.at, session: t.session, route: t.route, user: t.user, reply: t.reply, costUsd: t.cost_usd }].slice(-TAIL_MAX);
  }
}

function newCode(): string {
  return crypto.randomBytes(3).toString('hex').toUpperCase();
}

function isGuardReason(r: PauseReason): r is Trip['reason'] {
  return ['budget_day', 'budget_session', 'turn_cost', 'auto_turns', 'rate', 'loop'].includes(r);
}

/** Limits on turns with no human in them: they never hold a turn the operator started. */
function isOperatorExempt(r: PauseReason): boolean {
  return r === 'auto_turns' || r === 'rate' || r === 'loop';
}

export type { AuditEntry };
