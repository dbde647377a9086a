import { JsonlAppender, readJsonl, repairJsonlTail } from '../../fs/atomic.js';
import { costOf, lookupPrice, priceEntryName, type Usage } from '../../pricing/prices.js';

/**
 * Spend, on disk. Every API call that was billed appends one line before anything
 * else happens with its reply, so a restart or a kill -9 cannot make today's spend
 * look smaller than it was. Totals are rebuilt from the file at start.
 *
 * A call in flight is covered too: just before it, the relay appends a reservation
 * line with the call's projected cost (an upper bound) and its pid. Every reservation
 * ends one of four ways, and the ledger tells them apart:
 *  - settled: the call's own line replaces it with what the API billed;
 *  - released (a 'release' line): the request never reached the API, or the API
 *    refused it, or the process shut down cleanly between attempts: counts zero;
 *  - interrupted (an 'interrupted' line, written by close() while the reservation is
 *    open): an orderly shutdown stopped a request mid-flight, which the API may have
 *    billed: counted at its projected cost;
 *  - none of these when the file is next loaded: the process died (crash, kill -9)
 *    with the call in flight: counted at its projected cost ("cut short by a crash").
 * A reader beside a live relay (`relay-tui cost`) names the relay's pid: a reservation
 * of that process is a call in flight now, not a crash, and counts nothing yet.
 * So the ledger never shows less than the API billed, whatever moment the process
 * died at, and never charges a call that provably did not reach the API.
 */

export interface LedgerEntry {
  at: string;
  /** Local calendar day (YYYY-MM-DD): budgets reset at local midnight. */
  day: string;
  session: string;
  /**
   * 'unsettled': a call a crash cut short; 'interrupted': one a clean shutdown stopped
   * mid-request. Both counted at their projected cost, and only ever built on load.
   */
  kind: 'turn' | 'summary' | 'unsettled' | 'interrupted';
  model: string;
  usage: Usage;
  cost_usd: number;
  seq?: number;
  /** The reservation this turn settles. */
  reserve?: string;
  /** The price entry the call was billed at (prices.ts priceEntryName), e.g. `claude-haiku-5-5 >100k`. */
  price_entry?: string;
  /** One session's share of a batched call: the seq of the call's first record (turn/batch.ts). */
  batch?: number;
  /** cost_usd is at API prices for an account that does not pay per token (a subscription); budgets still count it. */
  notional?: true;
}

/** A call about to be made, at its projected (upper-bound) cost. */
export interface Reservation {
  t: 'reserve';
  id: string;
  at: string;
  day: string;
  session: string;
  projected_usd: number;
  /** The process that made it (absent in ledgers written before it was recorded). */
  pid?: number;
}

/** Why a reservation counts nothing: the request never reached the API, the API refused it, or a clean stop between attempts. */
export type ReleaseReason = 'not_sent' | 'refused' | 'shutdown' | 'superseded';

interface Release {
  t: 'release';
  id: string;
  why?: ReleaseReason;
}

interface Interrupted {
  t: 'interrupted';
  id: string;
}

type LedgerLine = (LedgerEntry & { t?: undefined }) | Reservation | Release | Interrupted;

/** The live relay beside a read-only reader: its reservations are calls in flight, not crashes. */
export interface LiveHolder {
  pid: number;
  /** ISO time the live process took the root's lock. */
  since: string;
}

export interface Totals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  turns: number;
  /** The part of costUsd billed to an account that does not pay per token (at API prices: `cost` labels it). */
  notionalUsd: number;
}

const RECENT_MAX = 10_000;
/** The lock's start time and a reservation's time come from different clocks calls apart; this much earlier still counts as the same process. */
const LOCK_CLOCK_SLACK_MS = 5_000;

/** The pid a reservation was made by: its own field, or (older ledgers) the middle of its id, `<ms>-<pid>-<n>`. */
export function reservationPid(r: Reservation): number | undefined {
  if (typeof r.pid === 'number') return r.pid;
  const m = /^\d+-(\d+)-\d+$/.exec(r.id);
  return m ? Number(m[1]) : undefined;
}

const zero = (): Totals => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0, turns: 0, notionalUsd: 0 });

/**
 * The price entry of a billed call whose caller did not name one: the built-in entry
 * for its model when that entry gives exactly the cost recorded (the call was priced
 * with it), else the model's config override, which is the only other source a cost
 * can come from.
 */
function inferPriceEntry(e: LedgerEntry): string {
  const builtin = lookupPrice(e.model);
  return Math.abs(costOf(e.usage, builtin.price) - e.cost_usd) <= 1e-12 + 1e-9 * e.cost_usd
    ? priceEntryName(builtin, e.usage)
    : `${e.model} (config)`;
}

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
  if (e.notional) t.notionalUsd += e.cost_usd;
  if (e.kind === 'turn') t.turns++;
}

export class Ledger {
  /** The price entry of the last billed call (shown in status and the TUI's Cost pane). */
  lastPriceEntry: string | null = null;
  private appender: JsonlAppender | null;
  readonly total = zero();
  private byDay = new Map<string, Totals>();
  private bySessionDay = new Map<string, Totals>();
  private bySession = new Map<string, Totals>();
  /** Per day, per price entry: what each entry of the price table billed. */
  private byDayEntry = new Map<string, Map<string, { calls: number; costUsd: number }>>();
  /** This process's reservation for the call in flight, if any. */
  private open: Reservation | null = null;
  private counter = 0;
  /** Reservations a dead process left open: calls cut short by a crash, counted at their projected cost. */
  readonly crashed: Reservation[] = [];
  /** Reservations a clean shutdown stopped mid-request: counted at their projected cost (the API may have billed them). */
  readonly interrupted: Reservation[] = [];
  /** Reservations of the live relay (read-only readers only): calls being made now, counted when they settle. */
  readonly inFlight: Reservation[] = [];
  /** Reservations released: requests that never reached the API (or were refused), counting zero. */
  released = 0;
  /** Per session, its newest billed turn (ms): a restart rebuilds each session's last activity from it. */
  private lastTurn = new Map<string, number>();
  /** The most recent turns (and interrupted calls), oldest first: the rate limit's window survives a restart. */
  private recent: Array<{ session: string; at: number }> = [];

  /**
   * readOnly: for readers such as `relay-tui cost` while a relay may be appending (no
   * repair, no writes); `live` names that relay, whose open reservations are in flight.
   */
  constructor(
    readonly file: string,
    opts: { readOnly?: boolean; live?: LiveHolder | null } = {},
  ) {
    if (!opts.readOnly) repairJsonlTail(file);
    const pending = new Map<string, Reservation>();
    const stopped = new Map<string, Reservation>();
    for (const line of readJsonl<LedgerLine>(file).records) {
      if (line.t === 'reserve') pending.set(line.id, line);
      else if (line.t === 'release') {
        if (pending.delete(line.id)) this.released++;
      } else if (line.t === 'interrupted') {
        const r = pending.get(line.id);
        if (r) {
          pending.delete(line.id);
          stopped.set(line.id, r);
        }
      } else {
        if (line.reserve) pending.delete(line.reserve);
        this.absorb(line);
      }
    }
    const live = opts.readOnly ? opts.live : null;
    const isLive = (r: Reservation) =>
      !!live && reservationPid(r) === live.pid && Date.parse(r.at) >= Date.parse(live.since) - LOCK_CLOCK_SLACK_MS;
    const count = (r: Reservation, kind: 'unsettled' | 'interrupted') =>
      this.absorb({
        at: r.at,
        day: r.day,
        session: r.session,
        kind,
        model: '',
        usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        cost_usd: r.projected_usd,
        reserve: r.id,
      });
    for (const r of pending.values()) {
      if (isLive(r)) {
        this.inFlight.push(r);
        continue;
      }
      this.crashed.push(r);
      count(r, 'unsettled');
    }
    for (const r of stopped.values()) {
      this.interrupted.push(r);
      count(r, 'interrupted');
    }
    this.appender = opts.readOnly ? null : new JsonlAppender(file);
  }

  /** Per session: the calls counted at their projected cost (crashes and interrupted requests) and that cost. */
  unsettledBySession(): Map<string, { calls: number; usd: number }> {
    const out = new Map<string, { calls: number; usd: number }>();
    for (const r of this.unsettled) {
      const t = out.get(r.session) ?? { calls: 0, usd: 0 };
      t.calls++;
      t.usd += r.projected_usd;
      out.set(r.session, t);
    }
    return out;
  }

  /** Calls counted at their projected cost because nobody knows what they were billed: crashes and interrupted requests. */
  get unsettled(): Reservation[] {
    return [...this.crashed, ...this.interrupted];
  }

  private absorb(e: LedgerEntry): void {
    if (e.price_entry && e.kind !== 'unsettled') this.lastPriceEntry = e.price_entry;
    if (e.kind !== 'summary') {
      this.recent.push({ session: e.session, at: Date.parse(e.at) });
      if (this.recent.length > RECENT_MAX * 2) this.recent = this.recent.slice(-RECENT_MAX);
    }
    if (e.kind === 'turn') {
      const at = Date.parse(e.at);
      if (at > (this.lastTurn.get(e.session) ?? -Infinity)) this.lastTurn.set(e.session, at);
    }
    add(this.total, e);
    const get = (m: Map<string, Totals>, k: string) => m.get(k) ?? (m.set(k, zero()), m.get(k)!);
    add(get(this.byDay, e.day), e);
    add(get(this.bySessionDay, `${e.day}\u0000${e.session}`), e);
    add(get(this.bySession, e.session), e);
    if (e.kind === 'turn' || e.kind === 'summary') {
      const name = e.price_entry ?? (e.model ? `${e.model} (entry not recorded)` : 'unknown (entry not recorded)');
      const m = this.byDayEntry.get(e.day) ?? (this.byDayEntry.set(e.day, new Map()), this.byDayEntry.get(e.day)!);
      const t = m.get(name) ?? { calls: 0, costUsd: 0 };
      t.calls++;
      t.costUsd += e.cost_usd;
      m.set(name, t);
    }
  }

  /** Billed calls of a day by the price entry they were billed at, dearest first. */
  priceEntriesOn(day: string): Array<[string, { calls: number; costUsd: number }]> {
    return [...(this.byDayEntry.get(day) ?? new Map()).entries()].sort((a, b) => b[1].costUsd - a[1].costUsd);
  }

  private write(line: LedgerLine, lazy = false): void {
    if (!this.appender) throw new Error(`${this.file}: ledger opened read-only`);
    if (lazy) this.appender.appendLazy(line);
    else this.appender.append(line);
  }

  /**
   * Called just before an API call, with its projected cost: until the turn's own
   * line settles it, a crash counts the call at this cost. An earlier reservation
   * still open belonged to a call that failed without a release, and is released.
   */
  reserve(r: { at: string; day: string; session: string; projectedUsd: number }): string {
    this.release('superseded');
    const id = `${Date.parse(r.at) || 0}-${process.pid}-${++this.counter}`;
    const line: Reservation = {
      t: 'reserve',
      id,
      at: r.at,
      day: r.day,
      session: r.session,
      projected_usd: r.projectedUsd,
      pid: process.pid,
    };
    this.write(line);
    this.open = line;
    return id;
  }

  /**
   * The reserved call cannot have been billed: the request never reached the API
   * (connection refused, DNS, aborted before it was sent), the API refused it, or the
   * relay is shutting down cleanly between attempts. It counts zero, now and after a
   * restart. (A request aborted mid-flight must NOT be released: the API may bill it.)
   */
  release(why: ReleaseReason = 'refused'): void {
    if (!this.open) return;
    this.write({ t: 'release', id: this.open.id, why });
    this.open = null;
    this.released++;
  }

  /** The reservation of the call in flight, if any (the engine decides release or keep from it). */
  get openReservation(): Readonly<Reservation> | null {
    return this.open;
  }

  /**
   * A billed call. A turn settles the open reservation, and counts on the day the
   * reservation was made (the day whose budget allowed it, even if the reply came
   * after midnight). A summary (made inside a reserved turn) settles nothing.
   *
   * A turn that settles a reservation is appended without a flush of its own (one
   * fdatasync fewer a turn): a kill -9 cannot lose it, and if a power cut does, the
   * reservation it settles is still on disk and counts at its projected (upper-bound)
   * cost, as after a crash between the conversation line and this one. The next
   * reservation's flush, or close(), makes it durable; so it is on disk before the
   * next call can be billed. A line that settles nothing is flushed at once.
   */
  record(e: LedgerEntry, opts: { settles?: boolean } = {}): void {
    const priced = e.price_entry || !e.model ? e : { ...e, price_entry: inferPriceEntry(e) };
    // A batch's sections but the last (settles: false) count on the reservation's day and leave it open:
    // a crash before the last line counts the whole call at its projection as well, never less.
    if (opts.settles === false) {
      const entry = this.open ? { ...priced, day: this.open.day } : priced;
      this.write(entry);
      this.absorb(entry);
      return;
    }
    const entry =
      priced.kind === 'turn' && this.open && !priced.reserve ? { ...priced, day: this.open.day, reserve: this.open.id } : priced;
    this.write(entry, entry.kind === 'turn' && !!entry.reserve);
    if (e.kind === 'turn') this.open = null;
    this.absorb(entry);
  }

  day(day: string): Totals {
    return this.byDay.get(day) ?? zero();
  }

  sessionDay(session: string, day: string): Totals {
    return this.bySessionDay.get(`${day}\u0000${session}`) ?? zero();
  }

  /** Each session's newest billed turn (ms since the epoch). */
  lastTurns(): ReadonlyMap<string, number> {
    return this.lastTurn;
  }

  session(session: string): Totals {
    return this.bySession.get(session) ?? zero();
  }

  /** Turns billed (or cut short by a crash) since `ms`, per session and time: for the rate limit after a restart. */
  turnsSince(ms: number): Array<{ session: string; at: number }> {
    return this.recent.filter((t) => t.at > ms);
  }

  /** Oldest first. Keys are YYYY-MM-DD, whose code-unit order is date order: no collator (ICU) needed. */
  days(): Array<[string, Totals]> {
    return [...this.byDay.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  sessionsOn(day: string): Array<[string, Totals]> {
    const out: Array<[string, Totals]> = [];
    for (const [k, t] of this.bySessionDay) {
      const [d, s] = k.split('\u0000');
      if (d === day) out.push([s, t]);
    }
    return out.sort((a, b) => b[1].costUsd - a[1].costUsd);
  }

  /**
   * An orderly shutdown. A reservation still open here belongs to a request the
   * shutdown stopped mid-flight (the engine releases one that never reached the API
   * before it closes): it is marked interrupted, counted at its projected cost, and
   * never mistaken for a crash.
   */
  close(): void {
    if (this.appender && this.open) {
      this.write({ t: 'interrupted', id: this.open.id });
      this.open = null;
    }
    this.appender?.close();
    this.appender = null;
  }

  /** Lets go of the file the way a killed process does, writing nothing (the crash tests' kill -9). */
  abandon(): void {
    this.appender?.drop();
    this.appender = null;
    this.open = null;
  }
}
