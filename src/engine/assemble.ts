import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { RootPaths } from '../protocol/root.js';
import { Dispatcher } from './mailboxes/dispatch.js';
import { HOOK_NOTICES_NAME } from '../protocol/hook-notices.js';
import { Intake, type QueuedEnvelope } from './mailboxes/intake.js';
import type { RootFault, SessionFault } from '../fs/faults.js';
import type { Clock, WatchFn } from './kernel/ports.js';

/**
 * The file-system edges of the relay, wired to its callbacks: queue/ (intake),
 * dispatch/ (delivery and acks) and the watchers on state/ and the inbox. Every
 * watcher callback runs through `run`, which turns a throw into a fault.
 */

type Run = (where: string, fn: () => void) => void;

export function openIntake(
  p: RootPaths,
  config: () => Config,
  now: Clock,
  h: {
    registered(s: string): boolean;
    rejected(file: string, reason: string): void;
    queued(e: QueuedEnvelope): void;
    retry(name: string, ms: number): void;
    fault(f: RootFault): void;
  },
): Intake {
  return new Intake({
    queueDir: p.queue,
    rejectedDir: p.rejected,
    maxBytes: () => config().limits.max_envelope_bytes,
    isRegistered: (s) => h.registered(s),
    strictSessions: () => config().strict_sessions,
    now,
    onRejected: (file, reason) => h.rejected(file, reason),
    onQueued: (e) => h.queued(e),
    scheduleRetry: (name, ms) => h.retry(name, ms),
    onFault: (f) => h.fault(f),
  });
}

export function openDispatcher(
  p: RootPaths,
  now: Clock,
  watch: WatchFn,
  run: Run,
  h: {
    written(s: string, chars: number): void;
    acked(s: string): void;
    waiting(s: string, n: number): void;
    changed(): void;
    warn(m: string): void;
    fault(f: SessionFault | RootFault): void;
    recovered(s: string): void;
  },
): Dispatcher {
  return new Dispatcher({
    outboxDir: p.outbox,
    dispatchDir: p.dispatch,
    // Ack watchers pump from their own callbacks: a fault there must pause, not crash.
    watch: (dir, fn, onError) => watch(dir, (name) => run(`watch ${dir}`, () => fn(name)), onError),
    now,
    onWritten: (s, chars) => h.written(s, chars),
    onAcked: (s) => h.acked(s),
    onWaiting: (s, n) => h.waiting(s, n),
    onChange: () => h.changed(),
    onWatchError: (m) => h.warn(m),
    // A SessionFault pauses that session alone; a RootFault puts the relay in state error (fault-handler.ts).
    onFault: (f) => h.fault(f),
    onRecovered: (s) => h.recovered(s),
  });
}

/** Watch first, then list: a file that lands in between is seen by one or the other. Returns the unwatchers. */
export function watchRoot(
  p: RootPaths,
  watch: WatchFn,
  run: Run,
  warn: (m: string) => void,
  h: { queue(name: string | null): void; operatorInput(): void; hookNotices(): void },
): Array<() => void> {
  const guarded = (dir: string, fn: (name: string | null) => void) => watch(dir, (n) => run(`watch ${dir}`, () => fn(n)), warn);
  return [
    guarded(p.queue, (name) => h.queue(name)),
    guarded(p.state, (name) => {
      if (name === null || name === path.basename(p.jcInput)) h.operatorInput();
      if (name === null || name === HOOK_NOTICES_NAME) h.hookNotices();
    }),
    guarded(p.operatorInbox, () => h.operatorInput()),
  ];
}
