// Transport faults for the fake Messages API, the ones a real network produces and the
// SDK's own timeout does not cover: a stream that stops after its headers, and a
// connection cut in the middle of the body. Kept apart from the reply writer
// (fake-api-respond.ts), which speaks only well-formed responses.
import type http from 'node:http';
import { makeId, sseEvent } from './fake-api-wire.js';

export type FaultReply =
  // 200 + message_start (+ afterText as deltas), then nothing: no byte, no end, until
  // stallMs (then the socket is destroyed) or the server closes.
  | { stallAfterHeaders: true; afterText?: string; stallMs?: number }
  // 200 + message_start (+ afterText as deltas), then the socket is destroyed (a reset).
  | { resetMidBody: true; afterText?: string };

export function isFaultReply(r: object): r is FaultReply {
  return 'stallAfterHeaders' in r || 'resetMidBody' in r;
}

function startStream(res: http.ServerResponse, model: string, text: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': makeId('req') });
  const message = {
    id: makeId('msg'),
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
  };
  res.write(sseEvent('message_start', { type: 'message_start', message }));
  res.write(sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
  if (text) res.write(sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }));
}

/** Writes the fault; `timers` are the server's, so close() cancels a pending stall. */
export function writeFault(res: http.ServerResponse, model: string, reply: FaultReply, timers: Set<NodeJS.Timeout>): void {
  startStream(res, model, reply.afterText ?? '');
  if ('resetMidBody' in reply) {
    // Let the bytes above leave first, so the client sees a body that stops, not a refused request.
    const t = setTimeout(() => {
      timers.delete(t);
      // A TCP RST where Node has it (>= 18.3), else a plain close: either way the body stops short.
      if (res.socket?.resetAndDestroy) res.socket.resetAndDestroy();
      else res.socket?.destroy();
    }, 20);
    timers.add(t);
    return;
  }
  if (reply.stallMs !== undefined) {
    const t = setTimeout(() => {
      timers.delete(t);
      res.socket?.destroy();
    }, reply.stallMs);
    timers.add(t);
    res.on('close', () => {
      clearTimeout(t);
      timers.delete(t);
    });
  }
}
