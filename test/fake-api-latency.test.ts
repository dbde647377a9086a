// The fake's latency model: the times it hands out (repeatable from a seed, growing with the
// output and with uncached input) and how the fake applies them. No wall-clock assertion:
// the simulated clock is checked, and the real one only for what it sends.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi, type FakeApiOptions } from '../src/demo/fake-api.js';
import { LatencyModel, MODEL_SPEEDS, speedOf } from '../src/demo/fake-api-latency.js';

let fake: FakeApi | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts: FakeApiOptions): Promise<{ f: FakeApi; client: Anthropic }> {
  fake = await startFakeApi(opts);
  return { f: fake, client: new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 }) };
}

const ask = (text: string) => ({ model: 'claude-opus-5-5', max_tokens: 2000, messages: [{ role: 'user' as const, content: text }] });

describe('LatencyModel', () => {
  it('repeats its times from a seed and differs with another seed', () => {
    const a = new LatencyModel({ seed: 7 });
    const b = new LatencyModel({ seed: 7 });
    const c = new LatencyModel({ seed: 8 });
    const runs = [a, b, c].map((m) => [1, 2, 3].map(() => m.time('claude-opus-5-5', 1000, 500).totalMs));
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]).not.toEqual(runs[2]);
  });

  it('without jitter: first token plus the output at the model speed, uncached input on top, scaled', () => {
    const m = new LatencyModel({ jitter: 0 });
    const opus = MODEL_SPEEDS['claude-opus'];
    const t = m.time('claude-opus-5-5', 0, 450);
    expect(t.firstTokenMs).toBeCloseTo(opus.firstTokenMs);
    expect(t.totalMs).toBeCloseTo(opus.firstTokenMs + (450 * 1000) / opus.outputTokensPerS);
    expect(m.time('claude-opus-5-5', 20_000, 450).firstTokenMs).toBeCloseTo(opus.firstTokenMs + 2000);
    const half = new LatencyModel({ jitter: 0, scale: 0.5 }).time('claude-opus-5-5', 0, 450);
    expect(half.totalMs).toBeCloseTo(t.totalMs / 2);
  });

  it('takes the longest matching model prefix and treats an unknown model as Opus', () => {
    expect(speedOf('claude-haiku-5-5')).toBe(MODEL_SPEEDS['claude-haiku']);
    expect(speedOf('claude-3-7-sonnet-latest')).toBe(MODEL_SPEEDS['claude-3-7-sonnet']);
    expect(speedOf('some-proxy-model')).toBe(MODEL_SPEEDS['claude-opus']);
  });
});

describe('the fake with a latency model', () => {
  it('on the simulated clock: answers at once and advances the caller clock by each call modelled time', async () => {
    const advanced: number[] = [];
    const { f, client } = await start({ latency: { clock: 'simulated', advance: (ms) => advanced.push(ms) } });
    f.script({ text: 'a'.repeat(2000) }, { text: 'b'.repeat(40) });
    await client.messages.create(ask('first'));
    await client.messages.create(ask('second'));
    expect(advanced).toEqual(f.requests.map((r) => r.modelled!.totalMs));
    // 500 output tokens take far longer than 10.
    expect(advanced[0]).toBeGreaterThan(advanced[1]);
  });

  it('on the real clock: streams the whole text in paced deltas and records the modelled times', async () => {
    const { f, client } = await start({ latency: { scale: 0.001 }, chunkSize: 8 });
    const text = 'The review: carry on with the migration, then run the tests.';
    f.script({ text });
    const msg = await client.messages.stream(ask('stream me')).finalMessage();
    expect(msg.content).toHaveLength(1);
    expect(msg.content[0]).toMatchObject({ type: 'text', text });
    expect(f.requests[0].modelled?.totalMs).toBeGreaterThan(f.requests[0].modelled!.firstTokenMs);
  });

  it('leaves a scripted delay alone and, without a model, records nothing', async () => {
    const { f, client } = await start({ latency: { clock: 'simulated', advance: () => expect.fail('not for a scripted delay') } });
    f.script({ text: 'quick', delayMs: 0 });
    await client.messages.create(ask('x'));
    expect(f.requests[0].modelled).toBeUndefined();
    await fake!.close();
    const plain = await start({});
    plain.f.script({ text: 'quick' });
    await plain.client.messages.create(ask('y'));
    expect(plain.f.requests[0].modelled).toBeUndefined();
  });
});
