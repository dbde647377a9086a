import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../src/adapters/anthropic.js';
import { ChatError } from '../src/adapters/anthropic.js';
import { createClaudeCodeChat, type ClaudeCodeChatClient, type ClaudeCodeError } from '../src/adapters/claude-code.js';
import { RECORD_NAME, WORKDIR_NAME } from '../src/adapters/claude-code-session.js';
import { startFakeApi, type FakeApi, type FakeRequest, type ScriptedReply } from '../src/demo/fake-api.js';
import { CC_VERSIONS, ccBinary, ccEnv, fromClaudeCode, haveClaudeCode, poll, seedClaudeJson } from './helpers/claude-code.js';

/**
 * chat.backend claude-code against the real Claude Code CLI (each pinned version),
 * pointed at the fake Messages API. The requests the fake receives are the proof: what
 * chat-Claude is shown, how many times, with which tools and system prompt.
 */

const SYSTEM = 'You are chat-Claude, the relay supervisor (test).';
const MODEL = 'claude-opus-5-5';

let fake: FakeApi | undefined;
const clients: ClaudeCodeChatClient[] = [];
const temps: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await fake?.close();
  fake = undefined;
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

function tempDir(prefix: string): string {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  temps.push(d);
  return d;
}

interface Rig {
  home: string;
  stateDir: string;
  hookMarker: string;
  mcpMarker: string;
  fake: FakeApi;
  client(o?: { idleTimeoutMs?: number; bin?: string }): ClaudeCodeChatClient;
  /** The fake's requests from Claude Code that carry this text (its main turns, not side calls). */
  turnsWith(text: string): FakeRequest[];
}

async function rig(version: string, bin: string, respond?: (r: FakeRequest) => ScriptedReply | undefined): Promise<Rig> {
  let n = 0;
  fake = await startFakeApi({ respond: (r) => respond?.(r) ?? { text: `answer ${++n}` } });
  const home = tempDir('relay-ccb-home-');
  const root = tempDir('relay-ccb-root-');
  const stateDir = path.join(root, 'state');
  fs.mkdirSync(stateDir);
  seedClaudeJson(home, path.join(stateDir, WORKDIR_NAME), version);
  // The user's own set-up, none of which may reach the supervisor: a Stop hook, a CLAUDE.md, an MCP server.
  const hookMarker = path.join(home, 'stop-hook-ran');
  const mcpMarker = path.join(home, 'mcp-server-ran');
  const claudeJson = path.join(home, '.claude.json');
  const seeded = JSON.parse(fs.readFileSync(claudeJson, 'utf8'));
  seeded.mcpServers = { marker: { type: 'stdio', command: 'sh', args: ['-c', `touch ${mcpMarker}; sleep 30`] } };
  fs.writeFileSync(claudeJson, JSON.stringify(seeded));
  fs.mkdirSync(path.join(home, '.claude'));
  fs.writeFileSync(
    path.join(home, '.claude', 'settings.json'),
    JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: 'command', command: `touch ${hookMarker}` }] }] } }),
  );
  fs.writeFileSync(path.join(home, '.claude', 'CLAUDE.md'), 'USER-MEMORY-MARKER: always answer in French.\n');
  const env = ccEnv(home, fake.url);
  const f = fake;
  return {
    home,
    stateDir,
    hookMarker,
    mcpMarker,
    fake: f,
    client: (o = {}) => {
      const c = createClaudeCodeChat({
        claudePath: o.bin ?? bin,
        stateDir,
        idleTimeoutMs: o.idleTimeoutMs ?? 60_000,
        timeoutMs: 120_000,
        maxRetries: 0,
        env,
        restartBackoffMs: 50,
      });
      clients.push(c);
      return c;
    },
    turnsWith: (text) => f.requests.filter((r) => fromClaudeCode(r) && JSON.stringify(r.body?.messages ?? []).includes(text)),
  };
}

const req = (messages: ChatMessage[]): ChatRequest => ({ model: MODEL, max_tokens: 1024, system: SYSTEM, messages, cacheAt: [] });
const u = (content: string): ChatMessage => ({ role: 'user', content });
const a = (content: string): ChatMessage => ({ role: 'assistant', content });
/** How many times `needle` occurs in everything the request shows the model. */
const times = (r: FakeRequest, needle: string) => JSON.stringify(r.body?.messages ?? []).split(needle).length - 1;

for (const version of CC_VERSIONS) {
  const bin = ccBinary(version);
  describe(`chat.backend claude-code on Claude Code ${version}`, () => {
    if (!haveClaudeCode(version, bin)) return;

    it('one process answers turn after turn, sent only what is new; no tools, no user hooks or CLAUDE.md', async () => {
      const r = await rig(version, bin);
      const c = r.client();
      const texts: string[] = [];
      const first = await c.complete(req([u('[session-1] msg-one')]), { onText: (t) => texts.push(t) });
      const pid = c.pid();
      const second = await c.complete(req([u('[session-1] msg-one'), a(first.text), u('[session-2] msg-two')]));
      expect(first.text).toBe('answer 1');
      expect(texts.join('')).toBe('answer 1');
      expect(second.text).toBe('answer 2');
      expect(c.pid()).toBe(pid);
      expect(second.sessionId).toBe(first.sessionId);
      expect(first.freshSession).toBe('no supervisor session yet');
      expect(second.freshSession).toBeUndefined();
      // The second request is Claude Code's session: each message once, the first reply in between.
      const [turn2] = r.turnsWith('msg-two');
      expect(times(turn2, 'msg-one')).toBe(1);
      expect(times(turn2, 'answer 1')).toBe(1);
      expect(times(turn2, 'msg-two')).toBe(1);
      for (const q of r.fake.requests.filter(fromClaudeCode)) {
        expect(q.body.tools ?? []).toEqual([]);
        expect(q.systemText).toContain(SYSTEM);
        expect(JSON.stringify(q.body)).not.toContain('USER-MEMORY-MARKER');
        expect(q.body.model).toBe(MODEL);
      }
      expect(fs.existsSync(r.hookMarker)).toBe(false);
      expect(fs.existsSync(r.mcpMarker)).toBe(false);
      // Usage is the turn's, and Claude Code's cumulative cost became per-turn figures.
      expect(second.usage.input_tokens).toBeGreaterThan(0);
      expect(second.usage.cache_creation).toBeDefined();
      expect(first.reportedCostUsd).toBeGreaterThan(0);
      expect(second.reportedCostUsd).toBeGreaterThan(0);
      expect(second.reportedCostUsd!).toBeLessThan(first.reportedCostUsd! + second.reportedCostUsd!);
      // An API key pays per token: the cost is not notional.
      expect(second.account?.authMethod).toBe('api_key');
      expect(second.notional).toBe(false);
      const rec = JSON.parse(fs.readFileSync(path.join(r.stateDir, RECORD_NAME), 'utf8'));
      expect(rec).toMatchObject({ session_id: first.sessionId, held: 4, in_flight: null });
      expect(JSON.stringify(rec)).not.toContain('sk-ant');
    }, 90_000);

    it('control: without --setting-sources "" the same user Stop hook does run (so the test above can tell)', async () => {
      const r = await rig(version, bin);
      const cwd = path.join(r.stateDir, WORKDIR_NAME);
      fs.mkdirSync(cwd, { recursive: true });
      const run = await execa(bin, ['-p', 'hello', '--output-format', 'json', '--tools', ''], {
        cwd,
        env: ccEnv(r.home, r.fake.url),
        extendEnv: false,
        reject: false,
        timeout: 60_000,
      });
      expect(run.exitCode, String(run.stderr)).toBe(0);
      await poll(
        () => (fs.existsSync(r.hookMarker) ? true : undefined),
        10_000,
        () => 'the Stop hook never ran',
      );
    }, 90_000);

    it('a restarted relay resumes the session: the earlier turns intact, none twice', async () => {
      const r = await rig(version, bin);
      const c1 = r.client();
      const h1 = [u('rs-one')];
      const r1 = await c1.complete(req(h1));
      const h2 = [...h1, a(r1.text), u('rs-two')];
      const r2 = await c1.complete(req(h2));
      await c1.close();
      const c2 = r.client();
      const r3 = await c2.complete(req([...h2, a(r2.text), u('rs-three')]));
      expect(r3.sessionId).toBe(r1.sessionId);
      expect(r3.freshSession).toBeUndefined();
      const [turn3] = r.turnsWith('rs-three');
      for (const m of ['rs-one', 'rs-two', 'rs-three', 'answer 1', 'answer 2']) expect(times(turn3, m), m).toBe(1);
    }, 90_000);

    it('kill -9 of Claude Code mid-call: an error, then the same request answered with its message once', async () => {
      let hung = false;
      const r = await rig(version, bin, (q) => {
        if (!hung && JSON.stringify(q.body?.messages).includes('kk-two')) {
          hung = true;
          return { hangMs: 60_000 };
        }
        return undefined;
      });
      const c = r.client();
      const h1 = [u('kk-one')];
      const r1 = await c.complete(req(h1));
      const h2 = [...h1, a(r1.text), u('kk-two')];
      const pending = c.complete(req(h2));
      await poll(
        () => (r.turnsWith('kk-two').length > 0 ? true : undefined),
        30_000,
        () => 'the fake never saw kk-two',
      );
      process.kill(c.pid()!, 'SIGKILL');
      const err = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ChatError);
      expect((err as ChatError).retryable).toBe(true);
      expect((err as ChatError).message).toMatch(/killed by SIGKILL/);
      // As the relay would after its own restart: a new client, the same request.
      await c.close();
      const c2 = r.client();
      const again = await c2.complete(req(h2));
      expect(again.text).toMatch(/^answer/);
      const after = r.turnsWith('kk-two').at(-1)!;
      expect(times(after, 'kk-two')).toBe(1);
      expect(times(after, 'kk-one')).toBe(1);
      expect(again.sessionId).toBe(r1.sessionId);
    }, 120_000);

    it('no output for api.idle_timeout_s, and an abort: each kills the call; the next is answered with nothing twice', async () => {
      let hangs = 0;
      const r = await rig(version, bin, (q) =>
        JSON.stringify(q.body?.messages).includes('id-two') && hangs++ < 2 ? { hangMs: 60_000 } : undefined,
      );
      const c = r.client({ idleTimeoutMs: 3000 });
      const h1 = [u('id-one')];
      const r1 = await c.complete(req(h1));
      const h2 = [...h1, a(r1.text), u('id-two')];
      await expect(c.complete(req(h2))).rejects.toMatchObject({
        retryable: true,
        message: expect.stringMatching(/no output from Claude Code.*idle_timeout_s/),
      });
      const ac = new AbortController();
      const pending = c.complete(req(h2), { signal: ac.signal });
      await poll(
        () => (hangs >= 2 ? true : undefined),
        30_000,
        () => 'the second call never reached the fake',
      );
      ac.abort();
      await expect(pending).rejects.toMatchObject({ type: 'aborted' });
      const ok = await c.complete(req(h2));
      expect(ok.text).toMatch(/^answer/);
      expect(times(r.turnsWith('id-two').at(-1)!, 'id-two')).toBe(1);
    }, 120_000);

    it('a turn asked again (its answer never reached the relay) is asked from before it, in the same session, once', async () => {
      const r = await rig(version, bin);
      const c = r.client();
      const h1 = [u('ag-one')];
      const r1 = await c.complete(req(h1));
      const h2 = [...h1, a(r1.text), u('ag-two')];
      await c.complete(req(h2));
      const again = await c.complete(req(h2));
      expect(again.sessionId).toBe(r1.sessionId);
      expect(again.freshSession).toBeUndefined();
      const last = r.turnsWith('ag-two').at(-1)!;
      expect(times(last, 'ag-two')).toBe(1);
      expect(times(last, 'answer 2')).toBe(0);
      // And the conversation goes on from the answer the relay kept.
      const r3 = await c.complete(req([...h2, a(again.text), u('ag-three')]));
      const t3 = r.turnsWith('ag-three')[0];
      expect(r3.sessionId).toBe(r1.sessionId);
      for (const m of ['ag-one', 'ag-two', 'ag-three', again.text]) expect(times(t3, m), m).toBe(1);
    }, 120_000);

    it('a summary replacing the history starts a fresh session seeded with the summary and the recent turns', async () => {
      const r = await rig(version, bin);
      const c = r.client();
      const h1 = [u('sm-old-one')];
      const r1 = await c.complete(req(h1));
      const r2 = await c.complete(req([...h1, a(r1.text), u('sm-old-two')]));
      const summarised = [
        u('[relay] Summary of the conversation before this point:\n\nSUMMARY-TEXT'),
        a('Understood.'),
        u('sm-recent'),
        a(r2.text),
        u('sm-new'),
      ];
      const r3 = await c.complete(req(summarised));
      expect(r3.freshSession).toMatch(/replaced|differs/);
      expect(r3.sessionId).not.toBe(r1.sessionId);
      const [turn] = r.turnsWith('sm-new');
      expect(times(turn, 'SUMMARY-TEXT')).toBe(1);
      expect(times(turn, 'sm-recent')).toBe(1);
      expect(times(turn, 'sm-old-one')).toBe(0);
      // And the fresh session goes on by deltas.
      const r4 = await c.complete(req([...summarised, a(r3.text), u('sm-after')]));
      expect(r4.sessionId).toBe(r3.sessionId);
      expect(times(r.turnsWith('sm-after')[0], 'SUMMARY-TEXT')).toBe(1);
    }, 120_000);

    it('a 429 is one request, not Claude Code retrying: an error with the wait; the retry shows the message once', async () => {
      let refused = 0;
      const r = await rig(version, bin, (q) =>
        JSON.stringify(q.body?.messages).includes('rl-two') && refused++ === 0
          ? { status: 429, errorType: 'rate_limit_error', message: 'Rate limited', retryAfterS: 7 }
          : undefined,
      );
      const c = createClaudeCodeChat({
        claudePath: bin,
        stateDir: r.stateDir,
        idleTimeoutMs: 60_000,
        timeoutMs: 120_000,
        maxRetries: 5,
        env: ccEnv(r.home, r.fake.url),
      });
      clients.push(c);
      const h1 = [u('rl-one')];
      const r1 = await c.complete(req(h1));
      const h2 = [...h1, a(r1.text), u('rl-two')];
      const err = (await c.complete(req(h2)).catch((e: unknown) => e)) as ClaudeCodeError;
      expect(err).toBeInstanceOf(ChatError);
      expect(err).toMatchObject({ status: 429, retryable: true });
      expect(r.turnsWith('rl-two')).toHaveLength(1);
      const ok = await c.complete(req(h2));
      expect(ok.text).toMatch(/^answer/);
      expect(times(r.turnsWith('rl-two').at(-1)!, 'rl-two')).toBe(1);
    }, 120_000);

    it('a reply cut at max_tokens, which Claude Code continues in a second call: the whole text comes back', async () => {
      const r = await rig(version, bin, (q) =>
        JSON.stringify(q.body?.messages).includes('mt-one') && !JSON.stringify(q.body?.messages).includes('PART-ONE')
          ? { text: 'PART-ONE ', stopReason: 'max_tokens' }
          : undefined,
      );
      const c = r.client();
      const res = await c.complete(req([u('mt-one')]));
      expect(res.text).toMatch(/^PART-ONE answer \d$/);
      expect(r.turnsWith('mt-one')).toHaveLength(2);
      // The turn's usage is both calls', as the fake billed them.
      const billed = r.fake.totals();
      expect([res.usage.input_tokens, res.usage.output_tokens]).toEqual([billed.input, billed.output]);
      expect(res.reportedCostUsd).toBeGreaterThan(0);
    }, 90_000);

    it('a missing binary is a clear error, not retryable, never reached the API', async () => {
      const r = await rig(version, bin);
      const c = r.client({ bin: path.join(r.home, 'no-such-claude') });
      await expect(c.complete(req([u('x')]))).rejects.toMatchObject({
        retryable: false,
        reachedApi: false,
        message: expect.stringContaining('Claude Code not found'),
      });
      expect(r.fake.requests).toHaveLength(0);
    }, 30_000);
  });
}
