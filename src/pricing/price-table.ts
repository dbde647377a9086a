import type { Price } from './price-schema.js';

/**
 * The built-in price table: USD per million tokens, as Anthropic publishes it for the
 * Claude API (first party; batch, fast mode, data residency and other platforms are
 * priced differently and not covered). Each entry names the page it was read from
 * and the day it was checked, so a stale figure can be traced and corrected; config
 * `prices:` overrides any figure of any entry (src/pricing/prices.ts merges them).
 *
 * Tiers: a model whose price depends on the size of the prompt (input + cache writes
 * + cache reads of one request) lists the dearer rates with the size they start
 * above; every token of such a request, output included, is billed at that tier.
 */

export type ModelStatus = 'current' | 'legacy' | 'deprecated' | 'limited' | 'retired';

export interface PriceEntry extends Price {
  /** The Claude API model id (the alias that always points at this model's latest snapshot). */
  id: string;
  name: string;
  /** Other ids the API accepts for the same model (dated snapshots, older aliases). */
  aliases?: string[];
  status: ModelStatus;
  /** YYYY-MM-DD: the day Anthropic stops serving it (deprecated models), from its model page. */
  retires?: string;
  /** The model its page recommends instead. */
  replacement?: string;
  source: string;
  /** YYYY-MM-DD: the day these figures were read from `source`. */
  checked: string;
}

const PRICING = 'https://platform.claude.com/docs/en/about-claude/pricing';
const model = (slug: string) => `https://platform.claude.com/docs/en/models/${slug}/overview`;
const CHECKED = '2026-12-01';

/** The standard multipliers (5-minute write 1.25x, 1-hour write 2x, read 0.1x); several current models read cheaper. */
function rates(
  input: number,
  output: number,
  cacheRead = input * 0.1,
): Pick<Price, 'input' | 'output' | 'cache_write' | 'cache_write_1h' | 'cache_read'> {
  return { input, output, cache_write: input * 1.25, cache_write_1h: input * 2, cache_read: cacheRead };
}

export const PRICE_TABLE: readonly PriceEntry[] = [
  // The current lineup (models overview, 2026-12-01: Fable 5.1, Opus 5.5, Sonnet 5.5, Haiku 5.5).
  {
    id: 'claude-fable-5-1',
    name: 'Claude Fable 5.1',
    status: 'current',
    ...rates(10, 50, 0.25),
    source: model('fable-5-1'),
    checked: CHECKED,
  },
  { id: 'claude-opus-5-5', name: 'Claude Opus 5.5', status: 'current', ...rates(4, 20, 0.2), source: model('opus-5-5'), checked: CHECKED },
  // Cache reads cut from $0.20 to $0.10 (0.05x) on 2026-10-07, with the launch of Haiku 5.5.
  { id: 'claude-sonnet-5-5', name: 'Claude Sonnet 5.5', status: 'current', ...rates(2, 10, 0.1), source: PRICING, checked: CHECKED },
  {
    id: 'claude-haiku-5-5',
    name: 'Claude Haiku 5.5',
    status: 'current',
    ...rates(0.1, 0.5, 0.01),
    tiers: [{ above_tokens: 100_000, ...rates(0.5, 2.5, 0.05) }],
    source: model('haiku-5-5'),
    checked: CHECKED,
  },
  // Offered only to organisations verified by Anthropic; same figures as the Fable model of the same version.
  { id: 'claude-mythos-5-1', name: 'Claude Mythos 5.1', status: 'limited', ...rates(10, 50, 0.25), source: PRICING, checked: CHECKED },
  { id: 'claude-mythos-5', name: 'Claude Mythos 5', status: 'limited', ...rates(10, 50), source: PRICING, checked: CHECKED },

  // Legacy: still served, superseded.
  { id: 'claude-fable-5', name: 'Claude Fable 5', status: 'legacy', ...rates(10, 50), source: model('fable-5'), checked: CHECKED },
  { id: 'claude-opus-5', name: 'Claude Opus 5', status: 'legacy', ...rates(5, 25), source: model('opus-5'), checked: CHECKED },
  { id: 'claude-sonnet-5', name: 'Claude Sonnet 5', status: 'legacy', ...rates(2, 10), source: model('sonnet-5'), checked: CHECKED },
  { id: 'claude-opus-4-8', name: 'Claude Opus 4.8', status: 'legacy', ...rates(5, 25), source: PRICING, checked: CHECKED },
  { id: 'claude-opus-4-7', name: 'Claude Opus 4.7', status: 'legacy', ...rates(5, 25), source: PRICING, checked: CHECKED },
  { id: 'claude-opus-4-6', name: 'Claude Opus 4.6', status: 'legacy', ...rates(5, 25), source: PRICING, checked: CHECKED },
  {
    id: 'claude-opus-4-5',
    name: 'Claude Opus 4.5',
    aliases: ['claude-opus-4-5-20251101'],
    status: 'legacy',
    ...rates(5, 25),
    source: PRICING,
    checked: CHECKED,
  },
  { id: 'claude-sonnet-4-6', name: 'Claude Sonnet 4.6', status: 'legacy', ...rates(3, 15), source: PRICING, checked: CHECKED },
  {
    id: 'claude-sonnet-4-5',
    name: 'Claude Sonnet 4.5',
    aliases: ['claude-sonnet-4-5-20250929'],
    status: 'deprecated',
    retires: '2026-11-30',
    replacement: 'claude-sonnet-5-5',
    ...rates(3, 15),
    source: model('sonnet-4-5'),
    checked: CHECKED,
  },
  {
    id: 'claude-sonnet-4-0',
    name: 'Claude Sonnet 4',
    aliases: ['claude-sonnet-4-20250514'],
    status: 'legacy',
    ...rates(3, 15),
    source: PRICING,
    checked: CHECKED,
  },
  {
    id: 'claude-haiku-4-5',
    name: 'Claude Haiku 4.5',
    aliases: ['claude-haiku-4-5-20251001'],
    status: 'legacy',
    ...rates(1, 5),
    source: PRICING,
    checked: CHECKED,
  },

  // Retired on the Claude API (some still on other platforms): priced so old ledgers and proxies still add up.
  {
    id: 'claude-opus-4-1',
    name: 'Claude Opus 4.1',
    aliases: ['claude-opus-4-1-20250805'],
    status: 'retired',
    ...rates(15, 75),
    source: PRICING,
    checked: CHECKED,
  },
  {
    id: 'claude-opus-4-0',
    name: 'Claude Opus 4',
    aliases: ['claude-opus-4-20250514'],
    status: 'retired',
    ...rates(15, 75),
    source: PRICING,
    checked: CHECKED,
  },
  {
    id: 'claude-3-7-sonnet-latest',
    name: 'Claude Sonnet 3.7',
    aliases: ['claude-3-7-sonnet-20250219'],
    status: 'retired',
    ...rates(3, 15),
    source: PRICING,
    checked: CHECKED,
  },
  // Haiku 3.5 and 3 do not follow the standard multipliers exactly: their published figures, as printed.
  {
    id: 'claude-3-5-haiku-latest',
    name: 'Claude Haiku 3.5',
    aliases: ['claude-3-5-haiku-20241022'],
    status: 'retired',
    input: 0.8,
    output: 4,
    cache_write: 1,
    cache_write_1h: 1.6,
    cache_read: 0.08,
    source: PRICING,
    checked: CHECKED,
  },
  {
    id: 'claude-3-haiku-20240307',
    name: 'Claude Haiku 3',
    status: 'retired',
    input: 0.25,
    output: 1.25,
    cache_write: 0.3,
    cache_write_1h: 0.5,
    cache_read: 0.03,
    source: PRICING,
    checked: CHECKED,
  },
  {
    id: 'claude-3-opus-latest',
    name: 'Claude Opus 3',
    aliases: ['claude-3-opus-20240229'],
    status: 'retired',
    ...rates(15, 75),
    source: PRICING,
    checked: CHECKED,
  },
];

/** Model families, for pricing an id the table does not list (see lookupPrice). */
export const FAMILIES = ['fable', 'mythos', 'opus', 'sonnet', 'haiku'] as const;

export function familyOf(modelId: string): (typeof FAMILIES)[number] | null {
  const m = /^claude-(?:\d+-\d+-|\d+-)?(fable|mythos|opus|sonnet|haiku)\b/.exec(modelId.toLowerCase());
  return (m?.[1] as (typeof FAMILIES)[number]) ?? null;
}

/** What the API appends to a model id that does not change its price: a dated snapshot, `-latest`, a context-window tag. */
const SNAPSHOT_SUFFIX = /(?:-\d{8}|-latest|\[1m\])+$/i;

export function stripSnapshot(modelId: string): string {
  return modelId.replace(SNAPSHOT_SUFFIX, '');
}

const BY_ID = new Map<string, PriceEntry>();
for (const e of PRICE_TABLE) for (const id of [e.id, ...(e.aliases ?? [])]) BY_ID.set(id, e);

/** The entry for an id, one of its aliases, or a snapshot of either; never a guess by prefix (claude-opus-5 is not claude-opus-5-5). */
export function findBuiltin(modelId: string): PriceEntry | undefined {
  return BY_ID.get(modelId) ?? BY_ID.get(stripSnapshot(modelId));
}

export function isBuiltinModel(modelId: string): boolean {
  return findBuiltin(modelId) !== undefined;
}
