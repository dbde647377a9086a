import type { RelayState } from '../protocol/status.js';
import type { RelayEmitter, RelayEventName, RelayEvents } from './kernel/events.js';
import { isoNow, type Notifier, type PhoneReplies } from './kernel/ports.js';
import type { OperatorSource } from './kernel/source.js';
import type { AuditEntry } from './journals/audit.js';
import type { HistoryPageQuery, TurnPage } from './journals/history-page.js';
import type { ConversationNote } from './journals/notes.js';
import type { SubmitOptions, SubmitResult } from './operator/commands.js';
import { operatorResultsDir } from './operator/verdicts.js';
import type { RelaySnapshot } from './view/snapshot.js';
import { isBatch, type BatchInput, type TurnInput, type TurnOutcome } from './turn/turn-input.js';
import { assemble, watchRoot, type Parts, type RelayOptions } from './assemble.js';
import { housekeeping } from './housekeeping.js';
import { armUsageLimitResume, pauseForUsageLimit } from './operator/usage-limit.js';

/**
 * The relay: start-up in one order (the caller holds the lock -> recover every recorded
 * turn -> open intake -> scan), stop, and the loop: next() -> turn -> commit | trip |
 * error. The parts are built and wired in assemble.ts; the durable steps are in
 * turn/commit.ts. No terminal, no React. Views read snapshot() and events; operator
 * input from every source enters through submit().
 */

export type { AuditEntry, Notifier, PhoneReplies, RelayOptions, SubmitResult };

export class Relay {
  readonly events: RelayEmitter;
  private readonly p: Parts;
  private ready = false;
  private looping = false;
  private again = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private unwatchers: Array<() => void> = [];
  private phoneSub: { close(): void } | null = null;

  constructor(private readonly o: RelayOptions) {
    this.p = assemble(o, { kick: () => this.kick(), stopping: () => this.stopping });
    this.events = this.p.events;
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    const { paths } = this.o;
    const p = this.p;
    try {
      for (const s of new Set([...p.config.sessions.map((x) => x.id), ...p.dispatcher.knownOnDisk()]))
        p.timers.run(`session ${s}`, () => p.dispatcher.ensure(s));
      // A restart is a retry of a root fault the last run stopped on.
      if (p.pauses.control.paused?.fault === 'root') p.pauses.setPause(null, 'relay');
      const n = p.committer.recover();
      if (n) p.log('warn', `recovered ${n} turn(s) whose reply was recorded before a crash; finished without calling the API again`);
    } catch (err) {
      p.fault(err, 'recovery');
    }
    // A usage-limit pause from before the restart still ends at its reset time (at once if that has passed).
    armUsageLimitResume({ ...p, kick: () => this.kick() });
    p.hookNotices.skipExisting();
    this.unwatchers = watchRoot(
      paths,
      p.watch,
      (w, fn) => p.timers.run(w, fn),
      (m) => p.log('warn', m),
      {
        queue: (name) => (name === null ? p.intake.rescan() : p.intake.look(name)),
        operatorInput: () => p.operator.drain(),
        hookNotices: () => p.operator.hookNotices(p.hookNotices.readNew()),
      },
    );
    p.timers.run('start-up scan', () => (p.intake.rescan(), p.dispatcher.pumpAll()));
    this.ready = true;
    p.timers.run('operator input', () => p.operator.drain());
    p.timers.every(
      this.o.maintenanceMs ?? 30_000,
      () => housekeeping({ ...p, kick: () => this.kick(), resultsDir: operatorResultsDir(this.o.paths) }),
      'maintenance',
    );
    this.phoneSub = p.operator.startPhone();
    if (p.price.warning) p.log('warn', p.price.warning);
    if (p.conversation.badLines) p.log('warn', `${paths.conversation}: ${p.conversation.badLines} unreadable line(s) skipped`);
    p.audit({ at: isoNow(p.now), source: 'relay', action: 'start', detail: `pid ${process.pid}` });
    p.log('info', `relay started on ${paths.root} (model ${p.config.model}, ${p.intake.depth} queued)`);
    p.pings.notify({
      title: 'relay-tui started',
      message: `${p.config.model}, ${p.intake.depth} queued, root ${paths.root}`,
      priority: 2,
      tags: ['rocket'],
    });
    p.store.changed(true);
    this.kick();
  }

  /** Finishes the write in hand (the loop yields only between durable steps), aborts a call in flight. */
  async stop(): Promise<void> {
    if (this.stopping) return this.loopDone;
    const p = this.p;
    this.stopping = true;
    p.abort.abort();
    this.phoneSub?.close();
    await this.loopDone;
    for (const u of this.unwatchers) u();
    p.timers.stop();
    p.dispatcher.close();
    p.live.inflight = null;
    // The counters of the turns since the last save: a clean stop needs no replay.
    p.pauses.trySave();
    p.audit({ at: isoNow(p.now), source: 'relay', action: 'stop' });
    // The last status.json says so: one left saying `running` is a relay that died.
    p.view.stopped = true;
    p.store.changed(true);
    p.store.close();
    for (const c of [p.conversation, p.ledger, p.auditLog]) p.timers.run('close', () => c.close());
  }

  // ---------------------------------------------------------------- views

  snapshot = (): RelaySnapshot => this.p.store.snapshot();
  subscribe = (fn: () => void): (() => void) => this.p.store.subscribe(fn);
  on<K extends RelayEventName>(name: K, fn: (p: RelayEvents[K]) => void): () => void {
    return this.p.events.on(name, fn);
  }
  /** Scroll-back a page at a time: reads only the files' ends it needs (history-page.ts). */
  historyPage(q: HistoryPageQuery): TurnPage & { notes: ConversationNote[] } {
    const page = this.p.conversation.historyPage(q);
    return { ...page, notes: this.p.view.pageNotes(page.turns, page.nextAt) };
  }
  /** The TUI calls this on every keystroke: pause pings go to the phone only when the operator is away. */
  notePresence(): void {
    this.p.pings.notePresence();
  }
  state(): RelayState {
    return this.p.pauses.state();
  }
  /** The one entry point for operator input, from every source. */
  submit(text: string, source: OperatorSource, opts?: SubmitOptions): SubmitResult {
    return this.p.operator.submit(text, source, opts);
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
        let turn: TurnInput | BatchInput | null = null;
        try {
          turn = this.p.nextTurn.next();
          if (turn) outcome = await this.p.turns.run(turn);
          // A batch a limit would stop goes one by one, starting with its first turn, through the usual checks.
          if (turn && isBatch(turn) && outcome?.kind === 'unbatch') outcome = await this.p.turns.run((turn = turn.turns[0]));
        } catch (err) {
          this.p.fault(err, 'turn');
        }
        if (!turn || !outcome || !this.settle(turn, outcome)) break;
      }
    } while (this.again && !this.stopping);
  }

  /** Returns false when the loop should stop taking turns. */
  private settle(input: TurnInput | BatchInput, outcome: TurnOutcome): boolean {
    const p = this.p;
    const turn = isBatch(input) ? input.turns[0] : input;
    try {
      switch (outcome.kind) {
        case 'answered':
          if (isBatch(input)) p.batcher.commit(input, outcome.result);
          else {
            p.batcher.tookAlone(input);
            p.committer.commit(input, outcome.result);
          }
          p.faults.healthy();
          return true;
        case 'tripped':
          p.pauses.trip(outcome.trip);
          return true;
        case 'refused':
          if (outcome.error.type === 'usage_limit') {
            pauseForUsageLimit(p, turn.session, outcome.error.message, outcome.error.resetsAt);
            armUsageLimitResume({ ...p, kick: () => this.kick() });
            return false;
          }
          p.pauses.apiError(outcome.call, turn.session, outcome.error.message, turn.inputId);
          return false;
        case 'aborted':
        case 'unbatch':
          return false;
      }
    } catch (err) {
      p.fault(err, 'commit');
      return false;
    }
  }
}
