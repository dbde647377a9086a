// Writes one scripted reply onto an HTTP response in the real API's shapes:
// JSON message, SSE event stream, error envelope, or a deliberate hang.
import type http from 'node:http';
import type { LatencyModel } from './fake-api-latency.js';
import { countTokens, promptBlocks, type CacheUsage, type PromptCache } from './fake-api-prompt.js';
import type { FakeReply, FakeRequest, ToolUseReply } from './fake-api-types.js';
import { errorBody, errorTypeForStatus, makeId, sseEvent } from './fake-api-wire.js';

type TextReply = Extract<FakeReply, { text: string; toolUse?: undefined }>;

/** What Claude Code needs to see a model call a tool (a permission prompt, a Bash run). */
type MidStreamReply = Extract<FakeReply, { midStreamError: unknown }>;

export interface WriterContext {
  cache: PromptCache;
  chunkSize: number;
  /** Must resolve early once the server closes. */
  sleep(ms: number): Promise<void>;
  isClosed(): boolean;
  bill(usage: CacheUsage, outputTokens: number): void;
  /** Timers close() must cancel. */
  timers: Set<NodeJS.Timeout>;
  /** When set, a text reply with no delay of its own takes the model's time (fake-api-latency.ts). */
  latency?: LatencyModel;
  /** Leave out usage.cache_creation (the 5m/1h split), as gateways and older APIs do. */
  omitCacheSplit?: boolean;
}

// Reverse of errorTypeForStatus, for a midStreamError scripted on a non-streaming request.
const STATUS_FOR_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

function chunk(text: string, size: number): string[] {
  const chars = Array.from(text); // never split a surrogate pair across two deltas
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function usageBody(u: CacheUsage, outputTokens: number, omitSplit = false) {
  return {
    input_tokens: u.input_tokens,
    cache_creation_input_tokens: u.cache_creation_input_tokens,
    cache_read_input_tokens: u.cache_read_input_tokens,
    ...(omitSplit ? {} : { cache_creation: u.cache_creation }),
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

export function createReplyWriter(ctx: WriterContext) {
  const gone = (res: http.ServerResponse) => ctx.isClosed() || res.destroyed || res.writableEnded;

  function sendJson(res: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}) {
    if (gone(res)) return;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
  }

  function sendError(res: http.ServerResponse, status: number, type: string, message: string, retryAfterS?: number) {
    const requestId = makeId('req');
    const extra: Record<string, string> = { 'request-id': requestId };
    if (retryAfterS !== undefined) extra['retry-after'] = String(retryAfterS);
    sendJson(res, status, errorBody(type, message, requestId), extra);
  }

  // Writes everything up to and including the text deltas; callers finish the stream their own way.
  async function streamText(res: http.ServerResponse, s: { model: string; usage: CacheUsage; text: string; chunkDelayMs: number }) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': makeId('req'),
    });
    const message = {
      id: makeId('msg'),
      type: 'message',
      role: 'assistant',
      model: s.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usageBody(s.usage, 1, ctx.omitCacheSplit),
    };
    res.write(sseEvent('message_start', { type: 'message_start', message }));
    res.write(sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    res.write(sseEvent('ping', { type: 'ping' }));
    for (const piece of chunk(s.text, ctx.chunkSize)) {
      if (gone(res)) return;
      const delta = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } };
      res.write(sseEvent('content_block_delta', delta));
      await ctx.sleep(s.chunkDelayMs);
    }
  }

  async function sendText(res: http.ServerResponse, record: FakeRequest, reply: TextReply) {
    const { body } = record;
    let text = reply.text;
    let stopReason = reply.stopReason ?? 'end_turn';
    // Like the real API, an over-long answer is cut at max_tokens unless the script chose a stop reason.
    if (reply.stopReason === undefined && countTokens(text) > body.max_tokens) {
      text = text.slice(0, body.max_tokens * 4);
      stopReason = 'max_tokens';
    }
    const usage = ctx.cache.apply(body.model, promptBlocks(body));
    const outputTokens = countTokens(text);
    ctx.bill(usage, outputTokens);

    // A script's own delays win; otherwise the latency model, when there is one, paces the reply.
    let delayMs = reply.delayMs ?? 0;
    let chunkDelayMs = reply.chunkDelayMs ?? 0;
    if (ctx.latency && reply.delayMs === undefined && reply.chunkDelayMs === undefined) {
      const timing = ctx.latency.time(body.model, usage.input_tokens + usage.cache_creation_input_tokens, outputTokens);
      record.modelled = timing;
      if (ctx.latency.clock === 'simulated') ctx.latency.advance(timing.totalMs);
      else if (record.stream) {
        delayMs = timing.firstTokenMs;
        // Each delta carries chunkSize characters, ~chunkSize/4 tokens at the fake's tokenizer.
        chunkDelayMs = timing.perTokenMs * countTokens('x'.repeat(ctx.chunkSize));
      } else delayMs = timing.totalMs;
    }
    await ctx.sleep(delayMs);
    if (gone(res)) return;
    if (!record.stream) {
      const message = {
        id: makeId('msg'),
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [{ type: 'text', text }],
        stop_reason: stopReason,
        stop_sequence: null,
        usage: usageBody(usage, outputTokens, ctx.omitCacheSplit),
      };
      sendJson(res, 200, JSON.stringify(message), { 'request-id': makeId('req') });
      return;
    }
    await streamText(res, { model: body.model, usage, text, chunkDelayMs });
    if (gone(res)) return;
    res.write(sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }));
    const delta = { stop_reason: stopReason, stop_sequence: null };
    res.write(sseEvent('message_delta', { type: 'message_delta', delta, usage: { output_tokens: outputTokens } }));
    res.end(sseEvent('message_stop', { type: 'message_stop' }));
  }

  async function sendMidStreamError(res: http.ServerResponse, record: FakeRequest, reply: MidStreamReply) {
    const { type, message } = reply.midStreamError;
    if (!record.stream) {
      sendError(res, STATUS_FOR_TYPE[type] ?? 500, type, message);
      return;
    }
    const text = reply.afterText ?? '';
    const usage = ctx.cache.apply(record.body.model, promptBlocks(record.body));
    ctx.bill(usage, countTokens(text));
    await streamText(res, { model: record.body.model, usage, text, chunkDelayMs: 0 });
    if (gone(res)) return;
    res.end(sseEvent('error', { type: 'error', error: { type, message } }));
  }

  function hang(res: http.ServerResponse, ms: number) {
    const t = setTimeout(() => {
      ctx.timers.delete(t);
      res.socket?.destroy();
    }, ms);
    ctx.timers.add(t);
    res.on('close', () => {
      clearTimeout(t);
      ctx.timers.delete(t);
    });
  }

  async function sendToolUse(res: http.ServerResponse, record: FakeRequest, reply: ToolUseReply) {
    const { body } = record;
    const block = {
      type: 'tool_use',
      id: reply.toolUse.id ?? `toolu_01${makeId('msg').slice(6, 28)}`,
      name: reply.toolUse.name,
      input: reply.toolUse.input,
    };
    const text = reply.text ?? '';
    const usage = ctx.cache.apply(body.model, promptBlocks(body));
    const outputTokens = countTokens(text) + countTokens(JSON.stringify(block.input));
    ctx.bill(usage, outputTokens);
    const content = [...(text ? [{ type: 'text', text }] : []), block];
    if (!record.stream) {
      const message = {
        id: makeId('msg'),
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: usageBody(usage, outputTokens, ctx.omitCacheSplit),
      };
      sendJson(res, 200, JSON.stringify(message), { 'request-id': makeId('req') });
      return;
    }
    await streamText(res, { model: body.model, usage, text, chunkDelayMs: 0 });
    if (gone(res)) return;
    res.write(sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }));
    // The tool call streams as its own block: input_json_delta pieces of the input's JSON.
    res.write(sseEvent('content_block_start', { type: 'content_block_start', index: 1, content_block: { ...block, input: {} } }));
    res.write(
      sseEvent('content_block_delta', {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      }),
    );
    res.write(sseEvent('content_block_stop', { type: 'content_block_stop', index: 1 }));
    res.write(
      sseEvent('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: outputTokens },
      }),
    );
    res.end(sseEvent('message_stop', { type: 'message_stop' }));
  }

  async function dispatch(res: http.ServerResponse, record: FakeRequest, reply: FakeReply) {
    if ('hangMs' in reply) hang(res, reply.hangMs);
    else if ('toolUse' in reply) await sendToolUse(res, record, reply);
    else if ('status' in reply) {
      const type = reply.errorType ?? errorTypeForStatus(reply.status);
      sendError(res, reply.status, type, reply.message, reply.retryAfterS);
    } else if ('midStreamError' in reply) await sendMidStreamError(res, record, reply);
    else if (typeof (reply as TextReply).text === 'string') await sendText(res, record, reply);
    else sendError(res, 500, 'api_error', `Fake API: unrecognised reply ${JSON.stringify(reply)}`);
  }

  return { gone, sendJson, sendError, dispatch };
}
