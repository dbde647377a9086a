import type { Config } from '../../config/schema.js';
import type { RelayEmitter } from '../kernel/events.js';
import type { Clock, NtfyAction, NtfyMessage, Notifier, PhoneReplies } from '../kernel/ports.js';
import type { Timers } from '../kernel/timers.js';

/**
 * ntfy pings: best effort, never awaited by the loop. Headless always pings a pause;
 * the TUI pings only once the operator has been away (no keystroke) for
 * ntfy.away_after_s. Each waiting item (a held reply, a session's pause, the
 * relay's pause) has its own deferred ping, keyed by that item; an item that ends takes
 * its own waiting ping with it and no other.
 */

export interface PingsOptions {
  notifier: Notifier | null;
  phone: PhoneReplies | null;
  config: () => Config;
  interactive: boolean;
  now: Clock;
  timers: Timers;
  events: RelayEmitter;
}

const DEFERRED = 'ping:deferred';

export class Pings {
  private deferred = new Map<string, NtfyMessage>();
  private lastKeystrokeAt: number;

  constructor(private readonly o: PingsOptions) {
    this.lastKeystrokeAt = o.now();
  }

  notePresence(): void {
    this.lastKeystrokeAt = this.o.now();
  }

  notify(msg: NtfyMessage): void {
    const n = this.o.notifier;
    if (!n) return;
    const title = msg.title ?? '';
    const priority = typeof msg.priority === 'number' ? msg.priority : 3;
    let sent: Promise<{ ok: boolean; status?: number; error?: string }>;
    try {
      sent = n.publish(msg);
    } catch (err) {
      this.o.events.emit('notify:failed', { title, error: String(err) });
      return;
    }
    sent.then(
      (r) => {
        if (r.ok) this.o.events.emit('notify:sent', { title, priority });
        else this.o.events.emit('notify:failed', { title, error: r.error ?? `status ${r.status}` });
      },
      (err: unknown) => this.o.events.emit('notify:failed', { title, error: String(err) }),
    );
  }

  /** A pause ping, keyed by the pause it is about (so that pause ending can cancel it). */
  pause(key: string, msg: NtfyMessage): void {
    const c = this.o.config();
    if (!this.o.interactive || c.ntfy.always) return this.notify(msg);
    this.deferred.set(key, msg);
    this.check();
  }

  private check(): void {
    if (!this.deferred.size) return;
    const awayMs = this.o.config().ntfy.away_after_s * 1000;
    const idle = this.o.now() - this.lastKeystrokeAt;
    if (idle >= awayMs) {
      const due = [...this.deferred.values()];
      this.deferred.clear();
      for (const msg of due) this.notify(msg);
      return;
    }
    this.o.timers.after(awayMs - idle + 10, () => this.check(), { key: DEFERRED, replace: true });
  }

  /** The item this key names is over: its waiting ping is not sent. Without a key, every waiting ping. */
  cancel(key?: string): void {
    if (key === undefined) this.deferred.clear();
    else this.deferred.delete(key);
    if (!this.deferred.size) this.o.timers.cancel(DEFERRED);
  }

  private phoneOn(): PhoneReplies | null {
    return this.o.phone && this.o.config().ntfy.accept_replies ? this.o.phone : null;
  }

  private button(phone: PhoneReplies, label: string, body: string): NtfyAction {
    return {
      action: 'http',
      label,
      url: phone.replyUrl,
      method: 'POST',
      body,
      clear: true,
      ...(phone.token ? { headers: { Authorization: `Bearer ${phone.token}` } } : {}),
    };
  }

  /** Approve, Drop, and Answer (opens the reply topic, where the operator can type). At most three: ntfy's limit. */
  heldButtons(code: string): NtfyAction[] | undefined {
    const phone = this.phoneOn();
    if (!phone) return undefined;
    return [
      this.button(phone, 'Approve', `/approve ${code}`),
      this.button(phone, 'Drop', `/drop ${code}`),
      { action: 'view', label: 'Answer', url: phone.replyUrl },
    ];
  }

  resumeButtons(code: string): NtfyAction[] | undefined {
    const phone = this.phoneOn();
    if (!phone) return undefined;
    return [this.button(phone, 'Resume once', `/resume ${code}`), { action: 'view', label: 'Answer', url: phone.replyUrl }];
  }

  /** The phone-reply adapter, when replies are accepted. */
  replies(): PhoneReplies | null {
    return this.phoneOn();
  }
}
