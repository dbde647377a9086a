import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import type { ChatClient, ChatRequest, ChatResult } from '../../src/engine/kernel/ports.js';
import { Relay, type RelayOptions } from '../../src/engine/relay.js';
import { answerBatch } from '../../src/demo/fake-api-batch.js';
import { ensureLayout, rootPaths, type RootPaths } from '../../src/protocol/root.js';

/**
 * In-process relays for the engine's own tests: a temp root, a scripted chat client
 * that records every request, and a session side that acks (reads and deletes
 * input.txt) the way a Claude Code session does.
 */

export function tempRoot(prefix = 'relay-engine-'): RootPaths {
  const paths = rootPaths(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  ensureLayout(paths);
  return paths;
}

export function testConfig(patch: Record<string, unknown> = {}): Config {
  return configSchema.parse({ sessions: [{ id: 'session-1' }, { id: 'session-2' }], ...patch });
}

export const lastUser = (req: ChatRequest) => req.messages[req.messages.length - 1].content;

export interface ScriptedChat extends ChatClient {
  requests: ChatRequest[];
}

/** Replies `reply: <last user text>` (per session for a batch) unless `answer` says otherwise (it may throw, or return a promise). */
export function scriptedChat(
  answer?: (req: ChatRequest, n: number, signal?: AbortSignal) => Partial<ChatResult> | Promise<Partial<ChatResult>>,
): ScriptedChat {
  const requests: ChatRequest[] = [];
  return {
    requests,
    async complete(req, opts) {
      requests.push(req);
      const over = answer ? await answer(req, requests.length, opts?.signal) : {};
      return {
        // A batched message gets one section per session, each `reply: <its message>`.
        text: answerBatch(lastUser(req), (p) => `reply: ${p.text}`) ?? `reply: ${lastUser(req)}`,
        usage: { input_tokens: 100, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        stopReason: 'end_turn',
        model: 'claude-test',
        requestId: null,
        ...over,
      };
    },
  };
}

export function enqueue(paths: RootPaths, name: string, body: Record<string, unknown>, mtimeMs?: number): void {
  const tmp = path.join(paths.queue, `.${name}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(body));
  if (mtimeMs !== undefined) fs.utimesSync(tmp, mtimeMs / 1000, mtimeMs / 1000);
  fs.renameSync(tmp, path.join(paths.queue, name));
}

export function openRelay(paths: RootPaths, o: Partial<RelayOptions> & { chat: ChatClient }): Relay {
  return new Relay({
    paths,
    config: testConfig(),
    notifier: null,
    topic: null,
    maintenanceMs: 3_600_000,
    statusMinIntervalMs: 0,
    faultRetryBaseMs: 3_600_000,
    ...o,
  });
}

/** Takes every delivered reply (the session's ack), recording them per session. */
export function ackAll(paths: RootPaths, got: Map<string, string[]>): void {
  let dirs: string[];
  try {
    dirs = fs.readdirSync(paths.dispatch);
  } catch {
    return;
  }
  for (const s of dirs) {
    const file = path.join(paths.dispatch, s, 'input.txt');
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    fs.unlinkSync(file);
    got.set(s, [...(got.get(s) ?? []), text]);
  }
}

/** Polls (with a generous deadline) until check() is true. */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000, tick?: () => void): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    tick?.();
    if (check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function queueNames(paths: RootPaths): string[] {
  return fs.readdirSync(paths.queue).filter((n) => n.endsWith('.json'));
}
