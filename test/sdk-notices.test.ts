import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { createAnthropicChat, type ChatRequest } from '../src/adapters/anthropic.js';
import { startFakeApi, type FakeApi } from '../src/demo/fake-api.js';

/**
 * The real SDK warns on console for every request to a deprecated model. The relay hands
 * each such notice to its log once; the repeats, one per turn, never reach the terminal.
 */

let api: FakeApi;
// Installed before the adapter wraps console.warn, so it is what the wrapper passes on to.
const printed = vi.spyOn(console, 'warn').mockImplementation(() => {});
beforeAll(async () => {
  api = await startFakeApi({});
});
afterAll(async () => {
  await api.close();
  printed.mockRestore();
});

const req = (model: string): ChatRequest => ({
  model,
  max_tokens: 50,
  system: 'sys',
  messages: [{ role: 'user', content: 'hi' }],
  cacheAt: [],
});

test('a deprecated model: one notice in the log for many calls, none printed; other warnings still print', async () => {
  const notices: string[] = [];
  const chat = createAnthropicChat({
    apiKey: 'sk-test',
    baseURL: api.url,
    maxRetries: 0,
    timeoutMs: 10_000,
    onNotice: (t) => notices.push(t),
  });
  for (let i = 0; i < 4; i++) {
    api.script({ text: `ok ${i}` });
    expect((await chat.complete(req('claude-sonnet-4-5'))).text).toBe(`ok ${i}`);
  }
  // A current model adds nothing.
  api.script({ text: 'fine' });
  await chat.complete(req('claude-opus-4-7'));
  expect(notices).toHaveLength(1);
  expect(notices[0]).toMatch(/claude-sonnet-4-5' is deprecated and will reach end-of-life/);
  expect(notices[0]).toMatch(/model: in config\.yaml/);
  const sdkPrinted = printed.mock.calls.filter((c) => String(c[0]).includes('is deprecated'));
  expect(sdkPrinted).toHaveLength(0);

  console.warn('something else entirely');
  expect(printed.mock.calls.map((c) => c[0])).toContain('something else entirely');
});

test("each deprecated id gets its own notice once; a client made later without a sink keeps the relay's", async () => {
  const notices: string[] = [];
  createAnthropicChat({ apiKey: 'sk-test', baseURL: api.url, maxRetries: 0, timeoutMs: 10_000, onNotice: (t) => notices.push(t) });
  const later = createAnthropicChat({ apiKey: 'sk-test', baseURL: api.url, maxRetries: 0, timeoutMs: 10_000 });
  for (let i = 0; i < 3; i++) {
    api.script({ text: 'ok' });
    await later.complete(req('claude-sonnet-4-5-20250929'));
  }
  expect(notices).toEqual([expect.stringMatching(/claude-sonnet-4-5-20250929' is deprecated/)]);
  expect(printed.mock.calls.filter((c) => String(c[0]).includes('is deprecated'))).toHaveLength(0);
});
