import { JsonlAppender, readJsonl, repairJsonlTail } from '../adapters/fs-atomic.js';
import type { Usage } from './prices.js';

/**
 * Spend, on disk. Every API call that was billed appends one line before anything
 * else happens with its reply, so a restart or a kill -9 cannot make today's spend
 * look smaller than it was. Totals are rebuilt from the file at start.
 */

export interface LedgerEntry {
  at: string;
  /** Local calendar day (YYYY-MM-DD): budgets reset at local midnight. */
  day: string;
  session: string;
  kind: 'turn' | 'summary';
  model: string;
  usage: Usage;
  cost_usd: number;
  seq?: number;
}

export interface Totals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  turns: number;
}

const zero = (): Totals => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0, turns: 0 });

export function localDay(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function add(t: Totals, e: LedgerEntry): void {
  t.input += e.usage.input_tokens;
  t.output += e.usage.output_tokens;
  t.cacheRead += e.usage.cache_read_input_tokens;
  t.cacheWrite += e.usage.cache_creation_input_tokens;
  t.costUsd += e.cost_usd;
  if (e.kind === 'turn') t.turns++;
}

export class Ledger {
  private appender: JsonlAppender;
  readonly total = zero();
  private byDay = new Map<string, Totals>();
  private bySessionDay = new Map<string, Totals>();
  private bySession = new Map<string, Totals>();

  constructor(readonly file: string) {
    repairJsonlTail(file);
    for (const e of readJsonl<LedgerEntry>(file).records) this.absorb(e);
    this.appender = new JsonlAppender(file);
  }

  private absorb(e: LedgerEntry): void {
    add(this.total, e);
    const get = (m: Map<string, Totals>, k: string) => m.get(k) ?? (m.set(k, zero()), m.get(k)!);
    add(get(this.byDay, e.day), e);
    add(get(this.bySessionDay, `${e.day}\u0000${e.session}`), e);
    add(get(this.bySession, e.session), e);
  }

  record(e: LedgerEntry): void {
    this.appender.append(e);
    this.absorb(e);
  }

  day(day: string): Totals {
    return this.byDay.get(day) ?? zero();
  }

  sessionDay(session: string, day: string): Totals {
    return this.bySessionDay.get(`${day}\u0000${session}`) ?? zero();
  }

  session(session: string): Totals {
    return this.bySession.get(session) ?? zero();
  }

  days(): Array<[string, Totals]> {
    return [...this.byDay.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }

  sessionsOn(day: string): Array<[string, Totals]> {
    const out: Array<[string, Totals]> = [];
    for (const [k, t] of this.bySessionDay) {
      const [d, s] = k.split('\u0000');
      if (d === day) out.push([s, t]);
    }
    return out.sort((a, b) => b[1].costUsd - a[1].costUsd);
  }

  close(): void {
    this.appender.close();
  }
}
