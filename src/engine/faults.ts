import type { RelayEmitter } from './kernel/events.js';
import { RootFault } from '../fs/faults.js';
import { classifyIn, type Pauses } from './operator/pauses.js';
import type { Timers } from './kernel/timers.js';
import type { LiveCall } from './view/live-call.js';

/**
 * Every error from the loop, a watcher or a timer ends here, and nothing here may
 * throw. A SessionFault pauses that session (the others flow: the loop goes on). Any
 * other error is a RootFault: state error, kept in memory if control.json cannot be
 * written, retried by the relay itself after a backoff (baseMs doubling to maxMs),
 * and on /resume.
 */

export interface FaultHandlerParts {
  root: string;
  controlFile: string;
  pauses: Pauses;
  timers: Timers;
  live: LiveCall;
  events: RelayEmitter;
  baseMs: number;
  maxMs: number;
  kick: () => void;
  stopping: () => boolean;
}

const RETRY_KEY = 'fault-retry';

export class FaultHandler {
  private delayMs: number;

  constructor(private readonly p: FaultHandlerParts) {
    this.delayMs = p.baseMs;
  }

  /** A turn went through: the next root fault starts the backoff again. */
  healthy(): void {
    this.delayMs = this.p.baseMs;
  }

  handle(err: unknown, where: string): void {
    const p = this.p;
    try {
      const f = classifyIn(p.root, err);
      p.live.lastError = `${where}: ${f.message}`;
      // An error with no errno code is a bug, not the disk: its stack helps whoever reads the log.
      const stack = f instanceof RootFault && !f.code && err instanceof Error ? ` ${err.stack ?? ''}` : '';
      p.events.emit('log', { level: f instanceof RootFault ? 'error' : 'warn', message: `${where}: ${f.message}${stack}` });
      if (!p.pauses.fault(f))
        p.events.emit('log', { level: 'error', message: `cannot write ${p.controlFile}; the pause is kept in memory` });
      if (f instanceof RootFault) {
        const delay = this.delayMs;
        this.delayMs = Math.min(delay * 2, p.maxMs);
        p.timers.after(delay, () => this.retry(), { key: RETRY_KEY, replace: true });
      } else {
        p.kick();
      }
    } catch (inner) {
      try {
        process.stderr.write(`relay-tui: while handling ${String(err)}: ${String(inner)}\n`);
      } catch {
        // Nowhere left to report.
      }
    }
  }

  private retry(): void {
    const paused = this.p.pauses.control.paused;
    if (paused?.fault !== 'root' || this.p.stopping()) return;
    this.p.events.emit('log', { level: 'info', message: `retrying after: ${paused.message}` });
    this.p.pauses.setPause(null, 'relay');
    this.p.pauses.trySave();
    this.p.kick();
  }
}
