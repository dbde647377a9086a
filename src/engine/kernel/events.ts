import type { OperatorSource } from './source.js';
import type { PauseReason, RelayState, TurnSource } from '../../protocol/status.js';

/**
 * Everything the engine tells its views. Views (the TUI's engine thread, the headless
 * logger) only listen; a listener that throws is reported and cannot stop the loop.
 */
export interface RelayEvents {
  log: { level: 'info' | 'warn' | 'error'; message: string };
  'envelope:queued': { file: string; session: string };
  'envelope:rejected': { file: string; reason: string };
  'turn:started': { session: string; kind: 'turn' | 'summary'; source: TurnSource; file?: string };
  'turn:delta': { session: string; chars: number };
  'turn:retry': { attempt: number; of: number; message: string; delayMs: number };
  'turn:completed': {
    seq: number;
    session: string;
    route: string;
    costUsd: number;
    cacheHit: number;
    held: 'needs_jc' | 'approval' | null;
    preview: string;
    /** The reply was cut by max_tokens (delivered anyway, marked). */
    truncated?: boolean;
  };
  'turn:failed': { session: string; message: string };
  'summary:done': { replacedTurns: number; keptTurns: number; costUsd: number };
  'dispatch:waiting': { session: string; pending: number };
  'dispatch:written': { session: string; chars: number };
  'dispatch:acked': { session: string };
  'state:changed': { state: RelayState; reason: PauseReason | null; message: string | null };
  'session:paused': { session: string; reason: PauseReason; message: string };
  'session:resumed': { session: string };
  'operator:result': { source: OperatorSource; input: string; ok: boolean; message: string };
  'notify:sent': { title: string; priority: number };
  'notify:failed': { title: string; error: string };
}

export type RelayEventName = keyof RelayEvents;
export type Listener<K extends RelayEventName> = (payload: RelayEvents[K]) => void;
export type AnyListener = <K extends RelayEventName>(name: K, payload: RelayEvents[K]) => void;

/** Events kept until the first view attaches; beyond this the oldest go first. */
export const BACKLOG_MAX = 100;

type Backlogged = { [K in RelayEventName]: [K, RelayEvents[K]] }[RelayEventName];

/**
 * A typed emitter with a backlog until the first view: an event emitted while no view
 * listens (no onAny listener has come yet) and nothing else listens for its name is
 * kept, up to BACKLOG_MAX, and handed in order to the first onAny listener. What the
 * engine says before a view attaches (the start-up warnings open-relay passes on) thus
 * reaches whichever view comes — the headless log, or the TUI thread's relay.log — once,
 * without any host re-emitting it. After that first view nothing more is kept.
 *
 * Only onAny takes the backlog: the views (log sinks, the TUI thread's forwarder) listen
 * with onAny, while a listener for one name may attach late on purpose (bench/inproc.ts
 * starts counting turn:completed after 500 turns) and must not be handed old events.
 */
export class RelayEmitter {
  private listeners: { [K in RelayEventName]?: Set<Listener<K>> } = {};
  private anyListeners = new Set<AnyListener>();
  /** Null once the first view came: from then on nothing is kept. */
  private backlog: Backlogged[] | null = [];

  on<K extends RelayEventName>(name: K, fn: Listener<K>): () => void {
    const set: Set<Listener<K>> = this.listeners[name] ?? new Set<Listener<K>>();
    (this.listeners as Record<K, Set<Listener<K>>>)[name] = set;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Every event, in order: what a logger wants. The first one takes the backlog. */
  onAny(fn: AnyListener): () => void {
    this.anyListeners.add(fn);
    const kept = this.backlog;
    this.backlog = null;
    for (const [name, payload] of kept ?? []) this.safeCall(() => fn(name, payload), name);
    return () => this.anyListeners.delete(fn);
  }

  emit<K extends RelayEventName>(name: K, payload: RelayEvents[K]): void {
    const set: Set<Listener<K>> | undefined = this.listeners[name];
    if (this.backlog && !set?.size) {
      this.backlog.push([name, payload] as Backlogged);
      if (this.backlog.length > BACKLOG_MAX) this.backlog.shift();
      return;
    }
    for (const fn of set ?? []) this.safeCall(() => fn(payload), name);
    for (const fn of this.anyListeners) this.safeCall(() => fn(name, payload), name);
  }

  private safeCall(fn: () => void, name: string): void {
    try {
      fn();
    } catch (err) {
      // Reported on stderr rather than re-emitted: a throwing 'log' listener would recurse.
      process.stderr.write(`relay-tui: a listener for ${name} threw: ${(err as Error)?.stack ?? err}\n`);
    }
  }
}
