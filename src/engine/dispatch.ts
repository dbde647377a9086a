import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, writeAtomicExclusive } from '../adapters/fs-atomic.js';
import type { WatchFn } from '../adapters/watch.js';

/**
 * Delivery to dispatch/<session>/input.txt, one reply at a time.
 *
 * Every reply first becomes a file in state/outbox/<session>/ (durable, in order).
 * Delivery is a rename of the oldest one onto input.txt, done only while input.txt
 * is absent: the rename is atomic and moves the reply rather than copying it, so a
 * kill -9 at any point leaves it in exactly one of the two places. Only the relay
 * creates input.txt and it is single-instance, so check-then-rename cannot race.
 * The session deleting input.txt is the ack; a watcher on the directory sees it.
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
}

interface SessionBox {
  pending: string[];
  ids: Set<string>;
  awaitingSince: number | null;
  unwatch: () => void;
}

const ID_RE = /^[A-Za-z0-9_.-]+$/;

export class Dispatcher {
  private boxes = new Map<string, SessionBox>();
  private stamp = 0;
  private closed = false;

  constructor(private readonly o: DispatcherOptions) {}

  private inputFile(session: string): string {
    return path.join(this.o.dispatchDir, session, 'input.txt');
  }

  private outDir(session: string): string {
    return path.join(this.o.outboxDir, session);
  }

  /** Creates the session's directories, loads what waits in its outbox, and starts watching for acks. */
  ensure(session: string): SessionBox {
    let box = this.boxes.get(session);
    if (box) return box;
    const ddir = path.join(this.o.dispatchDir, session);
    fs.mkdirSync(ddir, { recursive: true });
    fs.mkdirSync(this.outDir(session), { recursive: true, mode: 0o700 });
    const pending = fs
      .readdirSync(this.outDir(session))
      .filter((n) => n.endsWith('.txt') && !n.startsWith('.'))
      .sort();
    for (const n of pending) this.stamp = Math.max(this.stamp, Number(n.split('-')[0]) || 0);
    const inputExists = fs.existsSync(this.inputFile(session));
    box = {
      pending,
      ids: new Set(pending.map((n) => n.slice(n.indexOf('-') + 1, -4))),
      awaitingSince: inputExists ? this.mtimeOrNow(this.inputFile(session)) : null,
      unwatch: () => {},
    };
    this.boxes.set(session, box);
    box.unwatch = this.o.watch(
      ddir,
      (name) => {
        if (name === null || name === 'input.txt') this.checkAck(session);
      },
      this.o.onWatchError,
    );
    return box;
  }

  private mtimeOrNow(file: string): number {
    try {
      return fs.statSync(file).mtimeMs;
    } catch {
      return this.o.now();
    }
  }

  sessions(): string[] {
    return [...this.boxes.keys()];
  }

  /** Sessions with an outbox on disk from an earlier run. */
  knownOnDisk(): string[] {
    const out = new Set<string>();
    for (const dir of [this.o.outboxDir, this.o.dispatchDir]) {
      try {
        for (const d of fs.readdirSync(dir, { withFileTypes: true })) if (d.isDirectory() && !d.name.startsWith('.')) out.add(d.name);
      } catch {
        /* not created yet */
      }
    }
    return [...out];
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
   */
  enqueue(session: string, text: string, id: string): boolean {
    if (!ID_RE.test(id)) throw new Error(`bad outbox id ${id}`);
    const box = this.ensure(session);
    if (box.ids.has(id)) return false;
    this.stamp = Math.max(this.stamp + 1, Date.now() * 1000);
    const name = `${String(this.stamp).padStart(17, '0')}-${id}.txt`;
    writeAtomicExclusive(path.join(this.outDir(session), name), text, 0o644);
    box.pending.push(name);
    box.ids.add(id);
    return true;
  }

  /** Writes the next waiting reply if input.txt is free. Returns true when one was written. */
  pump(session: string): boolean {
    const box = this.ensure(session);
    if (this.closed || box.pending.length === 0) return false;
    const target = this.inputFile(session);
    if (fs.existsSync(target)) {
      if (box.awaitingSince === null) box.awaitingSince = this.mtimeOrNow(target);
      this.o.onWaiting(session, box.pending.length);
      return false;
    }
    const name = box.pending[0];
    const from = path.join(this.outDir(session), name);
    let chars = 0;
    try {
      chars = fs.statSync(from).size;
      fs.renameSync(from, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Already delivered by a run that died before updating memory: skip it.
      box.pending.shift();
      return this.pump(session);
    }
    fsyncDir(path.dirname(target));
    box.pending.shift();
    box.ids.delete(name.slice(name.indexOf('-') + 1, -4));
    box.awaitingSince = this.o.now();
    this.o.onWritten(session, chars);
    this.o.onChange();
    return true;
  }

  pumpAll(): void {
    for (const s of this.boxes.keys()) {
      this.refreshAwaiting(s);
      this.pump(s);
    }
  }

  private refreshAwaiting(session: string): void {
    const box = this.boxes.get(session);
    if (box && box.awaitingSince !== null && !fs.existsSync(this.inputFile(session))) box.awaitingSince = null;
  }

  private checkAck(session: string): void {
    const box = this.boxes.get(session);
    if (!box || this.closed) return;
    const exists = fs.existsSync(this.inputFile(session));
    if (box.awaitingSince !== null && !exists) {
      box.awaitingSince = null;
      this.o.onAcked(session);
      this.pump(session);
      this.o.onChange();
    } else if (box.awaitingSince === null && exists) {
      box.awaitingSince = this.mtimeOrNow(this.inputFile(session));
      this.o.onChange();
    }
  }

  close(): void {
    this.closed = true;
    for (const box of this.boxes.values()) box.unwatch();
  }
}
