import type { RelayEventName, RelayEvents } from '../../src/engine/kernel/events.js';
import type { OperatorSource } from '../../src/engine/kernel/source.js';
import type { SessionStatus, Status } from '../../src/protocol/status.js';
import type { ConversationNote } from '../../src/engine/journals/notes.js';
import type {
  HistoryPage,
  HistoryTurn,
  RelayLike,
  RelaySnapshot,
  SubmitOptions,
  SubmitResultLike,
  TailEntry,
} from '../../src/engine/api.js';

export const NOW = Date.parse('2026-05-02T15:30:00Z');
export const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

export function session(over: Partial<SessionStatus> = {}): SessionStatus {
  return {
    registered: true,
    description: null,
    pending: 0,
    awaiting_ack: false,
    awaiting_ack_since: null,
    turns: 0,
    cost_usd: 0,
    today_cost_usd: 0,
    last_activity_at: null,
    paused_reason: null,
    paused_message: null,
    auto_turns: 0,
    hook_chain: 0,
    queued: 0,
    ...over,
  };
}

export function status(over: Partial<Status> = {}): Status {
  return {
    state: 'running',
    pause_reason: null,
    pause_message: null,
    started_at: iso(3_725_000),
    updated_at: iso(0),
    model: 'claude-opus-4-7',
    approval: 'needs_jc',
    queue_depth: 0,
    queue_oldest_at: null,
    rejected_count: 0,
    last_rejection: null,
    sessions: { 'session-1': session({ turns: 3, cost_usd: 0.42 }), 'session-2': session() },
    last_dispatch_at: null,
    last_dispatch_session: null,
    last_needs_jc_text: null,
    held: null,
    inflight: null,
    retry: null,
    last_error: null,
    history_turns: 0,
    history_tokens: 0,
    summaries: 0,
    total_input_tokens: 0,
    total_output_tokens: 0,
    total_cache_read_tokens: 0,
    total_cache_write_tokens: 0,
    total_cost_usd: 0,
    today_cost_usd: 0,
    last_turn_cost_usd: null,
    budget_usd_per_day: 20,
    ntfy_topic: 'relay-3f9a0c2b7d4e61aa',
    pid: 4242,
    ...over,
  };
}

export function turn(seq: number, session: string, user: string, reply: string, over: Partial<TailEntry> = {}): TailEntry {
  return {
    seq,
    at: iso((100 - seq) * 60_000),
    session,
    route: session,
    user: `[${session}] ${iso(0)}\n${user}`,
    reply,
    costUsd: 0.0123,
    ...over,
  };
}

type Listener = (p: unknown) => void;

/** A RelayLike over a snapshot the test mutates; submit() calls are recorded. */
export class FakeRelay implements RelayLike {
  snap: RelaySnapshot;
  /** What submit() received; `opts` only when the caller gave options (a plain answer's target). */
  submits: Array<{ text: string; source: OperatorSource; opts?: SubmitOptions }> = [];
  presence = 0;
  stopped = 0;
  historyCalls = 0;
  fullHistory: HistoryTurn[] = [];
  reply: (text: string) => SubmitResultLike = (text) => ({ ok: true, message: `did ${text}` });
  private listeners = new Set<() => void>();
  private events = new Map<string, Set<Listener>>();

  constructor(over: Partial<Status> = {}, tail: TailEntry[] = []) {
    this.snap = { status: status(over), tail, notes: [], streaming: '', topic: 'relay-3f9a0c2b7d4e61aa' };
  }

  snapshot = (): RelaySnapshot => this.snap;
  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Replaces the snapshot (a new object, as the engine does) and notifies. */
  update(over: Partial<Status> = {}, rest: Partial<Omit<RelaySnapshot, 'status'>> = {}): void {
    this.snap = { ...this.snap, ...rest, status: { ...this.snap.status, ...over } };
    for (const fn of this.listeners) fn();
  }

  submit(text: string, source: OperatorSource, opts?: SubmitOptions): SubmitResultLike {
    this.submits.push(opts ? { text, source, opts } : { text, source });
    return this.reply(text);
  }
  notePresence(): void {
    this.presence++;
  }
  /** Notes the scroll-back pages carry (none when unset). */
  pageNotes: ConversationNote[] | undefined = undefined;
  historyPage({ beforeSeq, limit }: { beforeSeq: number | null; limit: number }): HistoryPage {
    this.historyCalls++;
    const all = this.fullHistory.filter((t) => beforeSeq === null || t.seq < beforeSeq);
    const turns = all.slice(-limit);
    const first = turns[0]?.seq ?? 0;
    return {
      turns,
      atTop: turns.length === all.length,
      notes: (this.pageNotes ?? []).filter((n) => (n.kind === 'outcome' ? n.seq : n.afterSeq) >= first),
    };
  }
  on<K extends RelayEventName>(name: K, fn: (p: RelayEvents[K]) => void): () => void {
    let set = this.events.get(name);
    if (!set) this.events.set(name, (set = new Set()));
    set.add(fn as Listener);
    return () => set!.delete(fn as Listener);
  }
  emit<K extends RelayEventName>(name: K, payload: RelayEvents[K]): void {
    for (const fn of this.events.get(name) ?? []) fn(payload);
  }
  async stop(): Promise<void> {
    this.stopped++;
  }
}
