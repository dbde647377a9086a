import type { Config } from '../../config/schema.js';
import { costOf, priceEntryName, type PriceLookup, type Usage } from '../../pricing/prices.js';
import { batchCode, batchMessage, parseBatchAnswer } from '../journals/batch-form.js';
import { localDay, type Ledger } from '../journals/ledger.js';
import type { TurnRecord } from '../journals/records.js';
import type { Conversation } from '../journals/conversation.js';
import { isoNow, type ChatResult, type Clock } from '../kernel/ports.js';
import type { Pauses } from '../operator/pauses.js';
import type { Committer } from './commit.js';
import type { BatchInput, TurnInput } from './turn-input.js';

/**
 * One call for every waiting session (issue 24, item 3). The picker's first envelope
 * turn gathers one more envelope from each other session that may go, up to
 * batch.max_sessions; the answer is split by its per-session sections (batch-form.ts)
 * and each section is committed through the same numbered steps as a one-envelope turn
 * (commit.ts commitAll), so holds, counters and delivery are per session as before.
 *
 * A session whose section is missing, empty, duplicated or cut by max_tokens keeps its
 * envelope in queue/ and is marked to go alone next: nothing lost, nothing delivered twice.
 *
 * The call's cost, split per session: the input side (uncached input, cache writes and
 * reads) by each session's share of the message's bytes, the output by each section's
 * share of the answer's bytes, over the sessions that got a reply. Each section's
 * ledger line carries its share; together they are the call's bill.
 */

export function batchConfig(cfg: Config, sessions: number): Config {
  // Room for one reply per session; the projection prices the output at this bound.
  return sessions > 1 ? { ...cfg, max_tokens: Math.min(cfg.max_tokens * sessions, 128_000) } : cfg;
}

export interface BatcherOptions {
  config: () => Config;
  price: () => PriceLookup;
  now: Clock;
  ledger: Ledger;
  conversation: Conversation;
  pauses: Pauses;
  committer: Committer;
  log: (level: 'info' | 'warn', message: string) => void;
}

export class Batcher {
  /** Envelopes a batch could not answer: each goes in a call of its own next. */
  private readonly solo = new Set<string>();

  constructor(private readonly o: BatcherOptions) {}

  /**
   * The first turn alone, or a batch of it and one envelope of each other session `more`
   * finds (it skips the sessions already taken). Only envelope turns are batched.
   */
  gather(first: TurnInput, more: (taken: Set<string>) => TurnInput | null): TurnInput | BatchInput {
    const cfg = this.o.config();
    // approval: all holds every reply, one at a time: nothing to gain.
    if (cfg.batch === 'off' || cfg.approval === 'all' || !first.envelope || this.solo.has(first.envelope.file)) return first;
    const turns = [first];
    const taken = new Set([first.route]);
    while (turns.length < cfg.batch.max_sessions) {
      const t = more(taken);
      if (!t) break;
      taken.add(t.route);
      if (t.envelope && !this.solo.has(t.envelope.file)) turns.push(t);
    }
    if (turns.length < 2) return first;
    const code = batchCode();
    return { kind: 'batch', turns, code, user: batchMessage(turns, code) };
  }

  /** An envelope taken alone is done with its fallback. */
  tookAlone(t: TurnInput): void {
    if (t.envelope) this.solo.delete(t.envelope.file);
  }

  commit(b: BatchInput, result: ChatResult): TurnRecord[] {
    const o = this.o;
    const routes = b.turns.map((t) => t.route);
    const parsed = parseBatchAnswer(result.text, routes, b.code, result.stopReason === 'max_tokens');
    if (!parsed.ok) {
      for (const t of b.turns) if (t.envelope) this.solo.add(t.envelope.file);
      this.billUnanswered(result);
      o.log('warn', `a batched answer for ${routes.join(', ')} was not in the form (${parsed.problem}): each goes alone`);
      return [];
    }
    // Holds are per session (issue 23): a section needing the operator holds that session
    // alone, as a one-envelope turn's reply would; the others are delivered.
    const answered: Array<{ t: TurnInput; reply: string }> = [];
    const fallback: string[] = [];
    for (const t of b.turns) {
      const reply = parsed.replies.get(t.route);
      if (reply === undefined) {
        fallback.push(t.route);
        if (t.envelope) this.solo.add(t.envelope.file);
        continue;
      }
      answered.push({ t, reply });
    }
    if (fallback.length) o.log('warn', `a batched answer had no usable section for ${fallback.join(', ')}: each goes alone`);
    if (!answered.length) {
      this.billUnanswered(result);
      return [];
    }
    const seq0 = o.conversation.nextSeq();
    const inShares = shares(answered.map((a) => Buffer.byteLength(a.t.user)));
    const outShares = shares(answered.map((a) => Buffer.byteLength(a.reply)));
    const total = costOf(result.usage, o.price().price);
    const inCost = costOf({ ...result.usage, output_tokens: 0 }, o.price().price);
    const inUsage = splitUsage({ ...result.usage, output_tokens: 0 }, inShares);
    const outTokens = splitInt(result.usage.output_tokens, outShares);
    const history =
      result.usage.input_tokens +
      result.usage.cache_creation_input_tokens +
      result.usage.cache_read_input_tokens +
      result.usage.output_tokens;
    const records = answered.map(({ t, reply }, i) => {
      const base = o.committer.recordOf(t, { ...result, text: reply, stopReason: 'end_turn' }, seq0 + i);
      const record: TurnRecord = {
        ...base,
        usage: { ...inUsage[i], output_tokens: outTokens[i] },
        cost_usd: inCost * inShares[i] + (total - inCost) * outShares[i],
        history_tokens: history,
        batch: { call: seq0, code: b.code, of: b.turns.length },
      };
      return { record, automatic: t.automatic };
    });
    o.committer.commitAll(records);
    return records.map((r) => r.record);
  }

  /** Billed, and nobody got a reply: the call's line settles its reservation, to no session. */
  private billUnanswered(result: ChatResult): void {
    const o = this.o;
    o.ledger.record({
      at: isoNow(o.now),
      day: localDay(o.now()),
      session: 'relay',
      kind: 'turn',
      model: result.model || o.config().model,
      usage: result.usage,
      cost_usd: costOf(result.usage, o.price().price),
      price_entry: priceEntryName(o.price(), result.usage),
    });
  }
}

/** Fractions summing to 1, by weight (equal when every weight is 0). */
export function shares(weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => (sum > 0 ? w / sum : 1 / weights.length));
}

/** n split by fractions into integers that sum to n (largest remainder). */
export function splitInt(n: number, fractions: number[]): number[] {
  const raw = fractions.map((f) => n * f);
  const out = raw.map(Math.floor);
  let left = n - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]++;
    left--;
  }
  return out;
}

function splitUsage(u: Usage, fractions: number[]): Usage[] {
  const input = splitInt(u.input_tokens, fractions);
  const read = splitInt(u.cache_read_input_tokens, fractions);
  // Each lifetime split on its own, so a share's two parts add up to its writes.
  const w1hTotal = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const w1h = splitInt(w1hTotal, fractions);
  const w5m = splitInt(u.cache_creation_input_tokens - w1hTotal, fractions);
  return fractions.map((_, i) => ({
    input_tokens: input[i],
    output_tokens: 0,
    cache_creation_input_tokens: w1h[i] + w5m[i],
    cache_read_input_tokens: read[i],
    ...(u.cache_creation ? { cache_creation: { ephemeral_1h_input_tokens: w1h[i], ephemeral_5m_input_tokens: w5m[i] } } : {}),
  }));
}
