import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClaudeCodeChat, type ClaudeCodeChatClient } from '../src/adapters/claude-code.js';
import { WORKDIR_NAME } from '../src/adapters/claude-code-session.js';
import { startFakeApi, type FakeApi, type FakeRequest } from '../src/demo/fake-api.js';
import { COMMIT_STEPS } from '../src/engine/turn/commit.js';
import type { RootPaths } from '../src/protocol/root.js';
import { CC_VERSIONS, ccBinary, ccEnv, fromClaudeCode, IN_CI, seedClaudeJson } from './helpers/claude-code.js';
import { ackAll, enqueue, openRelay, queueNames, tempRoot, until } from './helpers/inproc.js';

/**
 * The relay's exactly-once commit with chat-Claude on the real Claude Code (each pinned
 * version): a crash after each commit step of the second turn, then the relay reopened
 * on the same root with a new client, as after a restart. Whatever step the crash
 * followed: one reply per envelope to the session that spoke, and no request Claude Code
 * makes ever shows chat-Claude an envelope twice. (The engine is wired to the client here
 * by the test; the host's wiring is the lead's step of issue 26.)
 */

const ENVELOPES = [
  ['a.json', 'session-1', 'env-first-from-one'],
  ['b.json', 'session-2', 'env-first-from-two'],
  ['c.json', 'session-1', 'env-second-from-one'],
] as const;

const temps: string[] = [];
const clients: ClaudeCodeChatClient[] = [];
let fake: FakeApi | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await fake?.close();
  fake = undefined;
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

const shown = (r: FakeRequest, needle: string) => JSON.stringify(r.body?.messages ?? []).split(needle).length - 1;

for (const version of CC_VERSIONS) {
  const bin = ccBinary(version);
  describe(`commit on chat.backend claude-code, Claude Code ${version}: a crash after each step, then a restart`, () => {
    if (!bin) {
      if (IN_CI)
        it('is installed (by .ci/run)', () => expect.fail(`Claude Code ${version} is not in the cache: run .ci/run (RELAY_CC_CACHE)`));
      else it.skip(`Claude Code ${version} is not installed in the cache (run .ci/run); skipped`, () => {});
      return;
    }
    for (let step = 1; step <= COMMIT_STEPS.length; step++) {
      it(`after step ${step} (${COMMIT_STEPS[step - 1]})`, async () => {
        let n = 0;
        fake = await startFakeApi({ respond: () => ({ text: `reviewed ${++n}` }) });
        const paths: RootPaths = tempRoot('relay-ccr-');
        temps.push(paths.root);
        const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'relay-ccr-home-')));
        temps.push(home);
        const stateDir = path.join(paths.state, 'claude-code');
        fs.mkdirSync(stateDir);
        seedClaudeJson(home, path.join(stateDir, WORKDIR_NAME), version);
        const client = () => {
          const c = createClaudeCodeChat({
            claudePath: bin,
            stateDir,
            idleTimeoutMs: 60_000,
            timeoutMs: 120_000,
            maxRetries: 0,
            env: ccEnv(home, fake!.url),
          });
          clients.push(c);
          return c;
        };
        const t0 = Date.now() - 60_000;
        ENVELOPES.forEach(([name, session, content], i) => enqueue(paths, name, { session_id: session, content }, t0 + i * 1000));
        const got = new Map<string, string[]>();
        let commits = 0;
        const crashing = openRelay(paths, {
          chat: client(),
          afterCommitStep: (s) => {
            if (s === 1) commits++;
            if (commits === 2 && s === step) throw new Error(`injected crash after step ${s}`);
          },
        });
        await crashing.start();
        await until(
          () => crashing.state() === 'error',
          'the injected crash to stop the relay',
          60_000,
          () => ackAll(paths, got),
        );
        await crashing.stop();
        await clients[0].close();

        const relay = openRelay(paths, { chat: client() });
        await relay.start();
        await until(
          () =>
            queueNames(paths).length === 0 &&
            [...got.values()].flat().length >= 3 &&
            relay.snapshot().status.sessions['session-1']?.pending === 0,
          'every reply delivered',
          60_000,
          () => ackAll(paths, got),
        );
        ackAll(paths, got);
        await relay.stop();

        expect(got.get('session-1')).toHaveLength(2);
        expect(got.get('session-2')).toHaveLength(1);
        expect(relay.historyPage({ beforeSeq: null, limit: Number.MAX_SAFE_INTEGER }).turns.map((t) => t.seq)).toEqual([1, 2, 3]);
        const asked = fake.requests.filter(fromClaudeCode);
        for (const r of asked)
          for (const [, , content] of ENVELOPES) expect(shown(r, content), `${content} in request ${r.n}`).toBeLessThanOrEqual(1);
        // The last request holds the whole conversation, each envelope once.
        for (const [, , content] of ENVELOPES) expect(shown(asked[asked.length - 1], content), content).toBe(1);
      }, 150_000);
    }
  });
}
