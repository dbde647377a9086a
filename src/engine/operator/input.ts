import type { Config } from '../../config/schema.js';
import type { AuditEntry } from '../journals/audit.js';
import type { Dispatcher } from '../mailboxes/dispatch.js';
import type { RelayEmitter } from '../kernel/events.js';
import type { Guard } from '../limits/guard.js';
import { formatNotice, type HookNotice } from '../../protocol/hook-notices.js';
import { inboxTag, type Inbox, type InboxItem } from '../mailboxes/inbox.js';
import { localDay, type Ledger } from '../journals/ledger.js';
import { parseOperatorInput, type OperatorCommand } from './grammar.js';
import type { OperatorSource } from '../kernel/source.js';
import type { Pauses } from './pauses.js';
import type { Pings } from './pings.js';
import { isoNow, type Clock } from '../kernel/ports.js';
import { isGuardReason, isOperatorExempt } from '../../protocol/status.js';

/**
 * Operator input from every source (prompt line, jc_input.txt, `relay-tui say`, the
 * phone), applied in order through one handler per command. Each input is durable in
 * the inbox before it is applied, and leaves the inbox only once its effect is
 * durable: a plain-text answer stays there until its turn is committed.
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

export interface OperatorInputOptions {
  inbox: Inbox;
  pauses: Pauses;
  dispatcher: Dispatcher;
  guard: Guard;
  ledger: Ledger;
  pings: Pings;
  events: RelayEmitter;
  config: () => Config;
  now: Clock;
  audit: (e: AuditEntry) => void;
  stopping: () => boolean;
  kick: () => void;
  changed: (urgent?: boolean) => void;
  /** Applying an input threw (a fault): the relay pauses as for any fault. */
  fault: (err: unknown) => void;
}

export class OperatorInput {
  /** Answers waiting for their turn, oldest first. */
  readonly turns: OperatorTurn[] = [];
  private readonly handled = new Set<string>();

  constructor(private readonly o: OperatorInputOptions) {}

  isRegistered(session: string): boolean {
    return this.o.config().sessions.some((s) => s.id === session);
  }

  firstSession(): string {
    return this.o.config().sessions[0]?.id ?? 'session-1';
  }

  submit(text: string, source: OperatorSource): SubmitResult {
    const id = this.o.inbox.add(text, source);
    return this.drain().get(id) ?? { ok: true, message: 'queued' };
  }

  /** Claims jc_input.txt, then applies every inbox item not yet applied, in order. */
  drain(): Map<string, SubmitResult> {
    const results = new Map<string, SubmitResult>();
    if (this.o.stopping()) return results;
    try {
      this.o.inbox.claimJcInput();
      for (const item of this.o.inbox.list()) {
        if (this.handled.has(item.id)) continue;
        this.handled.add(item.id);
        let result: SubmitResult;
        try {
          result = this.apply(item);
        } catch (err) {
          // Its effect may be half made in memory; the input stays in the inbox to be applied again.
          this.handled.delete(item.id);
          result = { ok: false, message: `failed: ${(err as Error).message}` };
          this.o.fault(err);
        }
        results.set(item.id, result);
        this.o.events.emit('operator:result', { source: item.source, input: item.text.trim(), ok: result.ok, message: result.message });
      }
    } catch (err) {
      this.o.fault(err);
    }
    this.o.changed(true);
    this.o.kick();
    return results;
  }

  /**
   * The operator's own turns run even while the relay is paused for them, but not past
   * an error or a money limit. A session paused by auto_turns, rate or loop does not hold
   * them (those limits are about turns with no human in them); its money limit does.
   */
  blocked(route: string): boolean {
    const c = this.o.pauses.control;
    const p = c.paused;
    const sp = c.session_pauses[route];
    return (!!p && (p.reason === 'error' || isGuardReason(p.reason))) || (!!sp && !isOperatorExempt(sp.reason));
  }

  /** The turn for this input is committed (its inbox file is gone). */
  done(inputId: string): void {
    const i = this.turns.findIndex((t) => t.inputId === inputId);
    if (i >= 0) this.turns.splice(i, 1);
    this.handled.delete(inputId);
  }

  private finish(item: InboxItem, r: SubmitResult, action: string): SubmitResult {
    const o = this.o;
    if (item.source === 'ntfy')
      o.pings.notify({
        title: `relay-tui: ${r.ok ? '' : 'not done: '}${r.message}`.slice(0, 120),
        message: `${r.message}\n(your reply: ${item.text.trim().slice(0, 200)})`,
        priority: 2,
        tags: [r.ok ? 'white_check_mark' : 'x'],
      });
    o.audit({ at: isoNow(this.o.now), source: item.source, action, text: item.text.trim(), detail: r.message, input_id: item.id });
    if (!this.turns.some((t) => t.inputId === item.id)) {
      o.inbox.remove(item.id);
      this.handled.delete(item.id);
    }
    return r;
  }

  private apply(item: InboxItem): SubmitResult {
    const cmd = parseOperatorInput(item.text);
    const c = this.o.pauses.control;
    if (item.source === 'ntfy') {
      const tag = inboxTag(item.id);
      if (tag && c.ntfy_seen.includes(tag)) {
        this.o.inbox.remove(item.id);
        this.handled.delete(item.id);
        return { ok: true, message: 'already applied' };
      }
      if (tag) {
        c.ntfy_seen = [...c.ntfy_seen.slice(-199), tag];
        c.ntfy_since = tag;
        this.o.pauses.save();
      }
      // Anyone who learns the reply topic can publish to it: free text counts only as the answer to an open pause.
      const open = c.held || c.paused || Object.keys(c.session_pauses).length;
      if (cmd.kind === 'answer' && !open)
        return this.finish(
          item,
          { ok: false, message: 'no pause is open, so a typed answer from the phone was not sent' },
          'answer-refused',
        );
    }
    const [result, action] = this.handle(cmd, item);
    return this.finish(item, result, action);
  }

  private handle(cmd: OperatorCommand, item: InboxItem): [SubmitResult, string] {
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
    if (!this.isRegistered(session) && !dispatcher.sessions().includes(session)) {
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
    if (c.paused && c.paused.reason !== 'error' && !c.held) {
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
    const route = c.held?.session ?? this.firstSession();
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
      if (!r.ok && (this.isRegistered(arg) || this.o.dispatcher.sessions().includes(arg)))
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

  /** Notices from Claude Code hooks: shown; a typed prompt restarts that session's leash; a failed stop pings. */
  hookNotices(notices: HookNotice[]): void {
    let save = false;
    for (const n of notices) {
      if (n.kind === 'prompt_typed') {
        this.o.guard.operatorInput(n.session);
        delete this.o.pauses.control.hook_chain[n.session];
        this.o.audit({
          at: isoNow(this.o.now),
          source: 'hook',
          action: 'prompt-typed',
          text: n.message.slice(0, 2000),
          detail: `${n.session}: the user typed into the session; its automatic-turn count starts again`,
        });
        this.o.events.emit('log', { level: 'info', message: formatNotice(n) });
        save = true;
      } else if (n.kind === 'stop_failure') {
        this.o.events.emit('log', { level: 'warn', message: formatNotice(n) });
        this.o.pings.notify({
          title: `relay-tui: ${n.session}: ${n.title}`.slice(0, 120),
          message: n.message.slice(0, 800),
          priority: 5,
          tags: ['warning'],
        });
      } else {
        this.o.events.emit('log', { level: 'warn', message: formatNotice(n) });
      }
    }
    if (save) this.o.pauses.save();
  }

  /** Replies from the phone's reply topic become inbox items, each applied once (even across a restart). */
  startPhone(): { close(): void } | null {
    const phone = this.o.pings.replies();
    if (!phone) return null;
    const c = this.o.pauses.control;
    if (!c.ntfy_since) {
      // First time replies are accepted: nothing older than now counts.
      c.ntfy_since = String(Math.floor(this.o.now() / 1000));
      this.o.pauses.save();
    }
    return phone.subscribe(
      c.ntfy_since,
      (m) => {
        const tag = m.id.replace(/[^A-Za-z0-9]/g, '');
        if (this.o.stopping() || c.ntfy_seen.includes(tag)) return;
        try {
          this.o.inbox.add(m.message, 'ntfy', tag);
        } catch (err) {
          this.o.fault(err);
          return;
        }
        this.drain();
      },
      (s) =>
        this.o.events.emit(
          'log',
          s.connected
            ? { level: 'info', message: 'phone replies: subscribed to the reply topic' }
            : { level: 'warn', message: `phone replies: disconnected (${s.error ?? 'stream ended'}), reconnecting` },
        ),
    );
  }
}
