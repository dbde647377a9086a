import type { OperatorSource } from './source.js';
import type { PauseReason, RelayState, TurnSource } from '../../protocol/status.js';

/**
 * Everything the engine tells its views. Views (the TUI, the headless logger) only
 * listen; a listener that throws is reported and cannot stop the loop.
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

export class RelayEmitter {
  private listeners: { [K in RelayEventName]?: Set<Listener<K>> } = {};
  private anyListeners = new Set<AnyListener>();

  on<K extends RelayEventName>(name: K, fn: Listener<K>): () => void {
    const set: Set<Listener<K>> = this.listeners[name] ?? new Set<Listener<K>>();
    (this.listeners as Record<K, Set<Listener<K>>>)[name] = set;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Every event, in order: what a logger wants. */
  onAny(fn: AnyListener): () => void {
    this.anyListeners.add(fn);
    return () => this.anyListeners.delete(fn);
  }

  emit<K extends RelayEventName>(name: K, payload: RelayEvents[K]): void {
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
