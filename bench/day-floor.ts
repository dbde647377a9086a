// The part of a supervised day's bill no design can avoid on its model (issue 24), from the
// day's own calls (bench/day.ts): the replies' output, and every turn's own new tokens (the
// first call's whole prompt; then the previous reply and the new message) processed once, at
// the cheapest rate that still has them when the next turn's call goes out: a 5-minute write
// when that call is under 5 minutes later, a 1-hour write when under an hour, else uncached
// input (no lifetime lasts, so writing them buys nothing). After a gap of over an hour the
// system prompt counts as new again. The floor knows each next gap in advance, which no
// relay does, and reads nothing: every read of the history, every rewrite and every summary
// call is in "the rest", which a design can shrink but not to zero while it keeps a history.
import { lookupPrice } from '../src/pricing/prices.js';
import type { DayResult } from './day.js';

const FIVE_MIN = 5 * 60_000;
const HOUR = 60 * 60_000;

export interface DayFloor {
  /** Scaled to 24 h, like DayResult.perDayUsd. */
  floorUsd: number;
  outputUsd: number;
  newTokensUsd: number;
  /** The turns' own new tokens by the rate the floor charges them at. */
  tokens: { at5m: number; at1h: number; uncached: number };
  /** The rest of the day's bill, scaled: reads (every call), the turns' writes and uncached input beyond the floor's, the summary calls (all of them). */
  rest: { usd: number; readsUsd: number; turnWritesUsd: number; summariesUsd: number };
  dayUsd: number;
}

export function dayFloor(d: DayResult): DayFloor {
  const p = lookupPrice(d.model).price;
  const w1h = p.cache_write_1h ?? 2 * p.input;
  const perDay = 1440 / d.simMinutes;
  const turns = d.calls.filter((c) => !c.summary);
  const tokens = { at5m: 0, at1h: 0, uncached: 0 };
  let output = 0;
  let newUsd = 0;
  let turnWrites = 0;
  let summaries = 0;
  let reads = 0;
  const $ = (n: number, rate: number) => (n * rate) / 1e6;
  for (const c of d.calls) {
    const u = c.usage;
    const w1 = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
    const w5 = u.cache_creation_input_tokens - w1;
    reads += $(u.cache_read_input_tokens, p.cache_read);
    const writes = $(w5, p.cache_write) + $(w1, w1h) + $(u.input_tokens, p.input);
    if (c.summary) summaries += writes + $(u.output_tokens, p.output);
    else {
      turnWrites += writes;
      output += $(u.output_tokens, p.output);
    }
  }
  for (let i = 0; i < turns.length; i++) {
    const c = turns[i];
    const cold = i > 0 && c.atMs - turns[i - 1].atMs >= HOUR;
    const n = c.ownTokens + (cold ? d.systemTokens : 0);
    const next = turns[i + 1] ? turns[i + 1].atMs - c.atMs : Infinity;
    if (next < FIVE_MIN) {
      tokens.at5m += n;
      newUsd += $(n, p.cache_write);
    } else if (next < HOUR) {
      tokens.at1h += n;
      newUsd += $(n, w1h);
    } else {
      tokens.uncached += n;
      newUsd += $(n, p.input);
    }
  }
  const restTurnWrites = turnWrites - newUsd;
  return {
    floorUsd: (output + newUsd) * perDay,
    outputUsd: output * perDay,
    newTokensUsd: newUsd * perDay,
    tokens,
    rest: {
      usd: (reads + restTurnWrites + summaries) * perDay,
      readsUsd: reads * perDay,
      turnWritesUsd: restTurnWrites * perDay,
      summariesUsd: summaries * perDay,
    },
    dayUsd: d.perDayUsd,
  };
}
