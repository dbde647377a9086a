import { JsonlAppender, readJsonl, repairJsonlTail } from '../adapters/fs-atomic.js';
import type { Usage } from './prices.js';

/**
 * Spend, on disk. Every API call that was billed appends one line before anything
 * else happens with its reply, so a restart or a kill -9 cannot make today's spend
 * look smaller than it was. Totals are rebuilt from the file at start.
 *
 * A call in flight is covered too: just before it, the relay appends a reservation
 * line with the call's projected cost (an upper bound). The turn's own line settles
 * it. A reservation still open at the next reserve() belongs to a call that failed
 * (not billed) and is released. One still open when the file is loaded belongs to a
 * call cut short by a crash or a kill -9, which the API may well have billed: it is
 * counted at its projected cost, for good (kind 'unsettled'). So the ledger never
 * shows less than the API billed, whatever moment the process died at.
 */

export interface LedgerEntry {
  at: string;
  /** Local calendar day (YYYY-MM-DD): budgets reset at local midnight. */
  day: string;
  session: string;
  /** 'unsettled': a call a crash interrupted, counted at its projected cost (only ever built on load). */
  kind: 'turn' | 'summary' | 'unsettled';
  model: string;
  usage: Usage;
  cost_usd: number;
  seq?: number;
  /** The reservation this turn settles. */
  reserve?: string;
}

/** A call about to be made, at its projected (upper-bound) cost. */
export interface Reservation {
  t: 'reserve';
  id: string;
  at: string;
  day: string;
  session: string;
  projected_usd: number;
}

interface Release {
  t: 'release';
  id: string;
}

type LedgerLine = (LedgerEntry & { t?: undefined }) | Reservation | Release;

export interface Totals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  turns: number;
}

const RECENT_MAX = 10_000;

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
  private appender: JsonlAppender | null;
  readonly total = zero();
  private byDay = new Map<string, Totals>();
  private bySessionDay = new Map<string, Totals>();
  private bySession = new Map<string, Totals>();
  /** This process's reservation for the call in flight, if any. */
  private open: Reservation | null = null;
  private counter = 0;
  /** Reservations found open on load: calls a crash interrupted, counted at their projected cost. */
  readonly unsettled: Reservation[] = [];
  /** The most recent turns (and interrupted calls), oldest first: the rate limit's window survives a restart. */
  private recent: Array<{ session: string; at: number }> = [];

  /** readOnly: for readers such as `relay-tui cost` while a relay may be appending (no repair, no writes). */
  constructor(
    readonly file: string,
    opts: { readOnly?: boolean } = {},
  ) {
    if (!opts.readOnly) repairJsonlTail(file);
    const pending = new Map<string, Reservation>();
    for (const line of readJsonl<LedgerLine>(file).records) {
      if (line.t === 'reserve') pending.set(line.id, line);
      else if (line.t === 'release') pending.delete(line.id);
      else {
        if (line.reserve) pending.delete(line.reserve);
        this.absorb(line);
      }
    }
    for (const r of pending.values()) {
      this.unsettled.push(r);
      this.absorb({ at: r.at, day: r.day, session: r.session, kind: 'unsettled', model: '', usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }, cost_usd: r.projected_usd, reserve: r.id });
    }
    this.appender = opts.readOnly ? null : new JsonlAppender(file);
  }

  private absorb(e: LedgerEntry): void {
    if (e.kind !== 'summary') {
      this.recent.push({ session: e.session, at: Date.parse(e.at) });
      if (this.recent.length > RECENT_MAX * 2) this.recent = this.recent.slice(-RECENT_MAX);
    }
    add(this.total, e);
    const get = (m: Map<string, Totals>, k: string) => m.get(k) ?? (m.set(k, zero()), m.get(k)!);
    add(get(this.byDay, e.day), e);
    add(get(this.bySessionDay, `${e.day}\u0000${e.session}`), e);
    add(get(this.bySession, e.session), e);
  }

  private write(line: LedgerLine): void {
    if (!this.appender) throw new Error(`${this.file}: ledger opened read-only`);
    this.appender.append(line);
  }

  /**
   * Called just before an API call, with its projected cost: until the turn's own
   * line settles it, a crash counts the call at this cost. An earlier reservation
   * still open belonged to a call that failed, and is released.
   */
  reserve(r: { at: string; day: string; session: string; projectedUsd: number }): string {
    this.release();
    const id = `${Date.parse(r.at) || 0}-${process.pid}-${++this.counter}`;
    const line: Reservation = { t: 'reserve', id, at: r.at, day: r.day, session: r.session, projected_usd: r.projectedUsd };
    this.write(line);
    this.open = line;
    return id;
  }

  /** The reserved call failed without being billed. */
  release(): void {
    if (!this.open) return;
    this.write({ t: 'release', id: this.open.id });
    this.open = null;
  }

  /**
   * A billed call. A turn settles the open reservation, and counts on the day the
   * reservation was made (the day whose budget allowed it, even if the reply came
   * after midnight). A summary (made inside a reserved turn) settles nothing.
   */
  record(e: LedgerEntry): void {
    const entry = e.kind === 'turn' && this.open && !e.reserve ? { ...e, day: this.open.day, reserve: this.open.id } : e;
    this.write(entry);
    if (e.kind === 'turn') this.open = null;
    this.absorb(entry);
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

  /** Turns billed (or cut short by a crash) since `ms`, per session and time: for the rate limit after a restart. */
  turnsSince(ms: number): Array<{ session: string; at: number }> {
    return this.recent.filter((t) => t.at > ms);
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
    this.appender?.close();
    this.appender = null;
  }
}
