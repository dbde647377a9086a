// A fake Anthropic Messages API on node:http, speaking the real wire format
// (JSON bodies, SSE events, error envelopes, prompt-caching usage) so the real
// @anthropic-ai/sdk can be pointed at it by tests, --demo and the benchmark.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AddressInfo, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { countTokensReply } from './fake-api-count.js';
import { createDefaultResponder } from './fake-api-default.js';
import { isFaultReply, writeFault, type FaultReply } from './fake-api-faults.js';
import { LatencyModel, type LatencyOptions } from './fake-api-latency.js';
import { countTokens, FIVE_MINUTES_MS, PromptCache, promptBlocks, promptTokens } from './fake-api-prompt.js';
import { createReplyWriter } from './fake-api-respond.js';
import type { FakeReply, FakeRequest } from './fake-api-types.js';
import { lastUserText, makeId, systemText, validateBody } from './fake-api-wire.js';

export { countTokens, promptBlocks, promptTokens };

export type { FakeReply, FakeRequest };

/**
 * What a script may hold: a reply, or a transport fault (fake-api-faults.ts: a stall
 * after the headers, a reset mid-body). A reply cut at max_tokens is
 * { text, stopReason: 'max_tokens' }, or any text longer than the request's max_tokens.
 */
export type ScriptedReply = FakeReply | FaultReply;
export type { FaultReply };

export interface FakeApiOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  respond?: (req: FakeRequest) => ScriptedReply | Promise<ScriptedReply>;
  /** Default: each model's own minimum (src/pricing/cache-rules.ts). */
  minCacheableTokens?: number | ((model: string) => number);
  cacheTtlMs?: number;
  now?: () => number;
  chunkSize?: number;
  /** Model ids count_tokens accepts besides the built-in price table's (others: 404 not_found_error). */
  models?: string[];
  /** Answer as slowly as the real API (fake-api-latency.ts); default: at once. */
  latency?: LatencyOptions | LatencyModel;
  /** Usage without the 5m/1h split of cache writes (gateways, proxies, older APIs). */
  omitCacheSplit?: boolean;
}

/** Token sums over every billed reply; `requests` counts all /v1/messages requests, errors included. */
export interface FakeTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  requests: number;
}

export interface FakeApi {
  url: string;
  port: number;
  requests: FakeRequest[];
  script(...replies: ScriptedReply[]): void;
  onRequest(fn: (req: FakeRequest) => void): () => void;
  totals(): FakeTotals;
  close(): Promise<void>;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function startFakeApi(opts: FakeApiOptions = {}): Promise<FakeApi> {
  const host = opts.host ?? '127.0.0.1';
  const chunkSize = Math.max(1, opts.chunkSize ?? 40);
  const cache = new PromptCache({
    minCacheableTokens: opts.minCacheableTokens,
    ttlMs: opts.cacheTtlMs ?? FIVE_MINUTES_MS,
    now: opts.now ?? Date.now,
  });
  const defaultReply = createDefaultResponder();
  const requests: FakeRequest[] = [];
  const queue: ScriptedReply[] = [];
  const listeners = new Set<(req: FakeRequest) => void>();
  const totals: FakeTotals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, requests: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const wakers = new Set<() => void>();
  let closed = false;
  let closing: Promise<void> | undefined;

  // Resolves after ms, or at once when the server closes, so close() never waits on a scripted delay.
  function sleep(ms: number): Promise<void> {
    if (ms <= 0 || closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        timers.delete(t);
        wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      timers.add(t);
      wakers.add(wake);
    });
  }

  const { gone, sendJson, sendError, dispatch } = createReplyWriter({
    cache,
    chunkSize,
    sleep,
    timers,
    isClosed: () => closed,
    omitCacheSplit: opts.omitCacheSplit,
    latency: opts.latency === undefined ? undefined : opts.latency instanceof LatencyModel ? opts.latency : new LatencyModel(opts.latency),
    bill(usage, outputTokens) {
      totals.input += usage.input_tokens;
      totals.cacheRead += usage.cache_read_input_tokens;
      totals.cacheWrite += usage.cache_creation_input_tokens;
      totals.output += outputTokens;
    },
  });

  function authorised(req: http.IncomingMessage): boolean {
    if (opts.apiKey === undefined) return true;
    const bearer = header(req, 'authorization')?.replace(/^Bearer\s+/i, '');
    return (header(req, 'x-api-key') ?? bearer) === opts.apiKey;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const receivedAt = Date.now();
    const arrived = performance.now();
    if (closed) return;

    const path = new URL(req.url ?? '/', 'http://fake').pathname.replace(/\/+$/, '');
    // Claude Code checks that the base URL answers (HEAD /) before its first request.
    if (req.method === 'HEAD' && path === '') return sendJson(res, 200, '');
    const isMessages = path === '/v1/messages';
    if (req.method !== 'POST' || (!isMessages && path !== '/v1/messages/count_tokens')) {
      sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${req.url}`);
      return;
    }

    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any = null;
    let parseError: string | undefined;
    try {
      body = JSON.parse(raw);
    } catch (e) {
      parseError = `Request body is not valid JSON: ${(e as Error).message}`;
    }

    let record: FakeRequest | undefined;
    if (isMessages) {
      record = {
        n: requests.length + 1,
        receivedAt,
        headers: { ...req.headers },
        body,
        stream: body?.stream === true,
        lastUserText: lastUserText(body),
        systemText: systemText(body),
      };
      requests.push(record);
      totals.requests++;
      for (const fn of [...listeners]) fn(record);
    }

    if (!authorised(req)) {
      sendError(res, 401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    const invalid = parseError ?? validateBody(body, isMessages);
    if (invalid) {
      sendError(res, 400, 'invalid_request_error', invalid);
      return;
    }
    if (!record) {
      const counted = countTokensReply(body, opts.models);
      if (counted.ok) sendJson(res, 200, counted.body, { 'request-id': makeId('req') });
      else sendError(res, counted.status, counted.errorType, counted.message);
      return;
    }

    const reply = queue.shift() ?? (opts.respond ? await opts.respond(record) : { text: defaultReply(body) });
    if (isFaultReply(reply)) writeFault(res, body.model, reply, timers);
    else {
      await dispatch(res, record, reply);
      record.servedMs = performance.now() - arrived;
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (gone(res)) return;
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'api_error', `Fake API internal error: ${(err as Error)?.message ?? String(err)}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    requests,
    script: (...replies) => void queue.push(...replies),
    onRequest(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    totals: () => ({ ...totals }),
    close() {
      if (closing) return closing;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const wake of [...wakers]) wake();
      closing = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive and streaming sockets would otherwise hold server.close() open indefinitely.
      for (const s of sockets) s.destroy();
      return closing;
    },
  };
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  const port = Number(argValue(argv, '--port') ?? 0);
  // --latency [SEED]: answer at the speeds of fake-api-latency.ts, for a demo that feels like the real thing.
  const i = argv.indexOf('--latency');
  const seed = i >= 0 && /^\d+$/.test(argv[i + 1] ?? '') ? Number(argv[i + 1]) : 1;
  const latency = i >= 0 ? { seed } : undefined;
  const fake = await startFakeApi({ port, host: argValue(argv, '--host'), apiKey: argValue(argv, '--api-key'), latency });
  // The URL alone on stdout so scripts can capture it; the chatter goes to stderr.
  process.stdout.write(`${fake.url}\n`);
  process.stderr.write(`fake Anthropic API: set ANTHROPIC_BASE_URL=${fake.url}; Ctrl-C to stop\n`);
  fake.onRequest((r) => {
    const preview = r.lastUserText.replace(/\s+/g, ' ').slice(0, 60);
    process.stderr.write(`#${r.n} ${r.stream ? 'stream' : 'create'} ${r.body?.model ?? '?'} "${preview}"\n`);
  });
  const stop = () => void fake.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`fake-api: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
