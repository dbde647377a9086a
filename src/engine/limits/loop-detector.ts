import crypto from 'node:crypto';

/**
 * The loop detector: judged by what repeats in the EXCHANGE (a session's message and
 * chat-Claude's reply together), measured against two corpora (test/data/loop-corpus).
 *
 * Text is compared after it is reduced to what carries meaning. Volatile tokens are
 * blanked: timestamps, dates, clock times, waits ("in 8s", "after 30 s"), uuids and request ids, epoch
 * numbers, and the number after a retry word ("attempt 3", "retry 2/5", "3rd try").
 * Every other number is content: "step 2 done" after "step 1 done", "41 passed" after
 * "40 passed", "PR #412", "cost turn 2" are change, never a repeat.
 *
 * Two texts are the same when, so reduced, they are equal, or near: their sets of
 * content words (stop words aside) differ by at most one word, and only when there
 * are at least eight of them, so a paraphrase that adds a word still matches while a
 * reply that swaps one object for another ("test the parser" / "test the lexer") does
 * not.
 *
 * A loop is one of:
 *  - repeat: the same message and the same reply, `threshold` exchanges in a row;
 *  - cycle: the same 2 or 3 exchanges over and over (A B A B ...), `threshold`
 *    times round (the check stops the call that would start the last round);
 *  - echo: `threshold` messages in a row from one session that are chat-Claude's
 *    own recent replies (to it or to another session) sent back: a ping-pong.
 * Each is seen BEFORE the call of its last exchange: from the recorded exchanges and
 * the new message (the reply of the candidate is the one thing not known yet, and the
 * run so far is the evidence that it would repeat too).
 *
 * What is not a loop: a reply alone repeating (chat-Claude says "Good, carry on." to
 * every step of a plan); a message alone repeating with different answers; changing
 * numbers. Those runs, and slow drifts that never repeat exactly, are left to the
 * leash (max_auto_turns) and the rate limit.
 *
 * State is fingerprints only (hashes of the reduced text and of its content words),
 * never the text, and is persisted with the guard's counters.
 */

export interface ExchangePrint {
  /** Hash of the reduced message. */
  m: string;
  /** Hashes of the message's content words (for near matches). */
  mw: string[];
  r: string;
  rw: string[];
  /** The message was an echo of a recent reply. */
  e: boolean;
}

export interface LoopState {
  /** Per session, its latest exchanges, oldest first. */
  sessions: Record<string, ExchangePrint[]>;
  /** The latest replies to any session (reduced-text hash and content words), oldest first: what an echo would repeat. */
  replies: Array<{ h: string; w: string[] }>;
}

export function emptyLoopState(): LoopState {
  return { sessions: {}, replies: [] };
}

export type LoopKind = 'repeat' | 'cycle' | 'echo';

export interface LoopVerdict {
  kind: LoopKind;
  /** Exchanges (repeat, echo) or rounds (cycle) the candidate would make. */
  count: number;
  /** Cycle length (1 for a plain repeat). */
  period: number;
}

const REPLIES_KEPT = 8;
const MAX_PERIOD = 3;
/** A message shorter than this (reduced) is not judged an echo: "ok" matches too much. */
const ECHO_MIN_CHARS = 16;
const NEAR_MIN_WORDS = 8;
/** Past this many content words only an exact match counts: near matching needs whole sets, and state must stay small. */
const NEAR_MAX_WORDS = 100;

const RETRY_WORDS =
  'attempts?|retry|retries|retrying|retried|tries|try|tried|trying|iteration|poll|polls|polling|round|heartbeat|ping|beat|tick|reconnect(?:ing|ion)?|backoff';
const VOLATILE: Array<[RegExp, string]> = [
  // ISO date-times, dates, clock times (with seconds, fractions, zones, am/pm).
  [/\b\d{4}-\d{2}-\d{2}(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:z|[+-]\d{2}:?\d{2})?\b/g, ' ‹time› '],
  [/\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[ap]\.?m\.?)?\b/g, ' ‹time› '],
  // uuids, request/trace ids, long hex run ids with digits and letters: new on every attempt.
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, ' ‹id› '],
  [/\b(?:req|request|trace|msg|run)_[a-z0-9]{6,}\b/g, ' ‹id› '],
  [/\b(request[ -]?id|trace[ -]?id|correlation[ -]?id)\s*[:=#]?\s*[\w-]+/g, ' $1 ‹id› '],
  // Unix epochs in seconds or milliseconds.
  [/\b1\d{9}(?:\d{3})?\b/g, ' ‹time› '],
  // Retry counters: "attempt 3", "retry #2", "try 3/5", "attempt 3 of 5", "3rd attempt", "for the 4th time".
  [new RegExp(`\\b(${RETRY_WORDS})\\s*(?:#|no\\.?|number)?\\s*[:(]?\\s*\\d+(?:\\s*(?:/|of)\\s*\\d+)?\\)?`, 'g'), ' $1 ‹n› '],
  [new RegExp(`\\b\\d+(?:st|nd|rd|th)\\s+(${RETRY_WORDS}|time)\\b`, 'g'), ' ‹n› $1 '],
  // Waits and elapsed times move on every retry ("retrying in 8s", "timed out after 30 s"); a measured
  // duration ("p99 latency 320 ms", "took 41 s" of a benchmark) is content and stays.
  [
    /\b(in|after|for|waited|waiting|wait|off|sleep|sleeping|eta)\s+\d+(?:\.\d+)?\s?(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b/g,
    ' $1 ‹dur› ',
  ],
];

const STOP = new Set(
  'a an the and or but if then so to of in on at by for with from as is are was were be been being it its this that these those i me my we our you your he she they them their please just now also still again already ok okay yes no not do does did done have has had will would can could should may might shall there here what which who whom how when where why said say says mentioned before earlier above told'.split(
    ' ',
  ),
);

/** Lower-cased, volatile tokens blanked, punctuation and spacing folded. */
export function reduce(text: string): string {
  let t = text.toLowerCase();
  for (const [re, sub] of VOLATILE) t = t.replace(re, sub);
  return t
    .replace(/[^\p{L}\p{N}‹›#]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const h8 = (s: string) => crypto.createHash('sha1').update(s).digest('hex').slice(0, 12);

function words(reduced: string): string[] {
  const out = new Set<string>();
  for (const w of reduced.split(' ')) {
    if (w && !STOP.has(w)) out.add(h8(w));
    if (out.size > NEAR_MAX_WORDS) return [];
  }
  return [...out].sort();
}

export interface Print {
  h: string;
  w: string[];
  len: number;
}

export function print(text: string): Print {
  const r = reduce(text);
  return { h: h8(r), w: words(r), len: r.length };
}

/** Equal when reduced, or near: content-word sets of 8+ words that differ by at most one word. */
export function same(a: { h: string; w: string[] }, b: { h: string; w: string[] }): boolean {
  if (a.h === b.h) return true;
  const A = new Set(a.w);
  const union = new Set([...a.w, ...b.w]);
  if (union.size < NEAR_MIN_WORDS || a.w.length === 0 || b.w.length === 0) return false;
  let diff = 0;
  for (const w of union) if (!A.has(w) || !b.w.includes(w)) diff++;
  return diff <= 1;
}

const exchangeSame = (x: ExchangePrint, y: ExchangePrint) =>
  same({ h: x.m, w: x.mw }, { h: y.m, w: y.mw }) && same({ h: x.r, w: x.rw }, { h: y.r, w: y.rw });

function isEcho(state: LoopState, m: Print): boolean {
  return m.len >= ECHO_MIN_CHARS && state.replies.some((r) => same(m, r));
}

/** Exchanges kept per session: enough to see `threshold` rounds of the longest cycle. */
export function windowFor(threshold: number): number {
  return Math.min(64, Math.max(8, threshold * MAX_PERIOD + 1));
}

/**
 * Would the call for `message` continue a loop of `threshold` exchanges (or rounds)?
 * null when it would not, or when threshold is 0 (off).
 */
export function judge(state: LoopState, session: string, message: string, threshold: number): LoopVerdict | null {
  if (threshold <= 0) return null;
  // One exchange cannot repeat itself: 1 means the same as 2 (the message right after, again).
  threshold = Math.max(2, threshold);
  const hist = state.sessions[session] ?? [];
  const m = print(message);

  // echo: this message and the threshold-1 before it were all chat-Claude's own replies.
  if (isEcho(state, m)) {
    let run = 0;
    for (let i = hist.length - 1; i >= 0 && hist[i].e; i--) run++;
    if (run + 1 >= threshold) return { kind: 'echo', count: run + 1, period: 1 };
  }

  for (let p = 1; p <= MAX_PERIOD; p++) {
    // The recorded block that repeats with period p, ending at the latest exchange.
    if (hist.length < p) break;
    let run = 0;
    for (let i = hist.length - 1; i - p >= 0 && exchangeSame(hist[i], hist[i - p]); i--) run++;
    const block = run + p;
    // threshold-1 full rounds already made, and the new message starts another.
    if (block >= (threshold - 1) * p && same(m, { h: hist[hist.length - p].m, w: hist[hist.length - p].mw })) {
      // A longer period that is really a repeat of period 1 is reported as the repeat.
      if (p > 1 && exchangeSame(hist[hist.length - 1], hist[hist.length - 2])) continue;
      return p === 1 ? { kind: 'repeat', count: block + 1, period: 1 } : { kind: 'cycle', count: threshold, period: p };
    }
  }
  return null;
}

/** After a billed turn: remember its exchange. */
export function record(state: LoopState, session: string, message: string, reply: string, threshold: number): void {
  const m = print(message);
  const r = print(reply);
  const hist = state.sessions[session] ?? [];
  hist.push({ m: m.h, mw: m.w, r: r.h, rw: r.w, e: isEcho(state, m) });
  state.sessions[session] = hist.slice(-windowFor(threshold));
  state.replies.push({ h: r.h, w: r.w });
  if (state.replies.length > REPLIES_KEPT) state.replies = state.replies.slice(-REPLIES_KEPT);
}

/** The operator spoke to (or for) the session: its run starts again. */
export function forget(state: LoopState, session: string | null): void {
  if (session) delete state.sessions[session];
  else state.sessions = {};
}
