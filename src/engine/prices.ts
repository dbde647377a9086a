import type { Price } from '../config/schema.js';

/** USD per million tokens. Cache write is 1.25x input (5-minute TTL), cache read 0.1x. */
function tier(input: number, output: number): Price {
  return { input, output, cache_write: input * 1.25, cache_read: input * 0.1 };
}

export const BUILTIN_PRICES: Record<string, Price> = {
  // Older models still served; they also make "unknown model -> most expensive" truly cautious.
  'claude-opus-4-0': tier(15, 75),
  'claude-opus-4-1': tier(15, 75),
  'claude-sonnet-4-0': tier(3, 15),
  'claude-opus-4-5': tier(5, 25),
  'claude-opus-4-6': tier(5, 25),
  'claude-opus-4-7': tier(5, 25),
  'claude-opus-4-8': tier(5, 25),
  'claude-sonnet-4-5': tier(3, 15),
  'claude-sonnet-4-6': tier(3, 15),
  'claude-haiku-4-5': tier(1, 5),
};

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** The API's split of cache_creation_input_tokens by cache lifetime, when it reports one. */
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

export interface PriceLookup {
  price: Price;
  /** false when the model is in neither table and was priced as the most expensive. */
  known: boolean;
  matched: string;
}

/**
 * Model ids come dated (claude-sonnet-4-5-20250929) or aliased; match the longest
 * table key that the id starts with. An unknown model is priced as the most
 * expensive known one so that a budget can only be too cautious, never too lax.
 */
export function lookupPrice(model: string, overrides: Record<string, Price> = {}): PriceLookup {
  const table = { ...BUILTIN_PRICES, ...overrides };
  if (table[model]) return { price: table[model], known: true, matched: model };
  const prefix = Object.keys(table)
    .filter((k) => model.startsWith(k))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix) return { price: table[prefix], known: true, matched: prefix };
  const priciest = Object.entries(table).sort(
    (a, b) => b[1].output + b[1].input - (a[1].output + a[1].input),
  )[0];
  return { price: priciest[1], known: false, matched: priciest[0] };
}

export function costOf(usage: Usage, price: Price): number {
  // Without a split, every cache write is priced at the 5-minute rate (what the API bills by default).
  const w1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const w5m = usage.cache_creation_input_tokens - w1h;
  const write1h = price.cache_write_1h ?? price.input * 2;
  return (
    (usage.input_tokens * price.input +
      usage.output_tokens * price.output +
      w5m * price.cache_write +
      w1h * write1h +
      usage.cache_read_input_tokens * price.cache_read) /
    1_000_000
  );
}

type RawUsage = Partial<Record<Exclude<keyof Usage, 'cache_creation'>, number | null>> & {
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
};

export function normaliseUsage(u: RawUsage | undefined): Usage {
  const out: Usage = {
    input_tokens: u?.input_tokens ?? 0,
    output_tokens: u?.output_tokens ?? 0,
    cache_creation_input_tokens: u?.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: u?.cache_read_input_tokens ?? 0,
  };
  if (u?.cache_creation) {
    out.cache_creation = {
      ephemeral_5m_input_tokens: u.cache_creation.ephemeral_5m_input_tokens ?? 0,
      ephemeral_1h_input_tokens: u.cache_creation.ephemeral_1h_input_tokens ?? 0,
    };
  }
  return out;
}
