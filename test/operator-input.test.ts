import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendNotice } from '../src/protocol/hook-notices.js';
import type { ChatFailure, NtfyMessage } from '../src/engine/kernel/ports.js';
import type { RootPaths } from '../src/protocol/root.js';
import { ackAll, enqueue, lastUser, openRelay, scriptedChat, testConfig, tempRoot, until } from './helpers/inproc.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function root(): RootPaths {
  const paths = tempRoot();
  roots.push(paths.root);
  return paths;
}

const sink = () => {
  const sent: NtfyMessage[] = [];
  return { sent, notifier: { publish: async (m: NtfyMessage) => (sent.push(m), { ok: true, status: 200 }) } };
};

describe('operator input', () => {
  it('an operator turn the API refuses (413) pauses with the message; /drop discards that input and the relay goes on', async () => {
    const paths = root();
    const chat = scriptedChat((req) => {
      if (lastUser(req).includes('huge question'))
        throw Object.assign(new Error('413 request_too_large: Request exceeds the maximum size'), {
          retryable: false,
          status: 413,
        } satisfies Partial<ChatFailure>);
      return {};
    });
    const relay = openRelay(paths, { chat });
    await relay.start();
    relay.submit('huge question', 'tui');
    await until(() => relay.state() === 'error', 'the refusal');
    expect(relay.snapshot().status.pause_message).toMatch(/413 request_too_large/);
    const r = relay.submit('/drop', 'tui');
    expect(r).toMatchObject({ ok: true });
    expect(r.message).toMatch(/dropped the operator input/);
    expect(relay.state()).toBe('running');
    expect(fs.readdirSync(paths.operatorInbox).filter((n) => n.endsWith('.txt'))).toEqual([]);
    // Not retried: the next envelope flows, and the refused text was asked once.
    enqueue(paths, 'n.json', { session_id: 'session-1', content: 'next' });
    const got = new Map<string, string[]>();
    await until(
      () => (got.get('session-1')?.length ?? 0) === 1,
      'the next reply',
      15_000,
      () => ackAll(paths, got),
    );
    await relay.stop();
    expect(chat.requests.filter((q) => lastUser(q).includes('huge question'))).toHaveLength(1);
    expect(fs.readFileSync(paths.audit, 'utf8')).toMatch(/"action":"drop-input"/);
  });

  it("hook notices: a typed prompt restarts that session's leash (audited); a stop failure is a warning and a high ping", async () => {
    const paths = root();
    const { sent, notifier } = sink();
    const chat = scriptedChat();
    const relay = openRelay(paths, { chat, notifier, config: testConfig({ guardrails: { max_auto_turns: 2, repeat_threshold: 0 } }) });
    const warnings: string[] = [];
    relay.on('log', (e) => e.level === 'warn' && warnings.push(e.message));
    await relay.start();
    const got = new Map<string, string[]>();
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) enqueue(paths, `${i}.json`, { session_id: 'session-1', content: `m${i}` }, t0 + i * 1000);
    await until(
      () => relay.snapshot().status.sessions['session-1'].paused_reason === 'auto_turns',
      'the leash',
      15_000,
      () => ackAll(paths, got),
    );
    expect(relay.snapshot().status.sessions['session-1'].auto_turns).toBe(2);
    const at = new Date().toISOString();
    appendNotice(paths, {
      at,
      kind: 'prompt_typed',
      session: 'session-1',
      title: 'prompt typed',
      message: 'user typed: keep going',
      priority: 2,
    });
    appendNotice(paths, {
      at,
      kind: 'stop_failure',
      session: 'session-2',
      title: 'turn ended on an API error',
      message: 'rate_limit',
      priority: 5,
    });
    await until(
      () => relay.snapshot().status.sessions['session-1'].auto_turns === 0 && sent.some((m) => m.title?.includes('session-2')),
      'the notices',
      15_000,
      () => ackAll(paths, got),
    );
    // The leash restarted, but the pause is the operator's to lift: /resume or /allow.
    expect(fs.readFileSync(paths.audit, 'utf8')).toMatch(/"source":"hook","action":"prompt-typed"/);
    expect(warnings.some((w) => w.includes('session-2') && w.includes('API error'))).toBe(true);
    expect(sent.find((m) => m.title?.includes('session-2'))?.priority).toBe(5);
    await relay.stop();
  });

  it("an envelope's host is shown per session in status.json and survives a restart", async () => {
    const paths = root();
    enqueue(paths, 'h.json', { session_id: 'session-2', content: 'from afar', host: 'buildbox', source: 'hook' });
    const chat = scriptedChat();
    let relay = openRelay(paths, { chat });
    await relay.start();
    await until(() => relay.snapshot().status.sessions['session-2']?.turns === 1, 'the turn');
    expect(relay.snapshot().status.sessions['session-2'].host).toBe('buildbox');
    expect(relay.snapshot().status.sessions['session-2'].hook_chain).toBe(1);
    await relay.stop();
    const onDisk = JSON.parse(fs.readFileSync(path.join(paths.state, 'status.json'), 'utf8'));
    expect(onDisk.sessions['session-2'].host).toBe('buildbox');
    relay = openRelay(paths, { chat });
    await relay.start();
    expect(relay.snapshot().status.sessions['session-2'].host).toBe('buildbox');
    expect(relay.snapshot().status.sessions['session-2'].hook_chain).toBe(1);
    await relay.stop();
  });
});

describe('what the views read about operator turns', () => {
  it("an operator turn's in-flight status names the session its reply goes to", async () => {
    const paths = root();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const chat = scriptedChat(async (req) => {
      if (lastUser(req).includes('what next')) await gate;
      return {};
    });
    const relay = openRelay(paths, { chat, config: testConfig({ sessions: [{ id: 'session-1' }, { id: 'session-2' }] }) });
    await relay.start();
    const r = relay.submit('what next', 'tui');
    expect(r).toMatchObject({ ok: true });
    await until(() => relay.snapshot().status.inflight !== null, 'the operator turn in flight');
    expect(relay.snapshot().status.inflight).toMatchObject({ kind: 'turn', session: 'operator', route: 'session-1' });
    release();
    await until(() => relay.snapshot().tail.some((t) => t.session === 'operator'), 'the operator turn');
    expect(relay.snapshot().tail.find((t) => t.session === 'operator')).toMatchObject({ route: 'session-1' });
    await relay.stop();
  });
});

describe('/resume tells the truth', () => {
  it('resuming the relay while a reply is held is a success that names what still waits; nothing to resume is not', async () => {
    const paths = root();
    const relay = openRelay(paths, {
      chat: scriptedChat(),
      config: testConfig({ approval: 'all', sessions: [{ id: 'session-1' }, { id: 'session-2' }] }),
    });
    await relay.start();
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'done with step 1' });
    await until(() => relay.snapshot().status.held !== null, 'the held reply');
    expect(relay.submit('/pause', 'tui')).toMatchObject({ ok: true });
    const r = relay.submit('/resume', 'tui');
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/resumed relay \(operator\); still waiting: the reply for session-1 is held/);
    const again = relay.submit('/resume', 'tui');
    expect(again.ok).toBe(false);
    expect(again.message).toMatch(/nothing to resume: the reply for session-1 is held/);
    expect(relay.submit('/resume session-2', 'tui')).toMatchObject({ ok: true, message: 'session-2 is not paused' });
    expect(relay.submit('/resume ZZZZZZ', 'tui').ok).toBe(false);
    await relay.stop();
  });
});

describe('dispatches and held-reply outcomes are data the views read, kept across a restart', () => {
  it('the snapshot and scroll-back pages carry them; a restarted engine gives the same; none counts as a turn', async () => {
    const paths = root();
    const cfg = testConfig({ approval: 'all', sessions: [{ id: 'session-1' }, { id: 'session-2' }] });
    let relay = openRelay(paths, { chat: scriptedChat(), config: cfg });
    await relay.start();
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'step 1 done' });
    await until(() => relay.snapshot().status.held !== null, 'the first held reply');
    const first = relay.snapshot().status.held!.turn;
    expect(relay.submit('/drop', 'tui')).toMatchObject({ ok: true });
    expect(relay.submit('@session-2: check the logs', 'tui')).toMatchObject({ ok: true });
    enqueue(paths, 'b.json', { session_id: 'session-2', content: 'logs are clean' });
    await until(() => relay.snapshot().status.held?.session === 'session-2', 'the second held reply');
    const second = relay.snapshot().status.held!.turn;
    expect(relay.submit('/approve', 'tui')).toMatchObject({ ok: true });
    enqueue(paths, 'c.json', { session_id: 'session-1', content: 'step 2 done' });
    await until(
      () => relay.snapshot().status.held?.session === 'session-1' && relay.snapshot().status.held!.turn > second,
      'the third held reply',
    );
    const third = relay.snapshot().status.held!.turn;
    expect(relay.submit('@session-1: never mind, stop', 'tui')).toMatchObject({ ok: true });
    const live = relay.snapshot().notes;
    const shape = (ns: typeof live) =>
      ns.map((n) =>
        n.kind === 'dispatch'
          ? `dispatch ${n.session} after ${n.afterSeq}: ${n.text}`
          : n.kind === 'outcome'
            ? `${n.how} ${n.session} turn ${n.seq}`
            : `superseded ${n.what} ${n.session}`,
      );
    expect(shape(live)).toEqual([
      `dropped session-1 turn ${first}`,
      `dispatch session-2 after ${first}: check the logs`,
      `approved session-2 turn ${second}`,
      `replaced session-1 turn ${third}`,
      `dispatch session-1 after ${third}: never mind, stop`,
    ]);
    const turns = relay.snapshot().status.history_turns;
    const ledgerTurns = relay.snapshot().status.sessions['session-1'].turns + relay.snapshot().status.sessions['session-2'].turns;
    await relay.stop();

    relay = openRelay(paths, { chat: scriptedChat(), config: cfg });
    await relay.start();
    const after = relay.snapshot();
    expect(shape(after.notes)).toEqual(shape(live));
    expect(after.notes.map((n) => n.id)).toEqual(live.map((n) => n.id));
    // Not turns: the conversation, the ledger and the guard count only the three API turns.
    expect(after.status.history_turns).toBe(turns);
    expect(turns).toBe(3);
    expect(after.status.sessions['session-1'].turns + after.status.sessions['session-2'].turns).toBe(ledgerTurns);
    // A scroll-back page carries the notes among its turns.
    const page = relay.historyPage({ beforeSeq: third, limit: 10 });
    expect(page.turns.map((t) => t.seq)).toEqual([first, second]);
    expect(shape(page.notes)).toEqual(shape(live).slice(0, 3));
    await relay.stop();
  });
});
