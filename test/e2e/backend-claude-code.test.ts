import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKDIR_NAME } from '../../src/adapters/claude-code-session.js';
import type { FakeReply, FakeRequest } from '../../src/demo/fake-api.js';
import { takeReply } from '../../src/protocol/session-io.js';
import { CC_VERSIONS, ccBinary, ccEnv, fromClaudeCode, IN_CI, seedClaudeJson } from '../helpers/claude-code.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * The acceptance run of issue 26: `relay-tui --no-ui` with chat.backend claude-code and the
 * REAL Claude Code CLI (each pinned version) as chat-Claude, pointed at the fake Messages
 * API. Two sessions' turns labelled and routed; [NEEDS-JC] held and /approve'd; a restart
 * that resumes the supervisor session with the conversation intact; a usage limit as Claude
 * Code reports it ("Claude AI usage limit reached|<reset>" in its result) pausing the relay
 * with its reset time, one ping, and the relay resuming by itself at the reset; a
 * user-level Stop hook that never runs; no tools offered. Claude Code's own retries are off
 * (api.max_retries 0): signed in with an API key, as here, it would retry a 429 it cannot
 * tell from a rate limit, and the relay would see a plain, retryable 429 instead. (A
 * subscription's rate_limit_event, which carries the reset, cannot be produced without a
 * real sign-in: test/claude-code-plan.test.ts covers how it is read.)
 */

let h: Harness | undefined;
const temps: string[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

/** The newest `e2e-…` tag in the request's last user message: what chat-Claude is answering. */
function tagOf(r: FakeRequest): string {
  const msgs: Array<{ role?: string; content?: unknown }> = Array.isArray(r.body?.messages) ? r.body.messages : [];
  const last = [...msgs].reverse().find((m) => m.role === 'user');
  const tags = JSON.stringify(last?.content ?? '').match(/e2e-[a-z0-9-]+/g);
  return tags?.at(-1) ?? 'none';
}

/** How many times `needle` occurs in everything the request shows the model. */
const times = (r: FakeRequest, needle: string) => JSON.stringify(r.body?.messages ?? []).split(needle).length - 1;

for (const version of CC_VERSIONS) {
  const bin = ccBinary(version);
  describe(`relay-tui --no-ui with chat.backend claude-code, Claude Code ${version}`, () => {
    if (!bin) {
      if (IN_CI)
        it('is installed (by .ci/run)', () => expect.fail(`Claude Code ${version} is not in the cache: run .ci/run (RELAY_CC_CACHE)`));
      else
        it.skip(`Claude Code ${version} is not installed in the cache (run .ci/run; RELAY_CC_REQUIRED=1 makes this a failure)`, () => {});
      return;
    }

    it('routes two sessions, holds [NEEDS-JC] until /approve, resumes after a restart, pauses on a usage limit until its reset', async () => {
      let resetS = 0;
      let limited = 0;
      h = await createHarness({
        api: {
          respond: (r): FakeReply => {
            const tag = tagOf(r);
            // Claude Code's own words for a usage limit, with the reset (epoch seconds) after the bar.
            if (tag === 'e2e-limit' && limited++ === 0)
              return { status: 429, errorType: 'rate_limit_error', message: `Claude AI usage limit reached|${resetS}` };
            if (tag === 'e2e-ask') return { text: '[NEEDS-JC] Should session-1 ship on Friday?' };
            // Not the tag itself: a reply must not make a message look sent twice.
            return { text: `reviewed ${tag.slice(4)}` };
          },
        },
      });
      const root = fs.realpathSync(h.root);
      const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'relay-e2e-cc-home-')));
      temps.push(home);
      seedClaudeJson(home, path.join(root, 'state', 'claude-code', WORKDIR_NAME), version);
      // The user's own Stop hook: inside the supervisor it would loop back into the relay.
      const hookMarker = path.join(home, 'stop-hook-ran');
      fs.mkdirSync(path.join(home, '.claude'));
      fs.writeFileSync(
        path.join(home, '.claude', 'settings.json'),
        JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: 'command', command: `touch ${hookMarker}` }] }] } }),
      );
      h.writeConfig({ chat: { backend: 'claude-code', claude_path: bin }, api: { max_retries: 0, outer_retries: 0, timeout_s: 120 } });
      const env = ccEnv(home, h.api.url);
      const ccTurns = () => h!.api.requests.filter((r) => fromClaudeCode(r) && tagOf(r) !== 'none');
      const turnFor = (tag: string) => ccTurns().filter((r) => tagOf(r) === tag);

      await h.startRelay([], env);
      h.enqueue('session-1', 'first from one: e2e-one-a');
      h.enqueue('session-2', 'first from two: e2e-two-a');
      expect(await h.waitFile(h.input('session-1'), 120_000)).toContain('reviewed one-a');
      expect(await h.waitFile(h.input('session-2'), 120_000)).toContain('reviewed two-a');
      takeReply(h.paths, 'session-1');
      takeReply(h.paths, 'session-2');
      // Labelled by session, each message once, and the second turn carried the first.
      const second = [...turnFor('e2e-one-a'), ...turnFor('e2e-two-a')].at(-1)!;
      expect(JSON.stringify(second.body.messages)).toMatch(/session-1/);
      expect(JSON.stringify(second.body.messages)).toMatch(/session-2/);
      expect(times(second, 'e2e-one-a')).toBe(1);
      expect(times(second, 'e2e-two-a')).toBe(1);
      const up = await h.waitStatus((s) => s.history_turns >= 2 && s.account != null, 60_000);
      expect(up).toMatchObject({ backend: 'claude-code', account: 'API key', cost_notional: false });

      // [NEEDS-JC]: held until the operator approves.
      h.enqueue('session-1', 'a question: e2e-ask');
      await h.waitStatus((s) => s.state === 'needs_jc', 120_000);
      expect(fs.existsSync(h.input('session-1'))).toBe(false);
      const approved = await h.cli(['say', '--root', h.root, '/approve']);
      expect(approved.exitCode, approved.stdout + approved.stderr).toBe(0);
      expect(await h.waitFile(h.input('session-1'), 30_000)).toContain('Should session-1 ship on Friday?');
      takeReply(h.paths, 'session-1');

      // Restart: the supervisor session is resumed, the earlier turns still in what chat-Claude sees, none twice.
      await h.stopRelay();
      await h.startRelay([], env);
      h.enqueue('session-2', 'after the restart: e2e-two-b');
      expect(await h.waitFile(h.input('session-2'), 120_000)).toContain('reviewed two-b');
      takeReply(h.paths, 'session-2');
      const after = turnFor('e2e-two-b').at(-1)!;
      for (const tag of ['e2e-one-a', 'e2e-two-a', 'e2e-ask', 'e2e-two-b']) expect(times(after, tag), tag).toBe(1);

      // A usage limit: the relay pauses with the reset time, pings once, resumes by itself at the reset.
      resetS = Math.ceil(Date.now() / 1000) + 8;
      const pingsBefore = h.ntfy.messages.length;
      h.enqueue('session-1', 'over the limit: e2e-limit');
      const paused = await h.waitStatus((s) => s.pause_reason === 'usage_limit', 120_000);
      expect(paused.state).toBe('paused');
      expect(paused.pause_until).toBe(new Date(resetS * 1000).toISOString());
      expect(paused.pause_message).toContain(new Date(resetS * 1000).toISOString());
      expect(turnFor('e2e-limit')).toHaveLength(1);
      expect(await h.waitFile(h.input('session-1'), 120_000)).toContain('reviewed limit');
      expect(Date.now()).toBeGreaterThanOrEqual(resetS * 1000);
      const limitPings = h.ntfy.messages.slice(pingsBefore).filter((m) => /usage limit/i.test(`${m.title ?? ''} ${m.message ?? ''}`));
      expect(limitPings).toHaveLength(1);

      // Never a tool, never the user's Stop hook.
      for (const r of h.api.requests.filter(fromClaudeCode)) expect(r.body?.tools ?? []).toEqual([]);
      expect(fs.existsSync(hookMarker)).toBe(false);
    }, 600_000);
  });
}

describe('--backend on the command line', () => {
  it('a value that is neither api nor claude-code is a usage error before any root is touched', async () => {
    h = await createHarness();
    const r = await h.cli(['--no-ui', '--root', h.root, '--backend', 'claude']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--backend is api or claude-code (got claude)');
  });

  it('claude-code needs no API key; a Claude Code that is not there is a clear error pause, not a hang', async () => {
    h = await createHarness();
    h.writeConfig({ chat: { claude_path: path.join(h.root, 'no-such-claude') } });
    // No key anywhere: the API backend would refuse to start; this one does not need it.
    await h.startRelay(['--backend', 'claude-code'], { ANTHROPIC_API_KEY: '' });
    expect(h.status()).toMatchObject({ backend: 'claude-code' });
    h.enqueue('session-1', 'hello');
    const s = await h.waitStatus((x) => x.state === 'error', 30_000);
    expect(s.pause_message).toContain('Claude Code not found');
    expect(s.pause_message).toContain('chat.claude_path');
    expect(h.api.requests).toHaveLength(0);
  });
});
