import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../src/adapters/anthropic.js';
import { describeAccount } from '../src/adapters/claude-code-account.js';
import { answered, hashMessages, planRequest, RECORD_NAME, seedText, SessionStore } from '../src/adapters/claude-code-session.js';
import { claudeArgs, claudeEnv, resultError, sessionMissing } from '../src/adapters/claude-code.js';
import { turnUsage } from '../src/adapters/claude-code-usage.js';

/** The claude-code backend's decisions that need no process: what to send, what a failure means, what the account is. */

const req = (messages: ChatMessage[], system = 'SYS'): ChatRequest => ({
  model: 'claude-opus-5-5',
  max_tokens: 512,
  system,
  messages,
  cacheAt: [],
});
const u = (content: string): ChatMessage => ({ role: 'user', content });
const a = (content: string): ChatMessage => ({ role: 'assistant', content });

const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('planRequest', () => {
  const r1 = req([u('one')]);
  const held = answered(r1, 'reply one', 'sess-1', 'uuid-1');

  it('a request that adds one user message to what the session holds sends that message alone', () => {
    expect(planRequest(req([u('one'), a('reply one'), u('two')]), held)).toEqual({ kind: 'extend', text: 'two' });
  });

  it('anything else starts a fresh session seeded with the whole request, and says why', () => {
    const cases: [ChatRequest, RegExp][] = [
      [req([u('one'), a('reply one'), u('two')], 'OTHER'), /system prompt/],
      [req([u('summary'), a('ok'), u('two')]), /differs/],
      [req([u('new')]), /replaced/],
      [req([u('one'), a('reply one'), u('two'), a('r2'), u('three')]), /more than one/],
      [req([u('one'), a('a different reply'), u('two')]), /differs/],
    ];
    for (const [r, why] of cases) {
      const p = planRequest(r, held);
      expect(p.kind).toBe('fresh');
      expect(p.kind === 'fresh' && p.reason).toMatch(why);
      expect(p.text).toBe(seedText(r.messages));
    }
    expect(planRequest(r1, undefined)).toMatchObject({ kind: 'fresh', text: 'one' });
    expect(planRequest(req([u('one'), a('reply one'), u('two')]), { ...held, anchor: null })).toMatchObject({ kind: 'fresh' });
  });

  it('the last answered turn asked again is sent again from the point before it', () => {
    const r2 = req([u('one'), a('reply one'), u('two')]);
    const from = { anchor: 'uuid-1', held: 2, hash: hashMessages([u('one'), a('reply one')]) };
    const rec = answered(r2, 'reply two', 'sess-1', 'uuid-2', from);
    expect(planRequest(r2, rec)).toEqual({ kind: 'extend', text: 'two', at: from });
    expect(planRequest(req([u('one'), a('reply one'), u('two'), a('reply two'), u('three')]), rec)).toEqual({
      kind: 'extend',
      text: 'three',
    });
  });

  it('the seed shows each earlier message once, in order, and ends with the newest', () => {
    const s = seedText([u('S1'), a('A1'), u('S2'), a('A2'), u('NEWEST')]);
    for (const m of ['S1', 'A1', 'S2', 'A2', 'NEWEST']) expect(s.split(m).length - 1).toBe(1);
    expect(s.indexOf('S1')).toBeLessThan(s.indexOf('A2'));
    expect(s.endsWith('NEWEST')).toBe(true);
  });

  it('the hash tells lists apart that join to the same text', () => {
    expect(hashMessages([u('ab'), a('c')])).not.toBe(hashMessages([u('a'), a('bc')]));
    expect(hashMessages([u('ab')])).not.toBe(hashMessages([a('ab')]));
  });
});

describe('SessionStore', () => {
  it('a record that is not valid is reported by name and treated as none (a fresh session, nothing lost)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-ccs-'));
    temps.push(dir);
    const store = new SessionStore(dir);
    fs.writeFileSync(path.join(dir, RECORD_NAME), JSON.stringify({ v: 1, session_id: 7 }));
    const problems: string[] = [];
    expect(store.load((m) => problems.push(m))).toBeUndefined();
    expect(problems[0]).toContain(RECORD_NAME);
    expect(problems[0]).toContain('session_id');
    const rec = answered(req([u('x')]), 'y', 's', 'u');
    store.save(rec);
    expect(store.load()).toEqual(rec);
    expect(fs.statSync(path.join(dir, RECORD_NAME)).mode & 0o777).toBe(0o600);
  });
});

describe('the process it starts', () => {
  it('no tools, no settings sources, no MCP, the relay prompt and model; auto-compaction off, retries bounded', () => {
    const args = claudeArgs(req([u('x')]), { sessionId: 'S', anchor: 'U' });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(after('--tools')).toBe('');
    expect(after('--setting-sources')).toBe('');
    expect(args).toContain('--strict-mcp-config');
    expect(after('--system-prompt')).toBe('SYS');
    expect(after('--model')).toBe('claude-opus-5-5');
    expect([after('--resume'), after('--resume-session-at')]).toEqual(['S', 'U']);
    expect(args).not.toContain('--bare');
    const env = claudeEnv({ HOME: '/h', CLAUDECODE: '1', ANTHROPIC_API_KEY: 'k' }, req([u('x')]), 2);
    expect(env).toMatchObject({
      HOME: '/h',
      ANTHROPIC_API_KEY: 'k',
      DISABLE_AUTO_COMPACT: '1',
      CLAUDE_CODE_MAX_RETRIES: '2',
      CLAUDE_CODE_MAX_OUTPUT_TOKENS: '512',
    });
    expect(env.CLAUDECODE).toBeUndefined();
  });
});

describe('resultError', () => {
  const result = (text: string, status?: number) => ({
    type: 'result',
    subtype: 'success',
    is_error: true,
    result: text,
    ...(status ? { api_error_status: status } : {}),
  });

  it('a usage limit with the reset Claude Code reported is not retried: the relay pauses until then', () => {
    const resetS = 1_900_000_000;
    const e = resultError(result("You've hit your limit · resets 5pm", 429), {
      status: 'rejected',
      resetsAt: resetS,
      rateLimitType: 'five_hour',
    });
    expect(e).toMatchObject({ retryable: false, type: 'usage_limit', status: 429, resetsAt: resetS * 1000 });
    expect(e.message).toContain(new Date(resetS * 1000).toISOString());
    // The older wording carries the epoch after a bar.
    expect(resultError(result(`Claude AI usage limit reached|${resetS}`), undefined)).toMatchObject({
      type: 'usage_limit',
      resetsAt: resetS * 1000,
    });
  });

  it('a plain 429 and 5xx are retryable, 401 says to sign in, an unknown failure is not retried', () => {
    expect(resultError(result('API Error: Request rejected (429) · Rate limited', 429), undefined)).toMatchObject({
      retryable: true,
      status: 429,
    });
    expect(resultError(result('API Error: 529 overloaded', 529), undefined)).toMatchObject({ retryable: true });
    const auth = resultError(result('Invalid API key · Please run /login', 401), undefined);
    expect(auth).toMatchObject({ retryable: false, type: 'authentication_error' });
    expect(auth.message).toContain('/login');
    expect(resultError(result('something odd'), undefined)).toMatchObject({ retryable: false });
  });
});

describe('sessionMissing', () => {
  it("a resume of a session Claude Code has no transcript of (2.1.197's answer) is told apart from other failures", () => {
    const said = 'No conversation found with session ID: 53f9de7b-bf59-41fe-931c-531ebc874b70';
    const missing = { type: 'result', subtype: 'error_during_execution', is_error: true, num_turns: 0, errors: [said] };
    expect(sessionMissing(missing, `${said}\n`)).toBe(said);
    expect(sessionMissing({ ...missing, errors: [] }, `${said}\n`)).toBe(said);
    expect(sessionMissing({ ...missing, errors: ['something odd'] }, '')).toBeUndefined();
    expect(sessionMissing({ type: 'result', subtype: 'success', is_error: true, result: 'API Error: 529 overloaded' }, '')).toBeUndefined();
  });
});

describe('describeAccount (claude auth status)', () => {
  it('a subscription is notional, an API key or a cloud provider is billed per token', () => {
    expect(describeAccount({ loggedIn: true, authMethod: 'oauth', apiProvider: 'firstParty', subscriptionType: 'max' })).toMatchObject({
      notional: true,
      label: 'subscription (max)',
    });
    expect(describeAccount({ loggedIn: true, authMethod: 'api_key', apiProvider: 'firstParty' })).toMatchObject({
      notional: false,
      label: 'API key',
    });
    expect(describeAccount({ loggedIn: true, authMethod: 'third_party', apiProvider: 'bedrock' })).toMatchObject({
      notional: false,
      label: 'bedrock',
    });
    expect(describeAccount({ loggedIn: false, authMethod: 'none' })).toMatchObject({ loggedIn: false, label: 'not signed in' });
  });
});

describe('turnUsage', () => {
  const usage = { input_tokens: 10, output_tokens: 2, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
  it("the turn's own per-model figures win over the last call's usage, with the 5m/1h split", () => {
    const since = {
      'claude-opus-5-5': {
        inputTokens: 600,
        outputTokens: 9,
        cacheReadInputTokens: 50,
        cacheCreationInputTokens: 30,
        cacheCreationEphemeral5mInputTokens: 10,
        cacheCreationEphemeral1hInputTokens: 20,
      },
    };
    expect(turnUsage({ usage, model_usage_since_last_result: since })).toEqual({
      input_tokens: 600,
      output_tokens: 9,
      cache_read_input_tokens: 50,
      cache_creation_input_tokens: 30,
      cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 20 },
    });
  });
  it("without them (2.1.197), or when they are empty (a failed turn), the result's usage as it is", () => {
    expect(turnUsage({ usage })).toEqual(usage);
    expect(turnUsage({ usage, model_usage_since_last_result: {} })).toEqual(usage);
  });
});
