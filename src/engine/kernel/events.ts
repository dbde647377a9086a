import type { OperatorSource } from '../operator/grammar.js';
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

/** Events kept for names nobody has listened to yet; the oldest go first beyond this. */
export const BACKLOG_MAX = 100;

type Backlogged = { [K in RelayEventName]: [K, RelayEvents[K]] }[RelayEventName];

/**
 * A typed emitter with a backlog until the first listener: an event emitted for a name
 * that has never had a listener (its own or an onAny) is kept, up to BACKLOG_MAX, and
 * handed in order to the first listener that attaches for it. What the engine says
 * before a view attaches (the start-up warnings open-relay passes on) thus reaches
 * whichever view comes, once, without any host re-emitting it. Once a name has had a
 * listener nothing more is kept for it: a view that leaves and comes back does not get
 * a replay.
 */
export class RelayEmitter {
  private listeners: { [K in RelayEventName]?: Set<Listener<K>> } = {};
  private anyListeners = new Set<AnyListener>();
  private backlog: Backlogged[] = [];
  /** Names that have had a listener; `heardAll` once an onAny listener came. */
  private heard = new Set<RelayEventName>();
  private heardAll = false;

  on<K extends RelayEventName>(name: K, fn: Listener<K>): () => void {
    const set: Set<Listener<K>> = this.listeners[name] ?? new Set<Listener<K>>();
    (this.listeners as Record<K, Set<Listener<K>>>)[name] = set;
    set.add(fn);
    if (!this.heardAll && !this.heard.has(name)) {
      this.heard.add(name);
      const mine = this.backlog.filter((e) => e[0] === name);
      if (mine.length) {
        this.backlog = this.backlog.filter((e) => e[0] !== name);
        for (const [, payload] of mine) this.safeCall(() => fn(payload as RelayEvents[K]), name);
      }
    }
    return () => {
      set.delete(fn);
    };
  }

  /** Every event, in order: what a logger wants. The first one takes the whole backlog. */
  onAny(fn: AnyListener): () => void {
    this.anyListeners.add(fn);
    if (!this.heardAll) {
      this.heardAll = true;
      const all = this.backlog;
      this.backlog = [];
      for (const [name, payload] of all) this.safeCall(() => fn(name, payload), name);
    }
    return () => this.anyListeners.delete(fn);
  }

  emit<K extends RelayEventName>(name: K, payload: RelayEvents[K]): void {
    if (!this.heardAll && !this.heard.has(name)) {
      this.backlog.push([name, payload] as Backlogged);
      if (this.backlog.length > BACKLOG_MAX) this.backlog.shift();
      return;
    }
    const set: Set<Listener<K>> | undefined = this.listeners[name];
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
