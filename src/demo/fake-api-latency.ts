// How long the fake Messages API takes to answer, when asked to behave like the real one:
// time to first token plus output tokens at the model's speed, with seeded jitter. Off
// unless a FakeApiOptions.latency is given (tests stay instant); the bench turns it on.
//
// Where the figures come from (checked 2026-12, public third-party measurements; Anthropic
// publishes no latency figures):
//  - Opus: 45 output tokens/s and 2.67 s to the first token, Artificial Analysis's figures
//    for Opus 4.1 as quoted by lattice.uptownhr.com/claude-opus-4-5/speed-analysis (which
//    estimates Opus 4.5 at 45-50 tokens/s, 2.5-3.0 s); learn.cloudbuckle.com gives 40-70
//    tokens/s for Opus 4.6. Later Opus models (4.7 to 5.5) are ASSUMED to be the same: no
//    published figure was found for them. A 500-token review is then ~14 s, near the
//    15-20 s issue 24 quotes as observed.
//  - Sonnet: 63 tokens/s, 1.80 s (Artificial Analysis for Sonnet 4.5, same page).
//  - Haiku: 150 tokens/s (cloudbuckle and a second guide agree on 150-180), first token
//    0.6 s (ASSUMED: the guides give 0.2 s p50 / 0.6 s p95 for prompts far shorter than
//    a relay's).
//  - Prompt processing: uncached input (what is neither read from the cache nor, for
//    this purpose, free) ASSUMED at 10,000 tokens/s on every model, from cloudbuckle's
//    "1K to 2K more input tokens add 50-200 ms"; a cache read is taken as free.
//  - Jitter: each call's first-token time and speed are multiplied by a log-normal factor
//    (σ 0.25 by default: ~p5 0.66×, p95 1.5×), an ASSUMED spread for a shared service.

/** xorshift32: a few lines of seeded randomness, so the jitter repeats from a seed (src/ cannot import bench/). */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

export interface ModelSpeed {
  /** Time to the first output token for a fully cached prompt, in ms. */
  firstTokenMs: number;
  outputTokensPerS: number;
}

/** By model-id prefix, the longest match wins (as for prices); unknown models are taken as Opus. */
export const MODEL_SPEEDS: Record<string, ModelSpeed> = {
  'claude-opus': { firstTokenMs: 2670, outputTokensPerS: 45 },
  'claude-sonnet': { firstTokenMs: 1800, outputTokensPerS: 63 },
  'claude-haiku': { firstTokenMs: 600, outputTokensPerS: 150 },
  'claude-3-5-haiku': { firstTokenMs: 600, outputTokensPerS: 150 },
  'claude-3-7-sonnet': { firstTokenMs: 1800, outputTokensPerS: 63 },
};
export const UNCACHED_INPUT_TOKENS_PER_S = 10_000;

export interface LatencyOptions {
  /** Seed of the jitter (default 1): the same seed and the same calls give the same times. */
  seed?: number;
  /** σ of the log-normal jitter factor (default 0.25; 0 for none). */
  jitter?: number;
  /** Multiplies every modelled time (default 1): the bench runs minutes of calls in seconds. */
  scale?: number;
  /** Per model-id prefix, over MODEL_SPEEDS. */
  speeds?: Record<string, ModelSpeed>;
  /**
   * 'real' (default): the fake waits the modelled time before the first token, paces the
   * SSE deltas at the model's speed, and sends a non-streaming reply after the whole time.
   * 'simulated': it answers at once and calls advance(ms) with the modelled time, for a
   * caller whose clock is simulated (the dollar scripts' `now`).
   */
  clock?: 'real' | 'simulated';
  advance?: (ms: number) => void;
}

/** One call's modelled times, in ms (already scaled). */
export interface CallTiming {
  firstTokenMs: number;
  /** Time between two consecutive output tokens. */
  perTokenMs: number;
  /** First token + every output token: the whole call. */
  totalMs: number;
}

export function speedOf(model: string, speeds: Record<string, ModelSpeed> = MODEL_SPEEDS): ModelSpeed {
  const key = Object.keys(speeds)
    .filter((k) => model.startsWith(k))
    .sort((a, b) => b.length - a.length)[0];
  return speeds[key ?? 'claude-opus'] ?? MODEL_SPEEDS['claude-opus'];
}

export class LatencyModel {
  private readonly r: () => number;
  private readonly speeds: Record<string, ModelSpeed>;
  readonly clock: 'real' | 'simulated';

  constructor(private readonly opts: LatencyOptions = {}) {
    this.r = seeded(opts.seed ?? 1);
    this.speeds = { ...MODEL_SPEEDS, ...(opts.speeds ?? {}) };
    this.clock = opts.clock ?? 'real';
  }

  private factor(): number {
    const sigma = this.opts.jitter ?? 0.25;
    if (sigma <= 0) return 1;
    const u = Math.max(this.r(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.r());
    return Math.exp(sigma * z);
  }

  /** The times of one call: `uncachedInput` counts the prompt tokens not read from the cache. */
  time(model: string, uncachedInput: number, outputTokens: number): CallTiming {
    const s = speedOf(model, this.speeds);
    const scale = this.opts.scale ?? 1;
    const firstTokenMs = (s.firstTokenMs * this.factor() + (uncachedInput / UNCACHED_INPUT_TOKENS_PER_S) * 1000) * scale;
    const perTokenMs = (1000 / s.outputTokensPerS) * this.factor() * scale;
    return { firstTokenMs, perTokenMs, totalMs: firstTokenMs + perTokenMs * outputTokens };
  }

  /** On the simulated clock: tells the clock's owner the call took `ms`. */
  advance(ms: number): void {
    this.opts.advance?.(ms);
  }
}
