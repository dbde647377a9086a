import type { Price, PriceOverride, PriceTier } from './price-schema.js';
import { FAMILIES, familyOf, findBuiltin, PRICE_TABLE, stripSnapshot, type PriceEntry } from './price-table.js';

export { PRICE_TABLE, type PriceEntry } from './price-table.js';

/** Every id the built-in table prices (aliases included), at its base rates: for callers that only need a Price. */
export const BUILTIN_PRICES: Record<string, Price> = Object.fromEntries(
  PRICE_TABLE.flatMap((e) => [e.id, ...(e.aliases ?? [])].map((id) => [id, toPrice(e)] as const)),
);

function toPrice(e: Price): Price {
  const p: Price = { input: e.input, output: e.output, cache_write: e.cache_write, cache_read: e.cache_read };
  if (e.cache_write_1h !== undefined) p.cache_write_1h = e.cache_write_1h;
  if (e.tiers?.length) p.tiers = e.tiers.map((t) => ({ ...t }));
  return p;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** The API's split of cache_creation_input_tokens by cache lifetime, when it reports one. */
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  /**
   * The API gave no split: every write was put at this lifetime, the one the request
   * asked for (normaliseUsage). Kept in the ledger line, so a reader knows the split is ours.
   */
  cache_split_inferred?: '5m' | '1h';
}

export interface PriceLookup {
  /** Base rates, with the prompt-size tiers costOf applies. */
  price: Price;
  /** false when the model is in neither table and was priced by the fallback below. */
  known: boolean;
  /** The entry used: a model id of the built-in table or a `prices:` key, or a description of the fallback. */
  matched: string;
  /** 'builtin', 'config' (an override, alone or over a built-in entry) or 'fallback'. */
  origin: 'builtin' | 'config' | 'fallback';
  /** Where the figures come from and when they were checked (built-in entries). */
  source?: string;
  checked?: string;
  /** For an unknown model: the sentence to show the operator. */
  warning?: string;
}

const usdRate = (n: number) => `$${Number(n.toFixed(4))}`;

/**
 * An override over a built-in entry replaces the figures it gives; a cache figure it
 * leaves out keeps the entry's ratio to the input price (a model that reads its cache
 * at 0.05x still does after its input price is overridden). An override of a model
 * the table does not know gets the standard multipliers (write 1.25x, 1-hour 2x, read
 * 0.1x). Tiers are the override's when it gives them (an empty list removes them).
 */
function completeOverride(o: PriceOverride, base: Price | undefined): Price {
  const input = o.input ?? base!.input;
  const ratio = (f: (p: Price) => number | undefined, standard: number) => {
    const b = base && f(base);
    return b !== undefined && base!.input > 0 ? (b / base!.input) * input : standard * input;
  };
  const p: Price = {
    input,
    output: o.output ?? base!.output,
    cache_write: o.cache_write ?? ratio((b) => b.cache_write, 1.25),
    cache_write_1h: o.cache_write_1h ?? ratio((b) => b.cache_write_1h, 2),
    cache_read: o.cache_read ?? ratio((b) => b.cache_read, 0.1),
  };
  const tiers = o.tiers ?? base?.tiers;
  if (tiers?.length) p.tiers = tiers.map((t) => ({ ...t }));
  return p;
}

/**
 * An id the table does not know is priced at the dearest figure, field by field, of
 * the models still served in its family (an unknown `claude-opus-*` as the dearest
 * Opus, not as the retired $15/$75 ones), or of every model still served when it names
 * no known family. A future model of a family is usually priced at or below its
 * predecessors, so budgets err on the cautious side without tripping at 3x the spend.
 */
const fallbacks = new Map<string, { price: Price; label: string }>();
function fallback(model: string): { price: Price; label: string } {
  const family = familyOf(model);
  const key = family ?? '';
  const hit = fallbacks.get(key);
  if (hit) return { price: { ...hit.price }, label: hit.label };
  const fb = computeFallback(family);
  fallbacks.set(key, fb);
  return { price: { ...fb.price }, label: fb.label };
}

function computeFallback(family: ReturnType<typeof familyOf>): { price: Price; label: string } {
  const served = PRICE_TABLE.filter((e) => e.status !== 'retired');
  const pool = (family && served.some((e) => familyOf(e.id) === family) ? served.filter((e) => familyOf(e.id) === family) : served).flatMap(
    (e): Array<Price | PriceTier> => [e, ...(e.tiers ?? [])],
  );
  const max = (f: (p: Price | PriceTier) => number) => Math.max(...pool.map(f));
  const price: Price = {
    input: max((p) => p.input),
    output: max((p) => p.output),
    cache_write: max((p) => p.cache_write),
    cache_write_1h: max((p) => p.cache_write_1h ?? p.input * 2),
    cache_read: max((p) => p.cache_read),
  };
  return { price, label: family ? `dearest served claude-${family}-*` : `dearest served model (${FAMILIES.join('/')})` };
}

/**
 * Which price a model id is billed at. In order: a `prices:` key equal to the id; the
 * built-in entry for the id, an alias or a dated snapshot of one (a `prices:` key for
 * that entry overrides its figures); a `prices:` key the id starts with (a proxy's own
 * family of ids); else the fallback above, with a warning.
 */
export function lookupPrice(model: string, overrides: Record<string, PriceOverride> = {}): PriceLookup {
  const builtin = findBuiltin(model);
  const own =
    overrides[model] ??
    overrides[stripSnapshot(model)] ??
    (builtin ? (overrides[builtin.id] ?? aliasOverride(builtin, overrides)) : undefined);
  if (own) {
    const key = overrides[model] ? model : overrides[stripSnapshot(model)] ? stripSnapshot(model) : builtin!.id;
    return {
      price: completeOverride(own, builtin),
      known: true,
      matched: key,
      origin: 'config',
      source: builtin?.source,
      checked: builtin?.checked,
    };
  }
  if (builtin)
    return {
      price: toPrice(builtin),
      known: true,
      matched: builtin.id,
      origin: 'builtin',
      source: builtin.source,
      checked: builtin.checked,
    };
  const prefix = Object.keys(overrides)
    .filter((k) => model.startsWith(`${k}-`) && overrides[k].input !== undefined && overrides[k].output !== undefined)
    .sort((a, b) => b.length - a.length)[0];
  if (prefix) return { price: completeOverride(overrides[prefix], undefined), known: true, matched: prefix, origin: 'config' };
  const fb = fallback(model);
  const p = fb.price;
  return {
    price: p,
    known: false,
    matched: fb.label,
    origin: 'fallback',
    warning:
      `model ${model} is not in the price table (built in, checked ${PRICE_TABLE[0].checked}) nor under prices: in config.yaml; ` +
      `priced at the ${fb.label} figures (${usdRate(p.input)} in, ${usdRate(p.output)} out, cache write ${usdRate(p.cache_write)}, read ${usdRate(p.cache_read)} per million tokens) ` +
      `so budgets err on the safe side. Add its prices under prices: in config.yaml.`,
  };
}

function aliasOverride(e: PriceEntry, overrides: Record<string, PriceOverride>): PriceOverride | undefined {
  for (const a of e.aliases ?? []) if (overrides[a]) return overrides[a];
  return undefined;
}

/** Tokens the API counts as the request's prompt, which is what a tier is chosen by. */
export function promptTokens(u: Usage): number {
  return u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
}

/** The rates for a request whose prompt is this many tokens: the highest tier it is above, else the base. */
export function ratesFor(price: Price, prompt: number): { rates: Price | PriceTier; tier: PriceTier | null } {
  let tier: PriceTier | null = null;
  for (const t of price.tiers ?? []) if (prompt > t.above_tokens && (!tier || t.above_tokens > tier.above_tokens)) tier = t;
  return { rates: tier ?? price, tier };
}

export function costOf(usage: Usage, price: Price): number {
  const { rates } = ratesFor(price, promptTokens(usage));
  // Without a split (one inferred by normaliseUsage or none at all), every write is priced at the 5-minute rate.
  const w1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const w5m = usage.cache_creation_input_tokens - w1h;
  const write1h = rates.cache_write_1h ?? rates.input * 2;
  return (
    (usage.input_tokens * rates.input +
      usage.output_tokens * rates.output +
      w5m * rates.cache_write +
      w1h * write1h +
      usage.cache_read_input_tokens * rates.cache_read) /
    1_000_000
  );
}

/**
 * The name of the price entry one call was billed at, for the ledger and `relay-tui
 * cost`: the entry, its tier when one applied, and where an override or a fallback
 * came from. E.g. `claude-haiku-5-5 >100k`, `claude-opus-5-5 (config)`.
 */
export function priceEntryName(lookup: PriceLookup, usage: Usage): string {
  const { tier } = ratesFor(lookup.price, promptTokens(usage));
  const t = tier ? ` >${tier.above_tokens % 1000 === 0 ? `${tier.above_tokens / 1000}k` : tier.above_tokens}` : '';
  const origin = lookup.origin === 'config' ? ' (config)' : lookup.origin === 'fallback' ? ' (unknown model)' : '';
  return `${lookup.matched}${t}${origin}`;
}

type RawUsage = Partial<Record<Exclude<keyof Usage, 'cache_creation'>, number | null>> & {
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
};

/**
 * The API's usage as the ledger keeps it. `asked` is the cache lifetime the request's
 * breakpoints asked for (one per request): when the usage has no 5m/1h split (gateways,
 * proxies, some providers, older APIs), every write is put at that lifetime and marked
 * inferred, so a 1-hour write is never priced at the cheaper 5-minute rate.
 */
export function normaliseUsage(u: RawUsage | undefined, asked?: '5m' | '1h'): Usage {
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
  } else if (asked && out.cache_creation_input_tokens > 0) {
    const w = out.cache_creation_input_tokens;
    out.cache_creation = { ephemeral_5m_input_tokens: asked === '5m' ? w : 0, ephemeral_1h_input_tokens: asked === '1h' ? w : 0 };
    out.cache_split_inferred = asked;
  }
  return out;
}

/**
 * A warning for a configured model that is deprecated or already retired (the table's
 * `retires` date), or undefined. `today` is the local YYYY-MM-DD: the relay says it at
 * start-up and doctor in its config line, so a retirement never first shows as every
 * call failing.
 */
export function lifecycleWarning(model: string, today: string): string | undefined {
  const e = findBuiltin(model);
  if (!e?.retires) return undefined;
  const instead = e.replacement ? ` (its page recommends ${e.replacement})` : '';
  return today >= e.retires
    ? `model ${model} (${e.name}) was retired on ${e.retires}: the API no longer serves it; set model: in config.yaml to a current model${instead}`
    : `model ${model} (${e.name}) is deprecated and retires on ${e.retires}: set model: in config.yaml to a current model before then${instead}`;
}
