import fs from 'node:fs';
import path from 'node:path';
import { checkDir, checkDirWritable, ConfinementError, ensureDir, kindOf } from '../../fs/confine.js';
import { fsyncDir, writeAtomicExclusive } from '../../fs/atomic.js';
import type { WatchFn } from '../../fs/watch.js';
import { INPUT_FILE, sessionDispatchDir, sessionInputFile, sessionOutboxDir } from '../../protocol/root.js';
import { RootFault, SessionFault } from '../../fs/faults.js';
import { outboxId, rootFaultOf, sessionFaultOf, sessionsOnDisk } from './dispatch-files.js';
import { CauseWatch, causeDirs } from './fault-watch.js';
import { setAsideReply, SUPERSEDED_DIR, type ReplyWhy, type SetAsideReason } from './set-aside.js';

/**
 * Delivery to dispatch/<session>/input.txt, one reply at a time.
 *
 * Every reply first becomes a file in state/outbox/<session>/ (durable, in order).
 * Delivery is a rename of the oldest one onto input.txt, done only while input.txt
 * is absent: the rename is atomic and moves the reply rather than copying it, so a
 * kill -9 at any point leaves it in exactly one of the two places. Only the relay
 * creates input.txt and it is single-instance, so check-then-rename cannot race.
 * The session deleting input.txt is the ack; a watcher on the directory sees it.
 *
 * Why no shortcut straight to input.txt when the outbox is empty (it would save the
 * outbox directory's fsync): delivering before the source is removed leaves a crash
 * point (delivered, source still there) where start-up must tell "delivered and already
 * acked" from "never delivered", and the ack destroys the only evidence. The outbox file
 * is that evidence: rename moves it onto input.txt, so "outbox file present" means "not
 * delivered" only if its existence was durable before the conversation line said the
 * turn happened, which costs the same directory fsync the shortcut meant to save.
 *
 * Confinement: dispatch/<session>/ must be a real directory the relay can write, and
 * input.txt (when present) a regular file. Anything else is that session's fault alone
 * (SessionFault): its replies keep waiting in the outbox, the other sessions flow. A
 * failure of state/outbox/ is the root's (RootFault). Nothing here throws anything else,
 * and nothing called from a watcher throws at all: those faults go to onFault.
 */

export interface DispatcherOptions {
  outboxDir: string;
  dispatchDir: string;
  watch: WatchFn;
  now: () => number;
  onWritten: (session: string, chars: number) => void;
  onAcked: (session: string) => void;
  onWaiting: (session: string, pending: number) => void;
  onChange: () => void;
  onWatchError?: (message: string) => void;
  /** A fault found outside a caller's try (an ack watcher, pumpAll); reported once per distinct message. */
  onFault?: (fault: SessionFault | RootFault) => void;
  /** The session's dispatch directory is usable again after a fault. */
  onRecovered?: (session: string) => void;
}

interface SessionBox {
  pending: string[];
  ids: Set<string>;
  awaitingSince: number | null;
  unwatch: (() => void) | null;
  fault: SessionFault | null;
  /** While faulted: watches on what caused it, so the fault ends the moment it is fixed. */
  healing: CauseWatch;
}

/** A listener's problem must not become the dispatcher's. */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    /* nothing to add: the listener reports its own trouble */
  }
}

const ID_RE = /^[A-Za-z0-9_.-]+$/;

export class Dispatcher {
  private boxes = new Map<string, SessionBox>();
  private stamp = 0;
  private closed = false;

  constructor(private readonly o: DispatcherOptions) {}

  // The layout is protocol/root.ts's; this class only knows its two folders.
  private sessionDir(session: string): string {
    return sessionDispatchDir({ dispatch: this.o.dispatchDir }, session);
  }

  private inputFile(session: string): string {
    return sessionInputFile({ dispatch: this.o.dispatchDir }, session);
  }

  private outDir(session: string): string {
    return sessionOutboxDir({ outbox: this.o.outboxDir }, session);
  }

  /** dispatch/ and dispatch/<session>/ are real directories this process can use; creates the latter. */
  private checkSessionDir(session: string): void {
    const dir = this.sessionDir(session);
    try {
      if (!checkDir(this.o.dispatchDir)) fs.mkdirSync(this.o.dispatchDir, { recursive: true });
      checkDir(this.o.dispatchDir);
      ensureDir(dir);
      checkDirWritable(dir);
    } catch (err) {
      throw sessionFaultOf(session, dir, err);
    }
  }

  /** 'absent' | 'present'; anything but a regular file is the session's fault. */
  private inputState(session: string): 'absent' | 'present' {
    const file = this.inputFile(session);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      throw sessionFaultOf(session, file, err);
    }
    if (!st.isFile()) throw sessionFaultOf(session, file, new ConfinementError(file, kindOf(st), 'file'));
    return 'present';
  }

  private setFault(box: SessionBox, fault: SessionFault): void {
    const fresh = box.fault?.message !== fault.message;
    box.fault = fault;
    if (box.unwatch) {
      box.unwatch();
      box.unwatch = null;
    }
    this.watchCause(fault.session, box);
    if (fresh) this.o.onChange();
  }

  /** While faulted, the relay watches what caused it (fault-watch.ts): a fix retries at once. */
  private watchCause(session: string, box: SessionBox): void {
    if (!this.closed) box.healing.aim(causeDirs(this.o.dispatchDir, this.sessionDir(session)), () => this.heal(session));
  }

  /** From a watch on the cause (must not throw): fixed, what waits goes out; not yet, setFault re-aims the watches. */
  private heal(session: string): void {
    const box = this.boxes.get(session);
    if (!box?.fault || this.closed) return;
    try {
      if (!this.revalidate(session, box)) this.pump(session);
    } catch (err) {
      this.contain(session, box, this.sessionDir(session), err);
    }
  }

  /** A fault caught where nothing may throw (a watcher): recorded and reported. */
  private contain(session: string, box: SessionBox, where: string, err: unknown): void {
    const f = err instanceof SessionFault || err instanceof RootFault ? err : sessionFaultOf(session, where, err);
    if (f instanceof SessionFault) this.setFault(box, f);
    this.report(f);
  }

  private report(fault: SessionFault | RootFault): void {
    quietly(() => this.o.onFault?.(fault));
  }

  /** Validates the session's directory and (re)starts the ack watch; records a fault instead of throwing. */
  private revalidate(session: string, box: SessionBox): SessionFault | null {
    try {
      this.checkSessionDir(session);
      const state = this.inputState(session);
      if (state === 'present' && box.awaitingSince === null) box.awaitingSince = this.mtimeOrNow(this.inputFile(session));
    } catch (err) {
      const f = sessionFaultOf(session, this.sessionDir(session), err);
      if (f instanceof RootFault) throw f;
      this.setFault(box, f);
      return f;
    }
    if (box.fault) {
      box.fault = null;
      box.healing.stop();
      quietly(() => this.o.onRecovered?.(session));
      this.o.onChange();
    }
    if (!box.unwatch && !this.closed) {
      box.unwatch = this.o.watch(
        this.sessionDir(session),
        (name) => {
          if (name === null || name === INPUT_FILE) this.checkAck(session);
        },
        this.o.onWatchError,
      );
    }
    return null;
  }

  /**
   * Creates the session's directories, loads what waits in its outbox, and starts
   * watching for acks. A bad dispatch/<session>/ is recorded (fault(session)), not
   * thrown: the outbox still takes replies. Throws RootFault when state/outbox fails.
   */
  ensure(session: string): SessionBox {
    let box = this.boxes.get(session);
    if (box) return box;
    const odir = this.outDir(session);
    let pending: string[];
    try {
      if (!checkDir(this.o.outboxDir)) fs.mkdirSync(this.o.outboxDir, { recursive: true, mode: 0o700 });
      checkDir(this.o.outboxDir);
      ensureDir(odir, 0o700);
      pending = fs
        .readdirSync(odir)
        .filter((n) => n.endsWith('.txt') && !n.startsWith('.'))
        .sort();
    } catch (err) {
      throw rootFaultOf(odir, err);
    }
    for (const n of pending) this.stamp = Math.max(this.stamp, Number(n.split('-')[0]) || 0);
    box = {
      pending,
      ids: new Set(pending.map((n) => outboxId(n))),
      awaitingSince: null,
      unwatch: null,
      fault: null,
      healing: new CauseWatch(this.o.watch, this.o.onWatchError),
    };
    this.boxes.set(session, box);
    const f = this.revalidate(session, box);
    if (f) this.report(f);
    // A fault pause recorded by an earlier run whose cause is gone now: it ends here.
    else quietly(() => this.o.onRecovered?.(session));
    return box;
  }

  private mtimeOrNow(file: string): number {
    try {
      return fs.lstatSync(file).mtimeMs;
    } catch {
      return this.o.now();
    }
  }

  sessions(): string[] {
    return [...this.boxes.keys()];
  }

  /** The fault that keeps this session's replies in the outbox, if any. */
  fault(session: string): SessionFault | null {
    return this.boxes.get(session)?.fault ?? null;
  }

  faults(): SessionFault[] {
    return [...this.boxes.values()].flatMap((b) => (b.fault ? [b.fault] : []));
  }

  /** Sessions with an outbox on disk from an earlier run (links and files there are not sessions). */
  knownOnDisk(): string[] {
    return sessionsOnDisk([this.o.outboxDir, this.o.dispatchDir]);
  }

  pending(session: string): number {
    return this.boxes.get(session)?.pending.length ?? 0;
  }

  awaitingSince(session: string): number | null {
    return this.boxes.get(session)?.awaitingSince ?? null;
  }

  /**
   * Makes a reply durable in the session's outbox. `id` is deterministic for the
   * turn or input that produced it, so doing this twice after a crash is a no-op.
   * Works while the session is faulted (the reply waits); throws RootFault when the
   * outbox cannot be written (disk full, state/ unwritable).
   */
  enqueue(session: string, text: string, id: string): boolean {
    if (!ID_RE.test(id)) throw new RootFault(undefined, `bad outbox id ${id}`);
    const box = this.ensure(session);
    if (box.ids.has(id)) return false;
    this.stamp = Math.max(this.stamp + 1, Date.now() * 1000);
    const name = `${String(this.stamp).padStart(17, '0')}-${id}.txt`;
    const file = path.join(this.outDir(session), name);
    try {
      writeAtomicExclusive(file, text, 0o644);
    } catch (err) {
      throw rootFaultOf(file, err);
    }
    box.pending.push(name);
    box.ids.add(id);
    return true;
  }

  get supersededDir(): string {
    return path.join(this.o.outboxDir, SUPERSEDED_DIR);
  }

  /**
   * `@session: text`: every reply still in the session's outbox (not on input.txt) but
   * `keepId` is set aside (set-aside.ts): the operator's is then the one reply in flight.
   */
  supersede(session: string, keepId: string, why: ReplyWhy): SetAsideReason[] {
    const box = this.ensure(session);
    const out: SetAsideReason[] = [];
    for (const name of box.pending.filter((n) => outboxId(n) !== keepId)) {
      const from = path.join(this.outDir(session), name);
      try {
        const r = setAsideReply(from, this.supersededDir, session, name, why);
        if (r) out.push(r);
      } catch (err) {
        throw rootFaultOf(from, err);
      }
      box.pending = box.pending.filter((n) => n !== name);
      box.ids.delete(outboxId(name));
    }
    if (out.length) this.o.onChange();
    return out;
  }

  /**
   * Writes the next waiting reply if input.txt is free. Returns true when one was written.
   * Throws SessionFault when dispatch/<session>/ or its input.txt is unusable (the reply
   * stays in the outbox), RootFault when the outbox is.
   */
  pump(session: string): boolean {
    const box = this.ensure(session);
    if (this.closed || box.pending.length === 0) return false;
    const fault = this.revalidate(session, box);
    if (fault) throw fault;
    const target = this.inputFile(session);
    if (this.inputState(session) === 'present') {
      if (box.awaitingSince === null) box.awaitingSince = this.mtimeOrNow(target);
      this.o.onWaiting(session, box.pending.length);
      return false;
    }
    const name = box.pending[0];
    const from = path.join(this.outDir(session), name);
    let chars: number;
    try {
      chars = fs.lstatSync(from).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw rootFaultOf(from, err);
      // Already delivered by a run that died before updating memory: skip it.
      box.pending.shift();
      return this.pump(session);
    }
    try {
      fs.renameSync(from, target);
      fsyncDir(path.dirname(target));
    } catch (err) {
      const f = sessionFaultOf(session, target, err);
      if (f instanceof SessionFault) this.setFault(box, f);
      throw f;
    }
    box.pending.shift();
    box.ids.delete(outboxId(name));
    box.awaitingSince = this.o.now();
    this.o.onWritten(session, chars);
    this.o.onChange();
    return true;
  }

  /** Every session on its own: one faulted session is reported and skipped, the others are pumped. */
  pumpAll(): void {
    for (const s of this.boxes.keys()) {
      try {
        this.refreshAwaiting(s);
        this.pump(s);
      } catch (err) {
        this.report(err instanceof SessionFault || err instanceof RootFault ? err : sessionFaultOf(s, this.sessionDir(s), err));
      }
    }
  }

  private refreshAwaiting(session: string): void {
    const box = this.boxes.get(session);
    if (box && box.awaitingSince !== null && this.inputState(session) === 'absent') box.awaitingSince = null;
  }

  /** From the directory watch: must not throw (an uncaught exception in a watcher ends the process). */
  private checkAck(session: string): void {
    const box = this.boxes.get(session);
    if (!box || this.closed) return;
    try {
      const exists = this.inputState(session) === 'present';
      if (box.awaitingSince !== null && !exists) {
        box.awaitingSince = null;
        this.o.onAcked(session);
        this.pump(session);
        this.o.onChange();
      } else if (box.awaitingSince === null && exists) {
        box.awaitingSince = this.mtimeOrNow(this.inputFile(session));
        this.o.onChange();
      }
    } catch (err) {
      this.contain(session, box, this.inputFile(session), err);
    }
  }

  close(): void {
    this.closed = true;
    for (const box of this.boxes.values()) {
      box.unwatch?.();
      box.unwatch = null;
      box.healing.stop();
    }
  }
}
