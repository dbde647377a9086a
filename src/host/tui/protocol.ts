import type {
  ConversationNote,
  HistoryTurn,
  OperatorSource,
  RelayEventName,
  RelayEvents,
  SubmitOptionsLike,
  SubmitResultLike,
  TailEntry,
} from '../../engine/api.js';
import type { Status } from '../../protocol/status.js';
import type { Failure } from '../../cli/exit-codes.js';

/**
 * The messages between the TUI's main thread (Ink, the keyboard) and the engine thread
 * (the Relay, its files and the SDK). Plain data only: everything here is structured-cloned.
 */

/** How the worker opens the relay: the fields of OpenOptions that can cross a thread. */
export interface HostOpenOptions {
  root?: string;
  configFile?: string;
  envOverrides?: Record<string, string | undefined>;
  /** --backend (open-relay.ts): overrides chat.backend. */
  backend?: 'api' | 'claude-code';
  /** Laid over the user's environment for Claude Code only (open-relay.ts). */
  chatEnv?: Record<string, string | undefined>;
  /** Info lines the caller wants in the log once the relay is open (the demo's banner). */
  notes?: string[];
}

export type ToWorker =
  | { t: 'submit'; id: number; text: string; source: OperatorSource; opts?: SubmitOptionsLike }
  | { t: 'presence' }
  | { t: 'history'; id: number; before: number | null; limit: number }
  | { t: 'stop' };

export type ForwardedEvent = { [K in RelayEventName]: [K, RelayEvents[K]] }[RelayEventName];

/** A change of the engine's snapshot: the status whole, the tail as what was appended. */
export interface SnapDelta {
  status: Status;
  streaming: string;
  topic: string | null;
  /** Entries newer than the last delta's (seq ascending); `reset` replaces the view's tail. */
  tail: TailEntry[];
  reset: boolean;
  /** The engine's notes whole, only when they changed (at most NOTES_MAX small entries). */
  notes?: ConversationNote[];
}

export type FromWorker =
  | { t: 'ready'; paths: { root: string; log: string; lock: string }; keys: Record<string, string>; warnings: string[] }
  /** The relay did not start: the error's row in cli/exit-codes.ts, mapped to a code on the main thread. */
  | { t: 'failed'; failure: Failure }
  | { t: 'batch'; events: ForwardedEvent[]; snap: SnapDelta | null }
  | { t: 'submitted'; id: number; result: SubmitResultLike }
  | { t: 'history'; id: number; turns: HistoryTurn[]; atTop: boolean; notes?: ConversationNote[]; error?: string }
  | { t: 'stopped'; error?: string }
  | { t: 'crashed'; error: string };
