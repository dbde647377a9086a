import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OperatorSource } from '../src/engine/kernel/source.js';
import type { Relay } from '../src/engine/relay.js';
import type { RootPaths } from '../src/protocol/root.js';
import { SUPERSEDE_STEPS } from '../src/engine/operator/supersede.js';
import { ackAll, enqueue, lastUser, openRelay, queueNames, scriptedChat, testConfig, tempRoot, until } from './helpers/inproc.js';

/**
 * Issue 23, the engine: a held reply or a guard pause holds its own session (the others
 * flow through the same conversation); every operator action names its target or is
 * refused with the candidates; `@session: text` supersedes what waited for the session.
 * In process, the real Relay on a temp root with a scripted chat-Claude.
 */

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function root(): RootPaths {
  const paths = tempRoot();
  roots.push(paths.root);
  return paths;
}

/** chat-Claude asks the operator whenever a message says "ask"; otherwise it answers. */
const asker = () => scriptedChat((req) => (lastUser(req).includes('ask') ? { text: `[NEEDS-JC] ${lastUser(req).split('\n')[1]}?` } : {}));

const SESSIONS = [
  { id: 'session-1', description: 'one' },
  { id: 'session-2', description: 'two' },
  { id: 'session-3', description: 'three' },
];

function audit(paths: RootPaths): Array<{ action: string; detail?: string; text?: string; input_id?: string }> {
  try {
    return fs
      .readFileSync(paths.audit, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

type State = 'flowing' | 'asking' | 'awaiting_approval' | 'paused';

/** A relay with session-1 in `state` (and its next envelope waiting behind it when held or paused). */
async function inState(state: State) {
  const paths = root();
  const chat = asker();
  const config = testConfig({
    sessions: SESSIONS,
    approval: state === 'awaiting_approval' ? 'all' : 'needs_jc',
    guardrails: { max_auto_turns: state === 'paused' ? 1 : 50, repeat_threshold: 0 },
  });
  const relay = openRelay(paths, { chat, config });
  await relay.start();
  const got = new Map<string, string[]>();
  const t0 = Date.now() - 60_000;
  // From the Stop hook: its turn counts in the session's hook chain, which an operator decision restarts.
  enqueue(paths, 'a.json', { session_id: 'session-1', source: 'hook', content: state === 'asking' ? 'please ask alpha' : 'alpha' }, t0);
  if (state !== 'flowing') enqueue(paths, 'b.json', { session_id: 'session-1', content: 'bravo behind the hold' }, t0 + 1000);
  const s1 = () => relay.snapshot().status.sessions['session-1'];
  await until(
    () => (state === 'flowing' ? (got.get('session-1')?.length ?? 0) === 1 : s1()?.state === state),
    `session-1 ${state}`,
    15_000,
    () => ackAll(paths, got),
  );
  return { paths, chat, relay, got, s1 };
}

interface Row {
  state: State;
  input: string;
  ok: boolean;
  /** What session-1 receives afterwards (besides what it had), in order. */
  receives: RegExp[];
  after: State;
  /** bravo (the envelope waiting behind the hold) was set aside, never asked. */
  bravoSetAside?: boolean;
  message?: RegExp;
  /** What to wait for besides the deliveries. */
  settled?: (r: Relay) => boolean;
}

const held = (s: State) => s === 'asking' || s === 'awaiting_approval';
const heldText = (s: State) => (s === 'asking' ? /^\[NEEDS-JC\] please ask alpha\?$/ : /^reply: \[session-1/);

const rows: Row[] = [];
for (const state of ['asking', 'awaiting_approval', 'paused', 'flowing'] as State[]) {
  const h = held(state);
  for (const target of ['', ' session-1']) {
    rows.push({
      state,
      input: `/approve${target}`,
      ok: h,
      receives: h ? [heldText(state)] : [],
      after: h ? 'flowing' : state,
      message: h ? /approved: dispatched to session-1/ : target ? /session-1 has nothing to approve/ : /^nothing to approve$/,
    });
    rows.push({
      state,
      input: `/drop${target}`,
      ok: h,
      receives: [],
      after: h ? 'flowing' : state,
      message: h ? /dropped the held reply for session-1/ : /nothing to drop/,
    });
    rows.push({
      state,
      input: `/resume${target}`,
      // A held reply is not a pause: bare /resume says what still waits; `/resume session-1` that it is not paused.
      ok: state === 'paused' || !!target || state === 'flowing',
      receives: [],
      after: state === 'paused' ? 'flowing' : state,
      message:
        state === 'paused'
          ? /resumed session-1 \(auto_turns\)/
          : target
            ? /session-1 is not paused/
            : h
              ? /nothing to resume/
              : /not paused/,
    });
  }
  // Under approval: all the answer's own reply waits for approval in its turn.
  const approval = state === 'awaiting_approval';
  rows.push({
    state,
    input: 'Use the second approach.',
    ok: true,
    receives: approval ? [] : [/^reply: \[operator → re session-1\]\nUse the second approach\.$/],
    after: approval ? 'awaiting_approval' : 'flowing',
    message: /the reply goes to session-1/,
    settled: approval ? (r) => !!r.snapshot().status.held?.text.includes('Use the second approach') : undefined,
  });
  rows.push({
    state,
    input: '@session-1: Stop and report.',
    ok: true,
    receives: [/^Stop and report\.$/],
    after: 'flowing',
    bravoSetAside: state !== 'flowing',
    message: /dispatched to session-1/,
  });
}
const SOURCES: OperatorSource[] = ['tui', 'file', 'cli', 'ntfy'];

describe('operator actions × session states × sources', () => {
  rows.forEach((row, i) => {
    const source = SOURCES[i % SOURCES.length];
    it(`${row.state}: ${row.input} (${source}) -> ${row.ok ? 'ok' : 'refused'}, ${row.after}`, async () => {
      const { paths, chat, relay, got, s1 } = await inState(row.state);
      const before = got.get('session-1')?.length ?? 0;
      const decisions = s1().decision_seq ?? 0;
      expect(s1().hook_chain).toBe(1);
      // A flowing session has nothing open: the phone's free text is refused by design (anyone may publish to the topic).
      const phoneRefuses = source === 'ntfy' && row.state === 'flowing' && !row.input.startsWith('/') && !row.input.startsWith('@');
      const r = relay.submit(row.input, source);
      expect(r.ok, r.message).toBe(phoneRefuses ? false : row.ok);
      if (phoneRefuses) return void (await relay.stop());
      if (row.message) expect(r.message).toMatch(row.message);
      const want = before + row.receives.length;
      await until(
        () =>
          (got.get('session-1')?.length ?? 0) >= want &&
          (s1().state === row.after || row.after !== 'flowing') &&
          (row.settled?.(relay) ?? true),
        `session-1 to receive ${row.receives.length} and be ${row.after}`,
        15_000,
        () => ackAll(paths, got),
      );
      const mine = (got.get('session-1') ?? []).slice(before, want);
      row.receives.forEach((re, k) => expect(mine[k]).toMatch(re));
      if (row.bravoSetAside) {
        expect(chat.requests.some((q) => lastUser(q).includes('bravo behind the hold'))).toBe(false);
        expect(queueNames(paths)).toEqual([]);
        expect(fs.readdirSync(path.join(paths.queue, '.superseded'))).toEqual(['b.json', 'b.json.reason']);
        expect(audit(paths).some((e) => e.action === 'superseded' && e.text === 'bravo behind the hold')).toBe(true);
      }
      if (row.ok && row.after === 'flowing' && row.state !== 'flowing') {
        // The operator decided about session-1: the session side sees it move on, with the hook chain and leash restarted.
        expect(s1().decision_seq).toBeGreaterThan(decisions);
        // /resume lets one more call through; it is not the operator speaking to the session (SPEC "Operator input").
        expect(s1().hook_chain).toBe(row.input.startsWith('/resume') ? 1 : 0);
      }
      if (row.after !== 'flowing') expect(s1().state).toBe(row.after);
      await relay.stop();
      // Nothing delivered twice, and a set-aside envelope never delivered afterwards.
      const all = got.get('session-1') ?? [];
      expect(all.filter((t) => t.includes('bravo behind the hold')).length).toBe(
        row.bravoSetAside ? 0 : all.filter((t) => t.includes('bravo')).length,
      );
    });
  });
});

describe('several sessions at once', () => {
  async function twoAsking() {
    const paths = root();
    const chat = asker();
    const relay = openRelay(paths, { chat, config: testConfig({ sessions: SESSIONS, guardrails: { repeat_threshold: 0 } }) });
    await relay.start();
    const got = new Map<string, string[]>();
    const t0 = Date.now() - 60_000;
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'please ask one' }, t0);
    enqueue(paths, 'b.json', { session_id: 'session-2', content: 'please ask two' }, t0 + 1000);
    await until(
      () => relay.snapshot().status.waiting?.length === 2,
      'two questions',
      15_000,
      () => ackAll(paths, got),
    );
    return { paths, relay, got, chat };
  }

  for (const order of [
    ['session-1', 'session-2'],
    ['session-2', 'session-1'],
  ]) {
    it(`two sessions ask at once: a bare /approve is refused with both; answered ${order.join(' then ')}, each gets its own`, async () => {
      const { paths, relay, got } = await twoAsking();
      const s = relay.snapshot().status;
      expect(s.state).toBe('needs_jc');
      expect(s.waiting!.map((w) => [w.session, w.kind])).toEqual([
        ['session-1', 'question'],
        ['session-2', 'question'],
      ]);
      expect(s.held?.session).toBe('session-1');
      const bare = relay.submit('/approve', 'cli');
      expect(bare.ok).toBe(false);
      expect(bare.message).toMatch(/^several wait: session-1 \(question, \d+s\), session-2 \(question, \d+s\); say \/approve session-1$/);
      // The TUI's selection is a bare command's target.
      expect(relay.submit('/approve', 'tui', { target: order[0] })).toMatchObject({
        ok: true,
        message: `approved: dispatched to ${order[0]}`,
      });
      expect(relay.snapshot().status.state).toBe('needs_jc');
      expect(relay.submit(`Answer for the other one.`, 'tui')).toMatchObject({
        ok: true,
        message: `sent to chat-Claude; the reply goes to ${order[1]}`,
      });
      await until(
        () => (got.get(order[1])?.length ?? 0) === 1,
        'the answer',
        15_000,
        () => ackAll(paths, got),
      );
      expect(got.get(order[0])).toEqual([`[NEEDS-JC] please ask ${order[0] === 'session-1' ? 'one' : 'two'}?`]);
      expect(got.get(order[1])![0]).toBe(`reply: [operator → re ${order[1]}]\nAnswer for the other one.`);
      expect(relay.snapshot().status.state).toBe('running');
      expect(relay.snapshot().status.waiting).toEqual([]);
      await relay.stop();
    });
  }

  it('one session asks, another trips its leash, a third keeps flowing; /resume with two pauses is refused', async () => {
    const paths = root();
    const chat = asker();
    const relay = openRelay(paths, {
      chat,
      config: testConfig({ sessions: SESSIONS, guardrails: { max_auto_turns: 1, repeat_threshold: 0 } }),
    });
    await relay.start();
    const got = new Map<string, string[]>();
    const t0 = Date.now() - 60_000;
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'please ask one' }, t0);
    enqueue(paths, 'a2.json', { session_id: 'session-1', content: 'one waits' }, t0 + 500);
    enqueue(paths, 'b.json', { session_id: 'session-2', content: 'two first' }, t0 + 1000);
    enqueue(paths, 'b2.json', { session_id: 'session-2', content: 'two second' }, t0 + 1500);
    const sess = (id: string) => relay.snapshot().status.sessions[id];
    await until(
      () => sess('session-2')?.state === 'paused' && sess('session-1')?.state === 'asking',
      'ask + leash',
      15_000,
      () => ackAll(paths, got),
    );
    // The third session flows meanwhile, three envelopes in a row.
    for (let i = 0; i < 3; i++) enqueue(paths, `c${i}.json`, { session_id: 'session-3', content: `three ${i}` });
    relay.submit('/allow session-3 10', 'cli');
    await until(
      () => (got.get('session-3')?.length ?? 0) === 3,
      'session-3 flowing',
      15_000,
      () => ackAll(paths, got),
    );
    expect(chat.requests.some((q) => lastUser(q).includes('one waits'))).toBe(false);
    expect(chat.requests.some((q) => lastUser(q).includes('two second'))).toBe(false);
    expect(relay.snapshot().status.state).toBe('needs_jc');
    expect(relay.snapshot().status.waiting!.map((w) => `${w.session}:${w.kind}:${w.reason}`)).toEqual([
      'session-1:question:needs_jc',
      'session-2:paused:auto_turns',
    ]);
    relay.submit('/pause', 'tui');
    const r = relay.submit('/resume', 'cli');
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/several wait: .*the relay \(operator, .*session-2 \(auto_turns/);
    expect(relay.submit('/resume relay', 'cli')).toMatchObject({ ok: true, message: 'resumed relay (operator)' });
    expect(relay.submit('/resume', 'cli')).toMatchObject({ ok: true, message: expect.stringMatching(/^resumed session-2 \(auto_turns\)/) });
    await until(
      () => (got.get('session-2')?.length ?? 0) === 2,
      'session-2 again',
      15_000,
      () => ackAll(paths, got),
    );
    expect(relay.submit('/approve session-9', 'cli')).toMatchObject({
      ok: false,
      message: 'unknown session or code session-9 (known sessions: session-1, session-2, session-3)',
    });
    await relay.stop();
  });

  it('on_question: hold_all keeps the old rule: one question stops every session', async () => {
    const paths = root();
    const chat = asker();
    const relay = openRelay(paths, { chat, config: testConfig({ sessions: SESSIONS, on_question: 'hold_all' }) });
    await relay.start();
    const got = new Map<string, string[]>();
    const t0 = Date.now() - 60_000;
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'please ask one' }, t0);
    enqueue(paths, 'b.json', { session_id: 'session-2', content: 'two meanwhile' }, t0 + 1000);
    await until(
      () => relay.snapshot().status.state === 'needs_jc',
      'the question',
      15_000,
      () => ackAll(paths, got),
    );
    // Give the loop every chance to take b.json: the relay goes idle with it still queued.
    await until(
      () => !relay.snapshot().status.inflight,
      'idle',
      15_000,
      () => ackAll(paths, got),
    );
    expect(queueNames(paths)).toEqual(['b.json']);
    expect(chat.requests).toHaveLength(1);
    relay.submit('/drop', 'tui');
    await until(
      () => (got.get('session-2')?.length ?? 0) === 1,
      'session-2 after the drop',
      15_000,
      () => ackAll(paths, got),
    );
    await relay.stop();
  });

  it('three items waiting survive a restart as they were; none is delivered twice', async () => {
    const paths = root();
    const config = testConfig({ sessions: SESSIONS, guardrails: { max_auto_turns: 1, repeat_threshold: 0 } });
    let relay: Relay = openRelay(paths, { chat: asker(), config });
    await relay.start();
    const got = new Map<string, string[]>();
    const t0 = Date.now() - 60_000;
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'please ask one' }, t0);
    enqueue(paths, 'b.json', { session_id: 'session-2', content: 'please ask two' }, t0 + 500);
    enqueue(paths, 'c.json', { session_id: 'session-3', content: 'three first' }, t0 + 1000);
    enqueue(paths, 'c2.json', { session_id: 'session-3', content: 'three second' }, t0 + 1500);
    await until(
      () => relay.snapshot().status.waiting?.length === 3,
      'three items',
      15_000,
      () => ackAll(paths, got),
    );
    const before = relay.snapshot().status.waiting;
    await relay.stop();
    const chat = asker();
    relay = openRelay(paths, { chat, config });
    await relay.start();
    expect(relay.snapshot().status.waiting).toEqual(before);
    expect(chat.requests).toHaveLength(0);
    expect(relay.submit('/approve session-2', 'file').ok).toBe(true);
    expect(relay.submit('/drop session-1', 'cli').ok).toBe(true);
    expect(relay.submit('/resume session-3', 'ntfy').ok).toBe(true);
    await until(
      () => (got.get('session-3')?.length ?? 0) === 2,
      'session-3 resumed',
      15_000,
      () => ackAll(paths, got),
    );
    await relay.stop();
    expect(got.get('session-1')).toBeUndefined();
    expect(got.get('session-2')).toEqual(['[NEEDS-JC] please ask two?']);
    expect(got.get('session-3')!.filter((t) => t.includes('three second'))).toHaveLength(1);
  });
});

describe('the redirect supersedes, crash-safe', () => {
  for (let step = 1; step <= SUPERSEDE_STEPS.length; step++) {
    it(`a crash after step ${step} (${SUPERSEDE_STEPS[step - 1]}): after a restart the redirect is applied once, the superseded never sent nor delivered`, async () => {
      const paths = root();
      const config = testConfig({ sessions: SESSIONS, guardrails: { max_auto_turns: 1, repeat_threshold: 0 } });
      const got = new Map<string, string[]>();
      const t0 = Date.now() - 60_000;
      enqueue(paths, 'a.json', { session_id: 'session-1', content: 'alpha' }, t0);
      enqueue(paths, 'b.json', { session_id: 'session-1', content: 'bravo paused by the leash' }, t0 + 1000);
      enqueue(paths, 'c.json', { session_id: 'session-1', content: 'charlie paused too' }, t0 + 2000);
      const first = scriptedChat();
      const crashing = openRelay(paths, {
        chat: first,
        config,
        afterSupersedeStep: (n) => {
          if (n === step) throw new Error(`injected crash after supersede step ${n}`);
        },
      });
      await crashing.start();
      await until(
        () => crashing.snapshot().status.sessions['session-1']?.state === 'paused',
        'the leash',
        15_000,
        () => ackAll(paths, got),
      );
      const r = crashing.submit('@session-1: Do step 5 and report.', 'cli');
      expect(r.ok).toBe(false);
      await crashing.stop();
      const chat = scriptedChat();
      const relay = openRelay(paths, { chat, config });
      await relay.start();
      await until(
        () => (got.get('session-1')?.length ?? 0) === 2,
        'the redirect',
        15_000,
        () => ackAll(paths, got),
      );
      expect(relay.snapshot().status.sessions['session-1'].state).toBe('flowing');
      expect(relay.snapshot().status.waiting).toEqual([]);
      await relay.stop();
      expect(got.get('session-1')![0]).toMatch(/^reply: \[session-1/);
      expect(got.get('session-1')![1]).toBe('Do step 5 and report.');
      for (const q of [...first.requests, ...chat.requests]) expect(lastUser(q)).not.toMatch(/bravo|charlie/);
      expect(queueNames(paths)).toEqual([]);
      const aside = fs.readdirSync(path.join(paths.queue, '.superseded')).sort();
      expect(aside).toEqual(['b.json', 'b.json.reason', 'c.json', 'c.json.reason']);
      const recorded = audit(paths).filter((e) => e.action === 'superseded');
      expect(new Set(recorded.map((e) => e.text))).toEqual(new Set(['bravo paused by the leash', 'charlie paused too']));
      expect(fs.readdirSync(paths.operatorInbox).filter((n) => n.endsWith('.txt'))).toEqual([]);
    });
  }

  it('undelivered replies in the outbox are set aside too: the operator’s message is the one reply in flight', async () => {
    const paths = root();
    const relay = openRelay(paths, { chat: scriptedChat(), config: testConfig({ sessions: SESSIONS }) });
    await relay.start();
    const t0 = Date.now() - 60_000;
    enqueue(paths, 'a.json', { session_id: 'session-1', content: 'alpha' }, t0);
    enqueue(paths, 'b.json', { session_id: 'session-1', content: 'bravo' }, t0 + 1000);
    // Nobody acks: alpha's reply sits on input.txt, bravo's waits in the outbox.
    await until(() => relay.snapshot().status.sessions['session-1']?.pending === 1, 'a reply waiting in the outbox');
    const r = relay.submit('@session-1: Forget bravo.', 'tui');
    expect(r.message).toMatch(/1 undelivered reply set aside/);
    const s = relay.snapshot().status.sessions['session-1'];
    expect(s.pending).toBe(1);
    expect(s.superseded_through).toBe(2);
    const got = new Map<string, string[]>();
    await until(
      () => (got.get('session-1')?.length ?? 0) === 2,
      'both',
      15_000,
      () => ackAll(paths, got),
    );
    await relay.stop();
    expect(got.get('session-1')![1]).toBe('Forget bravo.');
    expect(
      relay
        .snapshot()
        .notes.filter((n) => n.kind === 'superseded')
        .map((n) => n.kind === 'superseded' && n.what),
    ).toEqual(['reply']);
  });
});
