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

export interface CommandParts {
  inbox: Inbox;
  pauses: Pauses;
  dispatcher: Dispatcher;
  guard: Guard;
  ledger: Ledger;
  config: () => Config;
  now: Clock;
  audit: (e: AuditEntry) => void;
}

export function isRegistered(cfg: Config, session: string): boolean {
  return cfg.sessions.some((s) => s.id === session);
}

/** Where an answer goes when no held reply names a session. */
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

  handle(cmd: OperatorCommand, item: InboxItem): [SubmitResult, string] {
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
        return [this.answer(cmd.text, item), 'answer'];
      case 'approve':
        return this.approve(cmd.code, item);
      case 'drop':
        return this.drop(cmd.code, item);
      case 'pause':
        return [this.pause(item), 'pause'];
      case 'resume':
        return [this.resume(cmd.code, item), 'resume'];
      case 'budget':
        return [this.budget(cmd.usd, item), 'budget'];
      case 'allow':
        return [this.allow(cmd.session, cmd.turns, item), 'allow'];
    }
  }

  private dispatch(session: string, text: string, item: InboxItem): SubmitResult {
    const { pauses, dispatcher, guard } = this.o;
    const c = pauses.control;
    // A session that is neither in config.yaml nor has ever spoken is most likely a typo.
    if (!isRegistered(this.o.config(), session) && !dispatcher.sessions().includes(session)) {
      const ids = [...new Set([...this.o.config().sessions.map((s) => s.id), ...dispatcher.sessions()])];
      return {
        ok: false,
        message: `unknown session ${session} (known: ${ids.join(', ') || 'none'}); add it to config.yaml sessions to write to it first`,
      };
    }
    dispatcher.enqueue(session, text, `op-${item.id}`);
    guard.operatorInput(session);
    delete c.hook_chain[session];
    const cleared: string[] = [];
    if (c.held && c.held.session === session) {
      pauses.resolveHeld('dropped', item.source, `superseded by @${session}`);
      cleared.push(`held reply for ${session} dropped`);
    }
    if (pauses.clearSessionPause(session, item.source)) cleared.push(`${session} resumed`);
    // A usage limit is the account's, not this session's: a direct text does not end it (no call is made, nothing is gained).
    if (c.paused && c.paused.reason !== 'error' && c.paused.reason !== 'usage_limit' && !c.held) {
      cleared.push(`relay resumed (was ${c.paused.reason})`);
      pauses.setPause(null, item.source);
    }
    pauses.save();
    dispatcher.pump(session);
    const waiting = dispatcher.pending(session);
    const where =
      waiting > 0 ? `waiting until ${session} consumes input.txt (${waiting} queued)` : `written to dispatch/${session}/input.txt`;
    return { ok: true, message: `dispatched to ${session}: ${where}${cleared.length ? `; ${cleared.join('; ')}` : ''}` };
  }

  private answer(text: string, item: InboxItem): SubmitResult {
    const { pauses, guard } = this.o;
    const c = pauses.control;
    const route = c.held?.session ?? firstSession(this.o.config());
    if (c.held) pauses.resolveHeld('dropped', item.source, "replaced by the operator's answer");
    this.turns.push({ inputId: item.id, text, source: item.source, route });
    guard.operatorInput(route);
    delete c.hook_chain[route];
    if (c.paused?.reason === 'needs_jc') pauses.setPause(null, item.source);
    // operatorInput just reset the counters behind these two pauses: the session's run starts again.
    const sp = c.session_pauses[route];
    const resumed = !!sp && (sp.reason === 'auto_turns' || sp.reason === 'loop') && pauses.clearSessionPause(route, item.source);
    pauses.save();
    return { ok: true, message: `sent to chat-Claude; the reply goes to ${route}${resumed ? `; ${route} resumed` : ''}` };
  }

  private approve(code: string | undefined, item: InboxItem): [SubmitResult, string] {
    const { pauses, dispatcher, guard } = this.o;
    const held = pauses.control.held;
    if (!held) return [{ ok: false, message: pauses.staleCode(code) ?? 'nothing to approve' }, 'approve-none'];
    if (code && code.toUpperCase() !== held.code)
      return [{ ok: false, message: pauses.staleCode(code) ?? `code ${code} does not match the open pause` }, 'approve-stale'];
    dispatcher.enqueue(held.session, held.text, `t${held.seq}`);
    guard.operatorInput(held.session);
    pauses.resolveHeld('approved', item.source);
    pauses.save();
    dispatcher.pump(held.session);
    return [{ ok: true, message: `approved: dispatched to ${held.session}` }, 'approve'];
  }

  private drop(code: string | undefined, item: InboxItem): [SubmitResult, string] {
    const { pauses, guard } = this.o;
    const c = pauses.control;
    const held = c.held;
    const refused = c.paused?.reason === 'error' ? c.paused.input_id : undefined;
    if (!held && refused && (!code || code.toUpperCase() === c.paused?.code)) return [this.dropRefusedInput(refused, item), 'drop-input'];
    if (!held) return [{ ok: false, message: pauses.staleCode(code) ?? 'nothing to drop' }, 'drop-none'];
    if (code && code.toUpperCase() !== held.code)
      return [{ ok: false, message: pauses.staleCode(code) ?? `code ${code} does not match the open pause` }, 'drop-stale'];
    guard.operatorInput(held.session);
    pauses.resolveHeld('dropped', item.source);
    pauses.save();
    return [{ ok: true, message: `dropped the held reply for ${held.session}` }, 'drop'];
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

  private resume(arg: string | undefined, item: InboxItem): SubmitResult {
    const { pauses } = this.o;
    const held = pauses.control.held;
    let r: SubmitResult;
    if (arg && pauses.control.session_pauses[arg]) {
      const what = pauses.resumeSession(arg, item.source);
      r = { ok: true, message: `resumed ${what}` };
    } else if (arg) {
      r = pauses.resumeByCode(arg, item.source);
      // `/resume session-2` for a session that is not paused is not an error.
      if (!r.ok && (isRegistered(this.o.config(), arg) || this.o.dispatcher.sessions().includes(arg)))
        r = { ok: true, message: `${arg} is not paused` };
    } else {
      const what = pauses.resumeAll(item.source);
      // Something resumed is a success even when a held reply still waits: the message says what stays.
      if (held)
        r = what.length
          ? { ok: true, message: `resumed ${what.join(', ')}; still waiting: the reply for ${held.session} is held (/approve or /drop it)` }
          : { ok: false, message: `nothing to resume: the reply for ${held.session} is held (/approve or /drop it)` };
      else r = what.length ? { ok: true, message: `resumed ${what.join(', ')}` } : { ok: true, message: 'not paused' };
    }
    pauses.save();
    // A reply whose delivery failed on a session fault waits in the outbox: try it again.
    this.o.dispatcher.pumpAll();
    return r;
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
