import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../src/engine/relay.js';
import { ackAll, enqueue, lastUser, openRelay, scriptedChat, tempRoot, testConfig, until, type ScriptedChat } from './helpers/inproc.js';

/**
 * A supervised day's cheaper lever (issue 24, docs/bench.md): after a gap longer than
 * any cache lifetime, a large history is summarized before the turn instead of being
 * written to the cache again at the dearer rate; that summary places no breakpoint on
 * the history it reads, and the turn after it keeps the turns' cache lifetime.
 */

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

const HOUR = 3_600_000;

/** Three turns of a 40,000-token history, then one more after `gapMs`: the requests made. */
async function dayWithGap(gapMs: number): Promise<ScriptedChat> {
  const paths = tempRoot();
  roots.push(paths.root);
  const clock = { now: Date.parse('2026-05-04T09:00:00Z') };
  // The API's usage says the history is 40,000 tokens: under the cap, over the cold threshold.
  const chat = scriptedChat(() => ({
    usage: { input_tokens: 40_000, output_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  }));
  const relay: Relay = openRelay(paths, {
    chat,
    now: () => clock.now,
    config: testConfig({
      batch: 'off',
      cache: { ttl: '1h' },
      history: { cap_tokens: 150_000, keep_recent: 2 },
      guardrails: { max_turn_cost_usd: 100, budget_usd_per_day: 1000, budget_usd_per_session_per_day: 1000 },
    }),
  });
  const got = new Map<string, string[]>();
  await relay.start();
  try {
    for (let i = 0; i < 4; i++) {
      if (i === 3) clock.now += gapMs;
      else clock.now += 60_000;
      enqueue(paths, `${i}.json`, { session_id: 'session-1', content: `step ${i} done` });
      await until(
        () => (got.get('session-1')?.length ?? 0) > i,
        `reply ${i}`,
        15_000,
        () => ackAll(paths, got),
      );
    }
  } finally {
    await relay.stop();
  }
  return chat;
}

describe('summarize first when the cache is cold', () => {
  it('after two hours: the summary first, with no breakpoint on the history, then the turn at the same lifetime', async () => {
    const chat = await dayWithGap(2 * HOUR);
    const users = chat.requests.map(lastUser);
    expect(users).toHaveLength(5);
    expect(users[3]).toMatch(/^\[relay\] /);
    expect(users[4]).toMatch(/step 3 done$/);
    const summary = chat.requests[3];
    expect(summary.cacheAt).toEqual([]);
    // The turn after it writes its new prefix at the turns' lifetime (1h here), not a fresh bet.
    expect(chat.requests[4].cacheTtl).toBe('1h');
  });

  it('within the hour the history is still cached: no summary under the cap', async () => {
    const chat = await dayWithGap(30 * 60_000);
    expect(chat.requests.map(lastUser).filter((u) => u.startsWith('[relay] '))).toEqual([]);
    expect(chat.requests).toHaveLength(4);
  });
});
