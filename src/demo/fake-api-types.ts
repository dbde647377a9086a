// What the fake Messages API records of a request and what a script answers with:
// shared by the server (fake-api.ts), the reply writer (fake-api-respond.ts) and the scripts.
import type { CallTiming } from './fake-api-latency.js';

export interface FakeRequest {
  n: number;
  /** Date.now() when the body finished arriving. */
  receivedAt: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  stream: boolean;
  lastUserText: string;
  systemText: string;
  /** The latency model's times for this call, when one paced it (FakeApiOptions.latency). */
  modelled?: CallTiming;
  /** ms from the body's arrival to the reply's last byte handed to the socket (late timers included). */
  servedMs?: number;
}

export type FakeReply =
  // delayMs: before the response starts; chunkDelayMs: between SSE text deltas.
  // Text longer than max_tokens is cut, with stop_reason max_tokens, unless stopReason is given.
  | { text: string; delayMs?: number; chunkDelayMs?: number; stopReason?: string }
  // retryAfterS may be fractional (the SDK parses it with parseFloat) to keep retry tests fast.
  | { status: number; errorType: string; message: string; retryAfterS?: number }
  // On a non-streaming request this becomes a plain HTTP error of the matching status.
  | { midStreamError: { type: string; message: string }; afterText?: string }
  | { hangMs: number }
  // A tool call (Claude Code compatibility): optional text first, then one tool_use block, stop_reason tool_use.
  | ToolUseReply;

/** A tool call (Claude Code compatibility): optional text first, then one tool_use block, stop_reason tool_use. */
export interface ToolUseReply {
  toolUse: { name: string; input: Record<string, unknown>; id?: string };
  text?: string;
}
