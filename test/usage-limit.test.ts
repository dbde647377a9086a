import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { NtfyMessage } from '../src/adapters/ntfy.js';
import type { ChatFailure } from '../src/engine/kernel/ports.js';
import type { Relay } from '../src/engine/relay.js';
import type { RootPaths } from '../src/protocol/root.js';
import { ackAll, enqueue, lastUser, openRelay, scriptedChat, tempRoot, until } from './helpers/inproc.js';

/**
 * A usage limit on chat-Claude's account (the claude-code backend's ChatFailure type
 * 'usage_limit', with the reset time): the whole relay waits, says until when, pings once,
 * and resumes by itself at the reset, after a restart too; /resume earlier is allowed. And
 * the backend's identity and notional cost reach status.json and the ledger.
 */

const relays: Relay[] = [];
const roots: string[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop();
  for (const d of roots.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function limitError(resetsAt: number): ChatFailure & Error {
  return Object.assign(new Error(`usage limit reached; resets at ${new Date(resetsAt).toISOString()}`), {
    retryable: false,
    status: 429,
    type: 'usage_limit',
    resetsAt,
  });
}

function root(): RootPaths {
  const p = tempRoot('relay-usage-limit-');
  roots.push(p.root);
  return p;
}

function start(paths: RootPaths, o: Parameters<typeof openRelay>[1]): Relay {
  const r = openRelay(paths, o);
  relays.push(r);
  void r.start();
  return r;
}

const pinger = () => {
  const sent: NtfyMessage[] = [];
  return { sent, notifier: { publish: async (m: NtfyMessage) => (sent.push(m), { ok: true }) } };
};

describe('a usage limit', () => {
  it('pauses the whole relay until the reset, pings once, then resumes by itself and loses nothing', async () => {
    const paths = root();
    const resetsAt = Date.now() + 600;
    let limited = 0;
    const calledAt: number[] = [];
    const chat = scriptedChat((req) => {
      calledAt.push(Date.now());
      if (String(lastUser(req)).includes('over-limit') && limited++ === 0) throw limitError(resetsAt);
      return {};
    });
    const { sent, notifier } = pinger();
    const relay = start(paths, { chat, notifier, topic: 't' });
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'over-limit' });
    await until(() => relay.snapshot().status.pause_reason === 'usage_limit', 'the usage-limit pause');
    const s = relay.snapshot().status;
    expect(s.state).toBe('paused');
    expect(s.pause_until).toBe(new Date(resetsAt).toISOString());
    expect(s.pause_message).toContain(new Date(resetsAt).toISOString());
    // Another session's envelope and an operator's turn wait too: every call would meet the same limit.
    enqueue(paths, 'b.json', { session_id: 'session-2', content: 'meanwhile' });
    expect(relay.submit('@session-2: is it done?', 'tui').ok).toBe(true);
    expect(relay.submit('an operator question', 'tui').ok).toBe(true);
    const got = new Map<string, string[]>();
    await until(
      () => (got.get('session-1')?.length ?? 0) >= 2 && (got.get('session-2')?.length ?? 0) >= 2,
      'both sessions answered after the reset',
      15_000,
      () => ackAll(paths, got),
    );
    expect(relay.snapshot().status.state).toBe('running');
    // The limited call, then nothing until the reset: every later call came at or after it.
    expect(calledAt.length).toBeGreaterThanOrEqual(4);
    for (const t of calledAt.slice(1)) expect(t).toBeGreaterThanOrEqual(resetsAt);
    expect(chat.requests.filter((r) => String(lastUser(r)).includes('over-limit'))).toHaveLength(2);
    expect(got.get('session-2')).toContain('is it done?');
    expect(sent.filter((m) => /usage limit/i.test(m.title ?? ''))).toHaveLength(1);
  });

  it('/resume before the reset lifts it at once', async () => {
    const paths = root();
    let limited = 0;
    const chat = scriptedChat((req) => {
      if (String(lastUser(req)).includes('over-limit') && limited++ === 0) throw limitError(Date.now() + 3_600_000);
      return {};
    });
    const relay = start(paths, { chat });
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'over-limit' });
    await until(() => relay.snapshot().status.pause_reason === 'usage_limit', 'the usage-limit pause');
    const r = relay.submit('/resume', 'tui');
    expect(r.ok, r.message).toBe(true);
    const got = new Map<string, string[]>();
    await until(
      () => (got.get('session-1')?.length ?? 0) >= 1,
      'the reply after /resume',
      15_000,
      () => ackAll(paths, got),
    );
    expect(got.get('session-1')![0]).toContain('over-limit');
    expect(relay.snapshot().status.state).toBe('running');
  });

  it('survives a restart: a reset already past resumes at start-up, one still ahead keeps the pause', async () => {
    const paths = root();
    const chat = scriptedChat((req) => {
      if (String(lastUser(req)).includes('over-limit')) throw limitError(Date.now() + 3_600_000);
      return {};
    });
    const first = start(paths, { chat });
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'over-limit' });
    await until(() => first.snapshot().status.pause_reason === 'usage_limit', 'the usage-limit pause');
    await first.stop();

    // Restarted within the window: still paused, nothing called.
    const calm = scriptedChat();
    const second = start(paths, { chat: calm });
    await until(() => second.snapshot().status.pause_reason === 'usage_limit', 'the pause kept across the restart');
    expect(calm.requests).toHaveLength(0);
    await second.stop();

    // The reset has passed by the next start (control.json says when it was): the relay resumes by itself.
    const control = JSON.parse(fs.readFileSync(paths.control, 'utf8'));
    control.paused.until = new Date(Date.now() - 1000).toISOString();
    fs.writeFileSync(paths.control, JSON.stringify(control));
    const third = start(paths, { chat: calm });
    const got = new Map<string, string[]>();
    await until(
      () => (got.get('session-1')?.length ?? 0) >= 1,
      'the reply after the reset',
      15_000,
      () => ackAll(paths, got),
    );
    expect(third.snapshot().status.state).toBe('running');
  });
});

describe('the backend in status.json and the ledger', () => {
  it('names the backend and account, and marks a notional cost in status and the ledger line', async () => {
    const paths = root();
    const chat = {
      ...scriptedChat(() => ({ notional: true })),
      describe: () => ({ backend: 'claude-code' as const, account: 'subscription (max)', notional: true }),
    };
    const relay = start(paths, { chat });
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'hello' });
    await until(() => relay.snapshot().status.history_turns === 1, 'one turn');
    const s = relay.snapshot().status;
    expect(s).toMatchObject({ backend: 'claude-code', account: 'subscription (max)', cost_notional: true });
    expect(s.total_cost_usd).toBeGreaterThan(0);
    await relay.stop();
    const lines = fs
      .readFileSync(paths.ledger, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const turn = lines.find((l) => l.kind === 'turn');
    expect(turn).toMatchObject({ notional: true, session: 'session-1' });
  });

  it('a client that does not describe itself is the API with a key: not notional', async () => {
    const paths = root();
    const relay = start(paths, { chat: scriptedChat() });
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'hello' });
    await until(() => relay.snapshot().status.history_turns === 1, 'one turn');
    expect(relay.snapshot().status).toMatchObject({ backend: 'api', account: 'API key', cost_notional: false });
    await relay.stop();
    const turn = fs
      .readFileSync(paths.ledger, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.kind === 'turn');
    expect(turn.notional).toBeUndefined();
  });
});
