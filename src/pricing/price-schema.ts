import { z } from 'zod';

/**
 * A model's prices as config.yaml and the built-in table write them (USD per million
 * tokens). Here, below both, so that config/schema.ts (which validates the overrides)
 * and pricing/ (which holds the table and does the sums) share it without a circle.
 */

const rate = z.number().nonnegative();

/** The dearer rates a model charges when one request's prompt (input + cache writes + cache reads) is larger than `above_tokens`. */
const priceTier = z.strictObject({
  above_tokens: z.number().int().positive(),
  input: rate,
  output: rate,
  cache_write: rate,
  cache_write_1h: rate.optional(),
  cache_read: rate,
});
export type PriceTier = z.infer<typeof priceTier>;

const price = z.strictObject({
  input: rate,
  output: rate,
  /** 5-minute cache write. */
  cache_write: rate,
  /** 1-hour cache write; when absent, 2x input (the API's rule for every model so far). */
  cache_write_1h: rate.optional(),
  cache_read: rate,
  /** Prompt-size tiers, ascending by above_tokens. */
  tiers: z.array(priceTier).optional(),
});

/**
 * A config override: any figure of a built-in entry may be given alone (the rest is
 * the built-in's); a model the table does not know needs at least input and output
 * (cache figures then follow the standard multipliers: see prices.ts).
 */
export const priceOverride = price.partial().superRefine((p, ctx) => {
  const bounds = (p.tiers ?? []).map((t) => t.above_tokens);
  if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1]))
    ctx.addIssue({ code: 'custom', path: ['tiers'], message: 'tiers must be in ascending order of above_tokens' });
});
export type PriceOverride = z.infer<typeof priceOverride>;
export type Price = z.infer<typeof price>;
