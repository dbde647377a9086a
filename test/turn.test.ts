import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../src/engine/journals/ledger.js';
import type { ChatFailure } from '../src/engine/kernel/ports.js';
import type { RootPaths } from '../src/protocol/root.js';
import { enqueue, openRelay, scriptedChat, testConfig, tempRoot, until } from './helpers/inproc.js';

/** The turn up to its reply: the guard decides before the call, and the reservation follows what the API could have billed. */

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function root(): RootPaths {
  const paths = tempRoot();
  roots.push(paths.root);
  enqueue(paths, 'a.json', { session_id: 'session-1', content: 'hello' });
  return paths;
}

const failure = (f: ChatFailure) => Object.assign(new Error(f.message), f);
const reload = (paths: RootPaths) => new Ledger(paths.ledger, { readOnly: true });
const ledgerLines = (paths: RootPaths) =>
  fs
    .readFileSync(paths.ledger, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** Rejects when the call is aborted, as the SDK does. */
const hang = (signal: AbortSignal | undefined, reachedApi?: boolean) =>
  new Promise<never>((_, reject) =>
    signal?.addEventListener('abort', () =>
      reject(failure({ message: 'request aborted', retryable: false, ...(reachedApi === undefined ? {} : { reachedApi }) })),
    ),
  );

describe('turn', () => {
  it('a guardrail trips before the call: no request, no reservation', async () => {
    const paths = root();
    const chat = scriptedChat();
    const relay = openRelay(paths, { chat, config: testConfig({ guardrails: { budget_usd_per_day: 0.000001 } }) });
    await relay.start();
    await until(() => relay.state() === 'paused', 'the budget pause');
    await relay.stop();
    expect(chat.requests).toHaveLength(0);
    expect(fs.existsSync(paths.ledger) ? ledgerLines(paths) : []).toEqual([]);
    expect(relay.snapshot().status.pause_reason).toBe('budget_day');
    expect(fs.existsSync(`${paths.queue}/a.json`)).toBe(true);
  });

  it('a 400 releases the reservation (not billed) and pauses with the API message', async () => {
    const paths = root();
    const chat = scriptedChat(() => {
      throw failure({ message: '400 invalid_request_error: prompt is too long', retryable: false, status: 400 });
    });
    const relay = openRelay(paths, { chat });
    await relay.start();
    await until(() => relay.state() === 'error', 'the error pause');
    await relay.stop();
    expect(ledgerLines(paths).map((l) => `${l.t}${l.why ? ` ${l.why}` : ''}`)).toEqual(['reserve', 'release refused']);
    expect(reload(paths).unsettled).toHaveLength(0);
    expect(relay.snapshot().status.pause_message).toMatch(/prompt is too long/);
  });

  it('an abort mid-request keeps the reservation: the call may have been billed', async () => {
    const paths = root();
    const chat = scriptedChat((_req, _n, signal) => hang(signal));
    const relay = openRelay(paths, { chat });
    await relay.start();
    await until(() => chat.requests.length === 1, 'the call');
    await relay.stop();
    const l = reload(paths);
    expect(l.unsettled).toHaveLength(1);
    expect(l.total.costUsd).toBeGreaterThan(0);
  });

  it('an abort before the request reached the API (reachedApi: false) releases it', async () => {
    const paths = root();
    const chat = scriptedChat((_req, _n, signal) => hang(signal, false));
    const relay = openRelay(paths, { chat });
    await relay.start();
    await until(() => chat.requests.length === 1, 'the call');
    await relay.stop();
    expect(reload(paths).unsettled).toHaveLength(0);
    expect(
      ledgerLines(paths)
        .filter((l) => l.t === 'release')
        .map((l) => l.why),
    ).toEqual(['not_sent']);
  });

  it('a clean shutdown during a backoff wait releases it; the retry is announced once', async () => {
    const paths = root();
    const chat = scriptedChat(() => {
      throw failure({ message: '529 overloaded_error: Overloaded', retryable: true, status: 529 });
    });
    const relay = openRelay(paths, { chat, config: testConfig({ api: { outer_retries: 3 } }), retryBaseMs: 60_000, retryMaxMs: 60_000 });
    const logs: string[] = [];
    relay.events.onAny((name, p) => logs.push(name === 'log' ? `log ${(p as { message: string }).message}` : name));
    await relay.start();
    await until(() => relay.snapshot().status.retry !== null, 'the retry wait');
    expect(logs.filter((l) => l === 'turn:retry')).toHaveLength(1);
    expect(logs.filter((l) => /retry/.test(l) && l.startsWith('log'))).toEqual([]);
    await relay.stop();
    expect(reload(paths).unsettled).toHaveLength(0);
    expect(
      ledgerLines(paths)
        .filter((l) => l.t === 'release')
        .map((l) => l.why),
    ).toEqual(['shutdown']);
    expect(fs.existsSync(`${paths.queue}/a.json`)).toBe(true);
  });

  it('a connection refused through every retry releases as not_sent (never reached the API)', async () => {
    const paths = root();
    const chat = scriptedChat(() => {
      throw failure({ message: 'connection refused (ECONNREFUSED)', retryable: false, reachedApi: false });
    });
    const relay = openRelay(paths, { chat });
    await relay.start();
    await until(() => relay.state() === 'error', 'the error pause');
    await relay.stop();
    expect(
      ledgerLines(paths)
        .filter((l) => l.t === 'release')
        .map((l) => l.why),
    ).toEqual(['not_sent']);
  });

  it('turns and summaries record the price entry they were billed at; an unknown model logs the price warning', async () => {
    const paths = root();
    enqueue(paths, 'b.json', { session_id: 'session-1', content: 'again' });
    enqueue(paths, 'c.json', { session_id: 'session-1', content: 'and again' });
    const chat = scriptedChat(() => ({
      usage: { input_tokens: 4000, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    }));
    const relay = openRelay(paths, {
      chat,
      config: testConfig({ model: 'claude-nonesuch-9', history: { cap_tokens: 1000, keep_recent: 1 } }),
    });
    const logs: string[] = [];
    relay.on('log', (e) => logs.push(`${e.level} ${e.message}`));
    await relay.start();
    const billedKinds = () =>
      fs.existsSync(paths.ledger)
        ? ledgerLines(paths)
            .filter((l) => l.kind)
            .map((l) => l.kind)
        : [];
    await until(() => billedKinds().length >= 4, 'three turns and a summary');
    await relay.stop();
    const billed = ledgerLines(paths).filter((l) => l.cost_usd !== undefined && l.kind);
    expect(billed.map((l) => l.kind)).toEqual(['turn', 'turn', 'summary', 'turn']);
    for (const l of billed) expect(l.price_entry).toMatch(/\(unknown model\)$/);
    expect(logs.filter((l) => l.includes('not in the price table'))).toHaveLength(1);
    expect(logs.join('\n')).not.toMatch(/the most expensive/);
  });

  it('a reply cut by max_tokens is delivered, marked truncated in the record, status and tail', async () => {
    const paths = root();
    const chat = scriptedChat(() => ({ text: 'half a rep', stopReason: 'max_tokens' }));
    const relay = openRelay(paths, { chat });
    await relay.start();
    await until(() => fs.existsSync(`${paths.dispatch}/session-1/input.txt`), 'the delivery');
    const s = relay.snapshot();
    await relay.stop();
    expect(fs.readFileSync(`${paths.dispatch}/session-1/input.txt`, 'utf8')).toBe('half a rep');
    expect(s.status.last_turn_truncated).toBe(true);
    expect(s.tail[s.tail.length - 1].truncated).toBe(true);
    expect(relay.historyPage({ beforeSeq: null, limit: Number.MAX_SAFE_INTEGER }).turns[0].truncated).toBe(true);
  });
});
