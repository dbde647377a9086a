import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type {
  HistoryPage,
  OperatorSource,
  RelayEventName,
  RelayEvents,
  RelayLike,
  RelaySnapshot,
  SubmitOptions,
  SubmitResultLike,
  TailEntry,
} from '../../engine/api.js';
import type { FromWorker, SnapDelta, ToWorker } from './protocol.js';

/** The view keeps at most this many recent turns (the engine's tail is 200). */
export const VIEW_TAIL_MAX = 200;

export interface PortLike {
  postMessage(m: ToWorker): void;
  on(event: 'message', fn: (m: FromWorker) => void): unknown;
}

/**
 * The Relay as the main thread sees it when the engine runs in a worker: the last
 * snapshot the worker sent, events re-emitted here, submit() and historyPage() as requests
 * answered by the worker. Satisfies RelayLike, so the view cannot tell the difference
 * except that submit() resolves a little later.
 */
export class RelayProxy implements RelayLike {
  private snap: RelaySnapshot | null = null;
  private firstSnap: Array<() => void> = [];
  private readonly listeners = new Set<() => void>();
  private readonly events = new EventEmitter();
  private nextId = 1;
  private readonly submits = new Map<number, (r: SubmitResultLike) => void>();
  private readonly pages = new Map<number, { resolve: (p: HistoryPage) => void; reject: (e: Error) => void }>();
  private stopped: Promise<void> | null = null;
  private resolveStopped: (() => void) | null = null;
  /** Set when the worker is gone (exit or crash): requests are answered at once. */
  private gone: string | null = null;

  constructor(private readonly port: PortLike) {
    this.events.setMaxListeners(100);
    port.on('message', (m) => this.onMessage(m));
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'batch':
        for (const [name, payload] of m.events) this.emit(name, payload);
        if (m.snap) this.apply(m.snap);
        return;
      case 'submitted':
        this.submits.get(m.id)?.(m.result);
        this.submits.delete(m.id);
        return;
      case 'history': {
        const p = this.pages.get(m.id);
        this.pages.delete(m.id);
        if (!p) return;
        if (m.error) p.reject(new Error(m.error));
        else p.resolve({ turns: m.turns, atTop: m.atTop, notes: m.notes ?? [] });
        return;
      }
      case 'stopped':
        if (m.error) this.emit('log', { level: 'error', message: `while stopping the relay: ${m.error}` });
        this.resolveStopped?.();
        return;
      default:
        return;
    }
  }

  /** Applies one batch's snapshot: a new object, so useSyncExternalStore sees the change. */
  apply(d: SnapDelta): void {
    let tail: TailEntry[] = this.snap?.tail ?? [];
    if (d.reset) tail = d.tail.slice(-VIEW_TAIL_MAX);
    else if (d.tail.length) tail = [...tail, ...d.tail].slice(-VIEW_TAIL_MAX);
    this.snap = { status: d.status, streaming: d.streaming, topic: d.topic, tail, notes: d.notes ?? this.snap?.notes ?? [] };
    for (const r of this.firstSnap.splice(0)) r();
    for (const fn of this.listeners) {
      try {
        fn();
      } catch {
        /* a view's problem is the view's */
      }
    }
  }

  /** A line from outside the engine's own events (what the engine thread printed). */
  injectLog(level: 'warn' | 'error', message: string): void {
    this.emit('log', { level, message });
  }

  private emit<K extends RelayEventName>(name: K, payload: RelayEvents[K]): void {
    this.events.emit(name, payload);
  }

  /** Resolves once the worker sent its first snapshot (the view renders from then on). */
  ready(): Promise<void> {
    return this.snap ? Promise.resolve() : new Promise((r) => this.firstSnap.push(r));
  }

  snapshot = (): RelaySnapshot => {
    if (!this.snap) throw new Error('RelayProxy: no snapshot yet (await ready())');
    return this.snap;
  };

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  on<K extends RelayEventName>(name: K, fn: (payload: RelayEvents[K]) => void): () => void {
    const safe = (p: RelayEvents[K]) => {
      try {
        fn(p);
      } catch {
        /* as the engine's emitter: a listener cannot break the others */
      }
    };
    this.events.on(name, safe);
    return () => this.events.off(name, safe);
  }

  submit(text: string, source: OperatorSource, opts?: SubmitOptions): Promise<SubmitResultLike> {
    if (this.gone) return Promise.resolve({ ok: false, message: `the relay is not running (${this.gone})` });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.submits.set(id, resolve);
      this.port.postMessage(opts ? { t: 'submit', id, text, source, opts } : { t: 'submit', id, text, source });
    });
  }

  notePresence(): void {
    if (!this.gone) this.port.postMessage({ t: 'presence' });
  }

  historyPage({ beforeSeq: before, limit }: { beforeSeq: number | null; limit: number }): Promise<HistoryPage> {
    if (this.gone) return Promise.reject(new Error(`the relay is not running (${this.gone})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pages.set(id, { resolve, reject });
      this.port.postMessage({ t: 'history', id, before, limit });
    });
  }

  /** The worker ended (exit or crash): pending requests fail, stop() resolves. */
  markGone(why: string): void {
    this.gone = why;
    for (const r of this.submits.values()) r({ ok: false, message: `the relay is not running (${why})` });
    this.submits.clear();
    for (const p of this.pages.values()) p.reject(new Error(`the relay is not running (${why})`));
    this.pages.clear();
    this.resolveStopped?.();
  }

  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopped = new Promise<void>((r) => (this.resolveStopped = r));
    if (this.gone) this.resolveStopped!();
    else this.port.postMessage({ t: 'stop' });
    return this.stopped;
  }
}

export type { Worker };
