// Tokenizer and prompt-caching model of the fake Anthropic API.
// Kept apart from the HTTP layer so the benchmark can reason about the same
// numbers (promptTokens) without starting a server.
import { createHash } from 'node:crypto';
import { LOOKBACK_BLOCKS, minCacheableTokens } from '../pricing/cache-rules.js';

/** The fake's tokenizer: one token per 4 UTF-16 code units, rounded up. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

export const FIVE_MINUTES_MS = 5 * 60_000;
export const ONE_HOUR_MS = 60 * 60_000;

export interface PromptBlock {
  role: 'tools' | 'system' | 'user' | 'assistant';
  text: string;
  tokens: number;
  /** Present only on breakpoints (blocks carrying cache_control). */
  ttl?: '5m' | '1h';
}

// Non-text blocks (tool_use, tool_result, images…) still cost tokens and must
// take part in the cache key, so they are priced by their JSON minus the
// cache_control marker (which must not change the key).
function blockText(block: any): string {
  if (typeof block === 'string') return block;
  if (block && block.type === 'text' && typeof block.text === 'string') return block.text;
  if (block && typeof block === 'object') {
    const { cache_control: _ignored, ...rest } = block;
    return JSON.stringify(rest);
  }
  return String(block);
}

function ttlOf(block: any): '5m' | '1h' | undefined {
  const cc = block && typeof block === 'object' ? block.cache_control : undefined;
  if (!cc) return undefined;
  return cc.ttl === '1h' ? '1h' : '5m';
}

function push(out: PromptBlock[], role: PromptBlock['role'], block: any): void {
  const text = blockText(block);
  const ttl = ttlOf(block);
  out.push({ role, text, tokens: countTokens(text), ...(ttl ? { ttl } : {}) });
}

/** The prompt in the order the real API caches it: tools, system, messages. */
export function promptBlocks(body: any): PromptBlock[] {
  const out: PromptBlock[] = [];
  if (Array.isArray(body?.tools)) for (const t of body.tools) push(out, 'tools', t);
  if (typeof body?.system === 'string') {
    if (body.system.length > 0) push(out, 'system', body.system);
  } else if (Array.isArray(body?.system)) {
    for (const b of body.system) push(out, 'system', b);
  }
  if (Array.isArray(body?.messages)) {
    for (const m of body.messages) {
      if (typeof m?.content === 'string') push(out, m.role, m.content);
      else if (Array.isArray(m?.content)) for (const b of m.content) push(out, m.role, b);
    }
  }
  return out;
}

/** Total input tokens of a request body; the three usage figures always sum to this. */
export function promptTokens(body: any): number {
  return promptBlocks(body).reduce((sum, b) => sum + b.tokens, 0);
}

export interface CacheUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

export interface PromptCacheOptions {
  /** A prefix shorter than this is silently not cached: one figure, or the model's own (default: cache-rules.ts). */
  minCacheableTokens?: number | ((model: string) => number);
  /** The 5-minute lifetime (shortened by tests); a 1h breakpoint lives an hour, or this if longer. */
  ttlMs: number;
  now: () => number;
}

/**
 * The API's 400 for breakpoints out of order: a 1-hour breakpoint must not come after
 * a 5-minute one in prompt order (tools, system, messages). null when in order.
 */
export function ttlOrderError(blocks: PromptBlock[]): string | null {
  let seen5m = false;
  for (const b of blocks) {
    if (b.ttl === '5m') seen5m = true;
    else if (b.ttl === '1h' && seen5m) {
      return 'A cache_control block with ttl "1h" cannot come after one with ttl "5m": longer lifetimes must appear first (tools, system, messages).';
    }
  }
  return null;
}

export class PromptCache {
  private entries = new Map<string, { expiresAt: number; ttlMs: number }>();
  private applied = 0;

  constructor(private readonly opts: PromptCacheOptions) {}

  private ttlMs(ttl: '5m' | '1h'): number {
    return ttl === '1h' ? Math.max(ONE_HOUR_MS, this.opts.ttlMs) : this.opts.ttlMs;
  }

  private minimum(model: string): number {
    const m = this.opts.minCacheableTokens;
    return typeof m === 'number' ? m : (m ?? minCacheableTokens)(model);
  }

  /** Price one request against the cache and update it, as the real API would. */
  apply(model: string, blocks: PromptBlock[]): CacheUsage {
    const now = this.opts.now();
    const min = this.minimum(model);
    if (++this.applied % 256 === 0) this.sweep(now);

    // Chained hashes: key[i] identifies model + every block up to and including i.
    const keys: string[] = [];
    const cum: number[] = [];
    let prev = createHash('sha256').update(model).digest('hex');
    let total = 0;
    for (const b of blocks) {
      prev = createHash('sha256').update(prev).update('\0').update(b.role).update('\0').update(b.text).digest('hex');
      keys.push(prev);
      total += b.tokens;
      cum.push(total);
    }

    const breakpoints = blocks.flatMap((b, i) => (b.ttl ? [i] : []));
    const usage: CacheUsage = {
      input_tokens: total,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    };
    if (breakpoints.length === 0) return usage;

    let readEnd = -1;
    for (const bp of breakpoints) {
      for (let j = bp; j >= Math.max(0, bp - LOOKBACK_BLOCKS) && j > readEnd; j--) {
        const entry = this.entries.get(keys[j]);
        if (entry && entry.expiresAt > now) {
          readEnd = j;
          break;
        }
      }
    }
    if (readEnd >= 0) {
      const entry = this.entries.get(keys[readEnd])!;
      entry.expiresAt = now + entry.ttlMs;
    }
    const read = readEnd >= 0 ? cum[readEnd] : 0;

    const last = breakpoints[breakpoints.length - 1];
    let written = 0;
    if (last > readEnd && cum[last] >= min) {
      let segStart = read;
      for (const bp of breakpoints) {
        if (cum[bp] < min) continue;
        const ttlMs = this.ttlMs(blocks[bp].ttl!);
        const had = this.entries.get(keys[bp]);
        // A prefix that was read keeps its own lifetime (refreshed); a new one gets this breakpoint's.
        if (bp <= readEnd && had && had.expiresAt > now) had.expiresAt = Math.max(had.expiresAt, now + had.ttlMs);
        else this.entries.set(keys[bp], { expiresAt: now + ttlMs, ttlMs });
        if (bp > readEnd) {
          const seg = cum[bp] - segStart;
          if (blocks[bp].ttl === '1h') usage.cache_creation.ephemeral_1h_input_tokens += seg;
          else usage.cache_creation.ephemeral_5m_input_tokens += seg;
          segStart = cum[bp];
        }
      }
      written = cum[last] - read;
    }

    usage.cache_read_input_tokens = read;
    usage.cache_creation_input_tokens = written;
    usage.input_tokens = total - read - written;
    return usage;
  }

  private sweep(now: number): void {
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }
}
