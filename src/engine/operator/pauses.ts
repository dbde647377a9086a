import crypto from 'node:crypto';
import { basename, relative } from 'node:path';
import type { AuditEntry } from '../journals/audit.js';
import { loadControl, saveControl, type Control, type HeldReply, type PauseInfo } from './control.js';
import type { RelayEmitter } from '../kernel/events.js';
import { classify, describeFsError, RootFault, SessionFault } from '../../fs/faults.js';
import type { Guard, Trip } from '../limits/guard.js';
import type { Actor } from '../kernel/source.js';
import type { Pings } from './pings.js';
import { isoNow, type Clock } from '../kernel/ports.js';
import { NEEDS_JC } from '../../protocol/needs-jc.js';
import { isGuardReason, type RelayState } from '../../protocol/status.js';

/**
 * Owns state/control.json (control.ts): the only code that writes the file (save,
 * trySave) and the only one that opens or ends a pause — the relay's pause, the held
 * reply, per-session pauses and their one-time codes. Other fields of the same object
 * are set in memory by the part they belong to and reach the file on the next save:
 * the guard's counters (limits/guard.ts, through control.guard), guard_seq and the
 * hook chain (turn/commit.ts step 3; reset by operator input), the phone-reply cursor
 * (operator/input.ts) and the last stuck-queue ping (housekeeping.ts).
 * A failed write keeps the change in memory (the relay goes on from memory and the
 * next save carries it); callers on the error path use trySave(), which never throws.
 */

export interface PausesOptions {
  file: string;
  root: string;
  now: Clock;
  /** The conversation's newest seq when control.json is loaded (see loadControl). */
  lastSeq: number;
  audit: (e: AuditEntry) => void;
  events: RelayEmitter;
  pings: Pings;
  changed: (urgent?: boolean) => void;
}

export function newCode(): string {
  return crypto.randomBytes(3).toString('hex').toUpperCase();
}

export class Pauses {
  readonly control: Control;
  /** Set by the relay once its Guard exists (the guard's state lives in control.guard). */
  guard: Guard | null = null;
  /** A save failed: what is in memory is newer than control.json. */
  unsaved = false;

  constructor(private readonly o: PausesOptions) {
    this.control = loadControl(o.file, o.lastSeq);
  }

  state(): RelayState {
    const c = this.control;
    if (c.held?.reason === 'needs_jc') return 'needs_jc';
    if (c.paused?.reason === 'error') return 'error';
    if (c.paused || c.held) return 'paused';
    return 'running';
  }

  /** Durable now; throws a RootFault when it cannot be (the change stays in memory). */
  save(): void {
    try {
      saveControl(this.o.file, this.control);
      this.unsaved = false;
    } catch (err) {
      this.unsaved = true;
      throw classify(err);
    } finally {
      this.o.changed();
    }
  }

  /** For the error path: never throws; false when control.json could not be written. */
  trySave(): boolean {
    try {
      this.save();
      return true;
    } catch {
      return false;
    }
  }

  private spend(code: string | undefined): void {
    if (code) this.control.spent_codes = [...this.control.spent_codes.slice(-49), code];
  }

  staleCode(code: string | undefined): string | undefined {
    if (code && this.control.spent_codes.includes(code.toUpperCase()))
      return `code ${code.toUpperCase()} belongs to a pause that is already over`;
    return undefined;
  }

  setPause(p: PauseInfo | null, source: Actor): void {
    const prev = this.control.paused;
    if (prev && prev !== p) this.spend(prev.code);
    this.control.paused = p;
    this.o.audit({
      at: isoNow(this.o.now),
      source,
      action: p ? 'pause' : 'resume',
      text: p ? p.message : prev?.message,
      detail: p ? p.reason : prev?.reason,
    });
    if (!p) this.o.pings.cancel();
    this.o.events.emit('state:changed', { state: this.state(), reason: p?.reason ?? null, message: p?.message ?? null });
  }

  pauseSession(session: string, info: PauseInfo): void {
    this.control.session_pauses[session] = info;
    this.o.audit({
      at: isoNow(this.o.now),
      source: 'relay',
      action: 'session-pause',
      text: info.message,
      detail: `${session}: ${info.reason}`,
    });
    this.o.events.emit('session:paused', { session, reason: info.reason, message: info.message });
  }

  clearSessionPause(session: string, source: Actor): boolean {
    const sp = this.control.session_pauses[session];
    if (!sp) return false;
    delete this.control.session_pauses[session];
    this.spend(sp.code);
    // A ping still waiting for the operator to be away is about a pause that is now over.
    this.o.pings.cancel(pauseKey(sp, session));
    this.o.audit({ at: isoNow(this.o.now), source, action: 'session-resume', text: sp.message, detail: `${session}: ${sp.reason}` });
    this.o.events.emit('session:resumed', { session });
    return true;
  }

  hold(h: HeldReply, needsJcText: string | null): void {
    this.control.held = h;
    if (needsJcText !== null) this.control.last_needs_jc_text = needsJcText;
  }

  resolveHeld(how: 'approved' | 'dropped', source: Actor, why?: string): void {
    const held = this.control.held;
    if (!held) return;
    this.control.held = null;
    this.spend(held.code);
    this.o.pings.cancel();
    this.o.audit({
      at: isoNow(this.o.now),
      source,
      action: `held-${how}`,
      text: held.text.slice(0, 2000),
      detail: `${held.session} turn ${held.seq}${why ? `: ${why}` : ''}`,
    });
    this.o.events.emit('state:changed', { state: this.state(), reason: this.control.paused?.reason ?? null, message: `held reply ${how}` });
  }

  /** A reply was just held (commit step 4): audit, tell the views, ping with the one-time code's buttons. */
  announceHeld(r: { seq: number; route: string; reply: string }, reason: 'needs_jc' | 'approval'): void {
    const held = this.control.held;
    if (!held) return;
    this.o.audit({
      at: isoNow(this.o.now),
      source: 'relay',
      action: 'pause',
      text: r.reply.slice(0, 2000),
      detail: `${reason}: ${r.route} turn ${r.seq}`,
    });
    this.o.events.emit('state:changed', { state: this.state(), reason, message: `${r.route}: ${r.reply.slice(0, 120)}` });
    const question = r.reply.replace(NEEDS_JC, '').trim();
    this.o.pings.pause(`held:${r.seq}`, {
      title: reason === 'needs_jc' ? `relay-tui: ${r.route} needs you` : `relay-tui: reply for ${r.route} awaits approval`,
      message: `${question.slice(0, 400)}${question.length > 400 ? '…' : ''}\n\nApprove, drop or answer at the relay (code ${held.code}).`,
      priority: reason === 'needs_jc' ? 5 : 3,
      tags: ['raising_hand'],
      actions: this.o.pings.heldButtons(held.code),
    });
  }

  private passOnce(reason: PauseInfo['reason'], session: string, scope: 'relay' | 'session'): void {
    if (isGuardReason(reason)) this.guard?.passOnceFor({ reason, session, scope });
  }

  /** /resume: every pause but a held reply; guard limits pass once. Returns what was resumed. */
  resumeAll(source: Actor): string[] {
    const what: string[] = [];
    const p = this.control.paused;
    if (p) {
      this.passOnce(p.reason, p.session ?? '', 'relay');
      what.push(`relay (${p.reason})`);
      this.setPause(null, source);
    }
    for (const [s, sp] of Object.entries(this.control.session_pauses)) {
      this.passOnce(sp.reason, s, 'session');
      this.clearSessionPause(s, source);
      what.push(`${s} (${sp.reason})`);
    }
    return what;
  }

  /** `/resume <session>`: that session's pause only. */
  resumeSession(session: string, source: Actor): string | null {
    const sp = this.control.session_pauses[session];
    if (!sp) return null;
    this.passOnce(sp.reason, session, 'session');
    this.clearSessionPause(session, source);
    return `${session} (${sp.reason})`;
  }

  /** A phone button's /resume CODE: resumes exactly the pause that carried the code. */
  resumeByCode(raw: string, source: Actor): { ok: boolean; message: string } {
    const code = raw.toUpperCase();
    const p = this.control.paused;
    if (p?.code === code) {
      this.passOnce(p.reason, p.session ?? '', 'relay');
      this.setPause(null, source);
      return { ok: true, message: `resumed the relay (was ${p.reason})` };
    }
    for (const [s, sp] of Object.entries(this.control.session_pauses)) {
      if (sp.code !== code) continue;
      this.passOnce(sp.reason, s, 'session');
      this.clearSessionPause(s, source);
      return { ok: true, message: `resumed ${s} (was ${sp.reason})` };
    }
    return { ok: false, message: this.staleCode(code) ?? `code ${code} does not match an open pause` };
  }

  /** A guardrail said no before the call. */
  trip(trip: Trip): void {
    const info: PauseInfo = { reason: trip.reason, message: trip.message, at: isoNow(this.o.now), session: trip.session, code: newCode() };
    if (trip.scope === 'relay') this.setPause(info, 'relay');
    else this.pauseSession(trip.session, info);
    this.save();
    this.o.events.emit('log', { level: 'warn', message: `guardrail ${trip.reason}: ${trip.message}` });
    this.o.pings.pause(pauseKey(info, trip.session), {
      title: `relay-tui: ${trip.scope === 'session' ? `${trip.session} paused` : 'relay paused'} (${trip.reason})`,
      message: trip.message,
      priority: 5,
      tags: ['octagonal_sign'],
      actions: this.o.pings.resumeButtons(info.code!),
    });
  }

  /** The API refused a call or retries ran out: state error until /resume. */
  apiError(kind: 'turn' | 'summary', session: string, message: string, inputId?: string): void {
    const code = newCode();
    const dropHint = inputId ? ' /drop discards that input.' : '';
    this.setPause(
      {
        reason: 'error',
        message: `API error (${kind} for ${session}): ${message}`,
        at: isoNow(this.o.now),
        session,
        code,
        ...(inputId ? { input_id: inputId } : {}),
      },
      'relay',
    );
    this.trySave();
    this.o.pings.pause('error', {
      title: 'relay-tui: API error, relay paused',
      message: `${message}\nNothing was dropped. /resume to try again.${dropHint}`,
      priority: 5,
      tags: ['warning'],
      actions: this.o.pings.resumeButtons(code),
    });
  }

  /**
   * chat-Claude's account hit its usage limit: the whole relay waits (every session's turn
   * would meet the same limit) until `resetsAt`, when usage-limit.ts resumes it; /resume
   * earlier is allowed. Pinged once per limit: the same reset again (an operator turn
   * that met it) changes nothing.
   */
  usageLimit(session: string, message: string, resetsAt?: number): void {
    const until = resetsAt ? new Date(resetsAt).toISOString() : undefined;
    const prev = this.control.paused;
    if (prev?.reason === 'usage_limit' && prev.until === until) return;
    const code = newCode();
    const when = until ? `resets at ${until}; the relay resumes by itself then` : 'no reset time was given; /resume when it has reset';
    this.setPause(
      {
        reason: 'usage_limit',
        message: `usage limit reached (${when}): ${message}`,
        at: isoNow(this.o.now),
        session,
        code,
        ...(until ? { until } : {}),
      },
      'relay',
    );
    this.trySave();
    this.o.events.emit('log', { level: 'warn', message: `chat-Claude's usage limit reached: relay paused, ${when}` });
    this.o.pings.pause('usage_limit', {
      title: 'relay-tui: usage limit reached, relay paused',
      message: `${when}.\nNothing was dropped; /resume tries earlier.`,
      priority: 4,
      tags: ['hourglass'],
      actions: this.o.pings.resumeButtons(code),
    });
  }

  /**
   * A fault from the turn path. A SessionFault pauses that session (others flow,
   * /resume retries); a RootFault puts the relay in state error (the relay retries by
   * itself). Never throws; returns false when even control.json could not be written.
   */
  fault(f: SessionFault | RootFault): boolean {
    const rel = f.path ? relative(this.o.root, f.path) : undefined;
    const where = f.path && rel && !rel.startsWith('..') ? rel : f.path;
    if (f instanceof RootFault) {
      const message = where && f.path && !f.message.includes(basename(f.path)) ? `${f.message} (${where})` : f.message;
      const same = this.control.paused?.fault === 'root' && this.control.paused.message === message;
      if (!same) {
        this.setPause(
          { reason: 'error', message, at: isoNow(this.o.now), fault: 'root', code: newCode(), ...(f.path ? { path: f.path } : {}) },
          'relay',
        );
        this.o.pings.pause('error', {
          title: 'relay-tui: relay paused (root fault)',
          message: `${message}\nNothing was dropped; the relay retries by itself, /resume retries now.`,
          priority: 5,
          tags: ['warning'],
        });
      }
      return this.trySave();
    }
    // A confinement message names the absolute path already: show it relative to the root once, not twice.
    const message =
      f.path && f.message.includes(f.path) ? f.message.split(f.path).join(where ?? f.path) : `${where ?? f.path}: ${f.message}`;
    const prev = this.control.session_pauses[f.session];
    if (prev?.reason !== 'fault' || prev.message !== message) {
      const info: PauseInfo = {
        reason: 'fault',
        message,
        at: isoNow(this.o.now),
        session: f.session,
        code: newCode(),
        fault: 'session',
        path: f.path,
      };
      this.pauseSession(f.session, info);
      this.o.events.emit('log', {
        level: 'warn',
        message: `${f.session} paused: ${message}; the other sessions flow. Fix it, then /resume ${f.session}`,
      });
      this.o.pings.pause(pauseKey(info, f.session), {
        title: `relay-tui: ${f.session} paused (fault)`,
        message: `${message}\n/resume ${f.session} retries.`,
        priority: 5,
        tags: ['warning'],
        actions: this.o.pings.resumeButtons(info.code!),
      });
    }
    return this.trySave();
  }
}

/** classify(), with a raw error's path shown relative to the root: "disk full: state/conversation.jsonl (ENOSPC)". */
export function classifyIn(root: string, err: unknown): SessionFault | RootFault {
  if (err instanceof SessionFault || err instanceof RootFault) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e?.path) return classify(err);
  const rel = relative(root, e.path);
  return new RootFault(e.path, describeFsError(err, rel && !rel.startsWith('..') ? rel : e.path), e.code);
}

/** The key a pause's deferred ping goes by. */
export function pauseKey(p: PauseInfo, session: string): string {
  return `guard:${p.reason}:${session}`;
}
