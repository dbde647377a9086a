import type { RelayEventName, RelayEvents } from './kernel/events.js';
import type { OperatorSource } from './kernel/source.js';
import type { ConversationNote } from './journals/notes.js';
import type { RelaySnapshot } from './view/snapshot.js';
import type { TailEntry } from './view/tail-entry.js';
import type { RecordedTurnView } from './view/tail-entry.js';

/**
 * The part of the engine's Relay that the terminal UI uses. The real Relay satisfies
 * it structurally (its answers are synchronous); the TUI's engine-thread proxy
 * (src/host/tui/proxy.ts) answers the same calls with promises; tests pass a small fake.
 * The UI never touches the file system: everything it shows comes through these methods.
 */

export interface SubmitResultLike {
  ok: boolean;
  message: string;
  quit?: boolean;
}

/** What a caller adds to an operator input. */
export interface SubmitOptionsLike {
  target?: string;
}

/** One recorded turn as a scroll-back page carries it: the fields of the engine's record the UI reads. */
export type HistoryTurn = RecordedTurnView;

/** Some turns of the history, oldest first; atTop when none is older. */
export interface HistoryPage {
  turns: readonly HistoryTurn[];
  atTop: boolean;
  /** Dispatches and held-reply outcomes among these turns. */
  notes?: readonly ConversationNote[];
}

/** Issue 23: the session a bare /approve|/drop|/resume or plain text acts on (the TUI's selected inbox item). */
export interface SubmitOptions {
  target?: string;
}

export interface RelayLike {
  /** The same object until something changes (useSyncExternalStore's contract). */
  snapshot(): RelaySnapshot;
  subscribe(fn: () => void): () => void;
  /** `opts.target`: the session of the TUI's selected inbox item (a bare /approve, /drop, /resume and plain text act on it). */
  submit(text: string, source: OperatorSource, opts?: SubmitOptionsLike): SubmitResultLike | Promise<SubmitResultLike>;
  notePresence(): void;
  /** Up to `limit` turns older than seq `beforeSeq` (null: the newest): scroll-back a page at a time; reads files, so on demand only. */
  historyPage(q: { beforeSeq: number | null; limit: number }): HistoryPage | Promise<HistoryPage>;
  on<K extends RelayEventName>(name: K, fn: (payload: RelayEvents[K]) => void): () => void;
  stop(): Promise<void>;
}

export type { OperatorSource, RelaySnapshot, TailEntry };
// Everything else a view or the TUI's host may use of the engine comes through here too
// (the front door: a lint rule keeps src/ui, src/host/tui and src/log to this file).
export type { RelayEventName, RelayEvents, RelayEmitter } from './kernel/events.js';
export type { ConversationNote } from './journals/notes.js';
export type { Status, WaitingItemStatus, SessionState } from '../protocol/status.js';
export { tailEntry, recordedTurnView } from './view/tail-entry.js';
