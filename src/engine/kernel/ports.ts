import type { ChatCallOptions, ChatMessage, ChatRequest, ChatResult } from '../../adapters/anthropic.js';
import type { NtfyAction, NtfyMessage, PublishResult } from '../../adapters/ntfy.js';
import type { WatchFn } from '../../fs/watch.js';

/**
 * What the engine needs from the outside world, as interfaces: the Messages API, ntfy
 * pings, phone replies, the clock, a directory watch. The adapters (src/adapters)
 * implement the first three and the host hands them to the Relay; the engine imports
 * only types from src/adapters (the request and message shapes are the Anthropic
 * adapter's, re-exported here), never their functions, so a test replaces each with
 * a few lines. src/fs is not behind a port: the engine calls it directly, and WatchFn
 * is one only so that a test can drive the watchers (the default is fs/watch.ts).
 */

export type { ChatCallOptions, ChatMessage, ChatRequest, ChatResult, NtfyAction, NtfyMessage, PublishResult, WatchFn };

/** The Messages API. complete() rejects with a ChatFailure-shaped error. */
export interface ChatClient {
  complete(req: ChatRequest, opts?: ChatCallOptions): Promise<ChatResult>;
  /** Who answers (status.json's backend and account); a client without it is the API with the relay's key. */
  describe?(): ChatIdentity;
}

/** The backend and the account it bills: the TUI header, `status`, and whether cost is notional (at API prices). */
export interface ChatIdentity {
  backend: 'api' | 'claude-code';
  /** e.g. "API key", "subscription (max)", "bedrock"; null until the backend has said. */
  account: string | null;
  /** The account does not pay per token (a subscription): cost is shown as `≈ $x at API prices`. */
  notional: boolean;
}

export const API_IDENTITY: ChatIdentity = { backend: 'api', account: 'API key', notional: false };

/** How a failed call is described (the adapter's ChatError has this shape). */
export interface ChatFailure {
  message: string;
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  /** false: the request never left this machine (not billed). Unknown when absent. */
  reachedApi?: boolean;
  /** The adapter's kind of error ('usage_limit': the account's usage limit, not retryable; the relay waits for resetsAt). */
  type?: string;
  /** When a usage limit resets (ms since the epoch), when the backend said. */
  resetsAt?: number;
}

/** ntfy pings. */
export interface Notifier {
  publish(msg: NtfyMessage): Promise<PublishResult>;
}

/**
 * Answering from the phone: pause pings carry buttons that publish to a second,
 * secret topic, which the relay subscribes to.
 */
export interface PhoneReplies {
  /** server/topic of the reply topic: where the buttons publish, and what "Answer" opens. */
  replyUrl: string;
  /** Sent with the buttons' requests for a self-hosted server that needs it. */
  token?: string;
  subscribe(
    since: string,
    onMessage: (m: { id: string; message: string }) => void,
    onState: (s: { connected: boolean; error?: string }) => void,
  ): { close(): void };
}

/** Milliseconds since the epoch. Every time the engine reads or writes comes from here. */
export type Clock = () => number;

/** The clock's now as an ISO timestamp: what every record and audit line is stamped with. */
export function isoNow(now: Clock): string {
  return new Date(now()).toISOString();
}

/** Any thrown value as a ChatFailure (the adapter already throws one; a test's fake may not). */
export function asChatFailure(err: unknown): ChatFailure {
  if (err && typeof err === 'object' && 'retryable' in err && typeof (err as ChatFailure).message === 'string') return err as ChatFailure;
  return { message: err instanceof Error ? err.message : String(err), retryable: false };
}
