import type { RelayEmitter } from '../kernel/events.js';
import { isoNow } from '../kernel/ports.js';
import { inboxTag, type InboxItem } from '../mailboxes/inbox.js';
import { formatNotice, type HookNotice } from '../../protocol/hook-notices.js';
import { isGuardReason, isOperatorExempt } from '../../protocol/status.js';
import type { OperatorSource } from '../kernel/source.js';
import { isRegistered, OperatorCommands, type CommandParts, type OperatorTurn, type SubmitOptions, type SubmitResult } from './commands.js';
import { writeVerdict } from './verdicts.js';
import { parseOperatorInput } from './grammar.js';
import type { Pings } from './pings.js';

/**
 * Operator input from every source (prompt line, jc_input.txt, `relay-tui say`, the
 * phone), applied in order through the command handlers (commands.ts). Each input is durable in
 * the inbox before it is applied, and leaves the inbox only once its effect is
 * durable: a plain-text answer stays there until its turn is committed.
 */

export interface OperatorInputOptions extends CommandParts {
  pings: Pings;
  events: RelayEmitter;
  stopping: () => boolean;
  kick: () => void;
  changed: (urgent?: boolean) => void;
  /** Applying an input threw (a fault): the relay pauses as for any fault. */
  fault: (err: unknown) => void;
  /** state/operator-results/: each input's verdict, for `relay-tui say` (verdicts.ts). */
  resultsDir?: string;
}

export class OperatorInput {
  /** Answers waiting for their turn, oldest first. */
  readonly turns: OperatorTurn[] = [];
  private readonly handled = new Set<string>();
  /** What the caller added to an input not yet applied (the TUI's selected item). */
  private readonly opts = new Map<string, SubmitOptions>();
  private readonly commands: OperatorCommands;

  constructor(private readonly o: OperatorInputOptions) {
    this.commands = new OperatorCommands(o, this.turns, (id) => this.done(id));
  }

  isRegistered(session: string): boolean {
    return isRegistered(this.o.config(), session);
  }

  submit(text: string, source: OperatorSource, opts: SubmitOptions = {}): SubmitResult {
    const id = this.o.inbox.add(text, source);
    if (opts.target) this.opts.set(id, opts);
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
    return (
      (!!p && (p.reason === 'error' || p.reason === 'usage_limit' || isGuardReason(p.reason))) || (!!sp && !isOperatorExempt(sp.reason))
    );
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
    this.opts.delete(item.id);
    // Before the inbox file goes: a crash in between applies the input again and writes it again.
    if (o.resultsDir) writeVerdict(o.resultsDir, item.id, r, isoNow(this.o.now));
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
      const open = Object.keys(c.held).length || c.paused || Object.keys(c.session_pauses).length;
      if (cmd.kind === 'answer' && !open)
        return this.finish(
          item,
          { ok: false, message: 'no pause is open, so a typed answer from the phone was not sent' },
          'answer-refused',
        );
    }
    const [result, action] = this.commands.handle(cmd, item, this.opts.get(item.id));
    return this.finish(item, result, action);
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
