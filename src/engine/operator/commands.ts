import type { Config } from '../../config/schema.js';
import type { AuditEntry } from '../journals/audit.js';
import { localDay, type Ledger } from '../journals/ledger.js';
import type { Dispatcher } from '../mailboxes/dispatch.js';
import type { Inbox, InboxItem } from '../mailboxes/inbox.js';
import { isoNow, type Clock } from '../kernel/ports.js';
import type { OperatorSource } from '../kernel/source.js';
import type { Guard } from '../limits/guard.js';
import type { OperatorCommand } from './grammar.js';
import type { Pauses } from './pauses.js';
import type { Intake } from '../mailboxes/intake.js';
import { supersede, type SupersedeParts } from './supersede.js';
import { heldItems, pauseItems, pickItem } from './targets.js';

/**
 * What each operator command does, one handler per command (the grammar is in
 * grammar.ts, the order and durability of inputs in input.ts). A handler changes the
 * pauses, the guard or the outbox, saves control.json, and says in one line what it did.
 */

export interface SubmitResult {
  ok: boolean;
  message: string;
  quit?: boolean;
}

/** An answer waiting for its chat turn. */
export interface OperatorTurn {
  inputId: string;
  text: string;
  source: OperatorSource;
  route: string;
}

export interface CommandParts extends Omit<SupersedeParts, 'intake'> {
  inbox: Inbox;
  intake: Intake;
  pauses: Pauses;
  dispatcher: Dispatcher;
  guard: Guard;
  ledger: Ledger;
  config: () => Config;
  now: Clock;
  audit: (e: AuditEntry) => void;
}

/** What the caller adds to an input: the TUI's selected inbox item. */
export interface SubmitOptions {
  target?: string;
}

export function isRegistered(cfg: Config, session: string): boolean {
  return cfg.sessions.some((s) => s.id === session);
}

/** Where an answer goes when nobody asks and nothing is selected. */
function firstSession(cfg: Config): string {
  return cfg.sessions[0]?.id ?? 'session-1';
}

export class OperatorCommands {
  constructor(
    private readonly o: CommandParts,
    /** The answers waiting for their turn (input.ts's list: an answer is added here). */
    private readonly turns: OperatorTurn[],
    /** An input is done with (its inbox file removed). */
    private readonly done: (inputId: string) => void,
  ) {}

  handle(cmd: OperatorCommand, item: InboxItem, opts: SubmitOptions = {}): [SubmitResult, string] {
    switch (cmd.kind) {
      case 'invalid':
        return [{ ok: false, message: cmd.message }, 'invalid'];
      case 'quit':
        if (item.source !== 'tui')
          return [{ ok: false, message: '/quit works only at the TUI prompt; stop a daemon with SIGTERM' }, 'quit-refused'];
        return [{ ok: true, message: 'shutting down', quit: true }, 'quit'];
      case 'dispatch': {
        const r = this.dispatch(cmd.session, cmd.text, item);
        return [r, r.ok ? 'dispatch' : 'dispatch-refused'];
      }
      case 'answer':
        return [this.answer(cmd.text, item, opts.target), 'answer'];
      case 'approve':
        return this.approve(cmd.target, item, opts.target);
      case 'drop':
        return this.drop(cmd.target, item, opts.target);
      case 'pause':
        return [this.pause(item), 'pause'];
      case 'resume':
        return this.resume(cmd.target, item, opts.target);
      case 'budget':
        return [this.budget(cmd.usd, item), 'budget'];
      case 'allow':
        return [this.allow(cmd.session, cmd.turns, item), 'allow'];
    }
  }

  private known(): string[] {
    return [...new Set([...this.o.config().sessions.map((s) => s.id), ...this.o.dispatcher.sessions()])];
  }

  private isKnown(session: string): boolean {
    return isRegistered(this.o.config(), session) || this.o.dispatcher.sessions().includes(session);
  }

  /** The refusal when `arg` names nothing that waits: a spent code, a session with nothing of that kind, or nothing known. */
  private noMatch(arg: string | undefined, what: string): string {
    if (!arg) return `nothing to ${what}`;
    const stale = this.o.pauses.staleCode(arg);
    if (stale) return stale;
    if (this.isKnown(arg)) return `${arg} has nothing to ${what}`;
    return `unknown session or code ${arg} (known sessions: ${this.known().join(', ') || 'none'})`;
  }

  /** The operator spoke about this session: its leash and hook chain restart, the session side learns of it. */
  private operatorSpoke(session: string): void {
    this.o.guard.operatorInput(session);
    delete this.o.pauses.control.hook_chain[session];
    this.o.pauses.decided(session);
  }

  private dispatch(session: string, text: string, item: InboxItem): SubmitResult {
    const { dispatcher } = this.o;
    // A session that is neither in config.yaml nor has ever spoken is most likely a typo.
    if (!this.isKnown(session)) {
      return {
        ok: false,
        message: `unknown session ${session} (known: ${this.known().join(', ') || 'none'}); add it to config.yaml sessions to write to it first`,
      };
    }
    const { cleared } = supersede(this.o, session, text, item);
    dispatcher.pump(session);
    const waiting = dispatcher.pending(session);
    const where =
      waiting > 0 ? `waiting until ${session} consumes input.txt (${waiting} queued)` : `written to dispatch/${session}/input.txt`;
    return { ok: true, message: `dispatched to ${session}: ${where}${cleared.length ? `; ${cleared.join('; ')}` : ''}` };
  }

  private answer(text: string, item: InboxItem, selected: string | undefined): SubmitResult {
    const { pauses } = this.o;
    const c = pauses.control;
    const held = pauses.held();
    const asking = held.find((h) => h.reason === 'needs_jc') ?? held[0];
    const route = selected && this.isKnown(selected) ? selected : (asking?.session ?? firstSession(this.o.config()));
    if (c.held[route]) pauses.resolveHeld(route, 'dropped', item.source, "replaced by the operator's answer");
    this.turns.push({ inputId: item.id, text, source: item.source, route });
    this.operatorSpoke(route);
    if (c.paused?.reason === 'needs_jc') pauses.setPause(null, item.source);
    // operatorInput just reset the counters behind these two pauses: the session's run starts again.
    const sp = c.session_pauses[route];
    const resumed = !!sp && (sp.reason === 'auto_turns' || sp.reason === 'loop') && pauses.clearSessionPause(route, item.source);
    pauses.save();
    return { ok: true, message: `sent to chat-Claude; the reply goes to ${route}${resumed ? `; ${route} resumed` : ''}` };
  }

  private approve(arg: string | undefined, item: InboxItem, selected: string | undefined): [SubmitResult, string] {
    const { pauses, dispatcher } = this.o;
    const pick = pickItem(heldItems(pauses.control), '/approve', arg, selected, this.o.now());
    if (!pick.ok) return [{ ok: false, message: pick.none ? this.noMatch(arg, 'approve') : pick.message }, 'approve-refused'];
    const held = pauses.control.held[pick.item.session];
    dispatcher.enqueue(held.session, held.text, `t${held.seq}`);
    this.operatorSpoke(held.session);
    pauses.resolveHeld(held.session, 'approved', item.source);
    pauses.save();
    dispatcher.pump(held.session);
    return [{ ok: true, message: `approved: dispatched to ${held.session}` }, 'approve'];
  }

  private drop(arg: string | undefined, item: InboxItem, selected: string | undefined): [SubmitResult, string] {
    const { pauses } = this.o;
    const c = pauses.control;
    const refused = c.paused?.reason === 'error' ? c.paused.input_id : undefined;
    const items = heldItems(c);
    if (!items.length && refused && (!arg || arg.toUpperCase() === c.paused?.code))
      return [this.dropRefusedInput(refused, item), 'drop-input'];
    const pick = pickItem(items, '/drop', arg, selected, this.o.now());
    if (!pick.ok) return [{ ok: false, message: pick.none ? this.noMatch(arg, 'drop') : pick.message }, 'drop-refused'];
    const session = pick.item.session;
    this.operatorSpoke(session);
    pauses.resolveHeld(session, 'dropped', item.source);
    pauses.save();
    return [{ ok: true, message: `dropped the held reply for ${session}` }, 'drop'];
  }

  /** An operator turn the API refused (400, 413) is not retried forever: /drop discards it. */
  private dropRefusedInput(inputId: string, item: InboxItem): SubmitResult {
    const turn = this.turns.find((t) => t.inputId === inputId);
    this.o.audit({
      at: isoNow(this.o.now),
      source: item.source,
      action: 'input-dropped',
      text: turn?.text.slice(0, 2000),
      input_id: inputId,
    });
    this.o.pauses.setPause(null, item.source);
    this.o.pauses.save();
    this.o.inbox.remove(inputId);
    this.done(inputId);
    return { ok: true, message: 'dropped the operator input the API refused; resumed' };
  }

  private pause(item: InboxItem): SubmitResult {
    const { pauses } = this.o;
    if (pauses.control.paused?.reason === 'operator') return { ok: true, message: 'already paused' };
    pauses.setPause({ reason: 'operator', message: `paused by the operator (${item.source})`, at: isoNow(this.o.now) }, item.source);
    pauses.save();
    return { ok: true, message: 'paused: no envelope will be taken until /resume' };
  }

  private resume(arg: string | undefined, item: InboxItem, selected: string | undefined): [SubmitResult, string] {
    const { pauses } = this.o;
    const items = pauseItems(pauses.control);
    const pick = pickItem(items, '/resume', arg === 'relay' ? '*' : arg, selected, this.o.now());
    let r: SubmitResult;
    if (pick.ok) {
      const it = pick.item;
      if (it.session === '*') {
        const what = pauses.resumeRelay(item.source);
        r = { ok: true, message: `resumed ${what}` };
      } else {
        const what = pauses.resumeSession(it.session, item.source);
        pauses.decided(it.session);
        r = { ok: true, message: `resumed ${what}` };
      }
      const held = pauses.held();
      if (held.length && !arg)
        r.message += `; still waiting: the reply for ${held.map((h) => h.session).join(', ')} is held (/approve or /drop it)`;
    } else if (!pick.none) {
      r = { ok: false, message: pick.message };
    } else if (arg === 'relay') {
      r = { ok: true, message: 'the relay is not paused' };
    } else if (arg && this.isKnown(arg)) {
      // `/resume session-2` for a session that is not paused is not an error.
      r = { ok: true, message: `${arg} is not paused` };
    } else if (arg) {
      r = { ok: false, message: this.noMatch(arg, 'resume') };
    } else {
      const held = pauses.held();
      r = held.length
        ? { ok: false, message: `nothing to resume: the reply for ${held.map((h) => h.session).join(', ')} is held (/approve or /drop it)` }
        : { ok: true, message: 'not paused' };
    }
    pauses.save();
    // A reply whose delivery failed on a session fault waits in the outbox: try it again.
    this.o.dispatcher.pumpAll();
    return [r, r.ok ? 'resume' : 'resume-refused'];
  }

  private budget(usd: number, item: InboxItem): SubmitResult {
    const { pauses, guard, ledger } = this.o;
    guard.setDayBudget(usd);
    const cleared = pauses.control.paused?.reason === 'budget_day';
    if (cleared) pauses.setPause(null, item.source);
    pauses.save();
    const spent = ledger.day(localDay(this.o.now())).costUsd;
    return { ok: true, message: `today's budget is $${usd.toFixed(2)} ($${spent.toFixed(2)} spent)${cleared ? '; resumed' : ''}` };
  }

  private allow(session: string, turns: number, item: InboxItem): SubmitResult {
    const { pauses, guard } = this.o;
    guard.allow(session, turns);
    const cleared = pauses.control.session_pauses[session]?.reason === 'auto_turns' && pauses.clearSessionPause(session, item.source);
    pauses.save();
    return { ok: true, message: `${session} may take ${turns} more automatic turns${cleared ? '; resumed' : ''}` };
  }
}
