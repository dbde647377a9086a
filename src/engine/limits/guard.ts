import type { Config } from '../../config/schema.js';
import { localDay, type Ledger } from '../journals/ledger.js';
import { emptyLoopState, forget, judge, record, type LoopState, type LoopVerdict } from './loop-detector.js';
import type { GuardReason } from '../../protocol/status.js';

/**
 * Guardrails: every limit is checked BEFORE the API call that would cross it, from
 * the durable ledger and a projection of the call's cost. A limit that concerns one
 * session pauses only that session. The guard decides; the relay pauses, pings and
 * audits. Its own counters are persisted by the relay (state/control.json).
 */

export type Guardrails = Config['guardrails'];

export interface Trip {
  reason: GuardReason;
  /** 'relay' stops everything; 'session' holds that session's envelopes while others flow. */
  scope: 'relay' | 'session';
  session: string;
  message: string;
}

export interface Warning {
  key: string;
  message: string;
}

export interface GuardState {
  /** Consecutive automatic turns per session since the operator last spoke to it. */
  auto_turns: Record<string, number>;
  /** Extra automatic turns granted by /allow, per session. */
  allowance: Record<string, number>;
  /** /budget N, good for the day it was given. */
  budget_override: { day: string; usd: number } | null;
  /** Budgets already warned about, per day. */
  warned: { day: string; keys: string[] };
  /** The loop detector's fingerprints of recent exchanges (loop-detector.ts). */
  loops: LoopState;
  /** Limits the operator chose to pass once with /resume. */
  pass_once: string[];
}

export function emptyGuardState(): GuardState {
  return { auto_turns: {}, allowance: {}, budget_override: null, warned: { day: '', keys: [] }, loops: emptyLoopState(), pass_once: [] };
}

function loopMessage(session: string, v: LoopVerdict): string {
  const what =
    v.kind === 'echo'
      ? `${session} has sent chat-Claude's own replies back ${v.count} times in a row (an echo between sessions?)`
      : v.kind === 'cycle'
        ? `${session} is going round the same ${v.period} exchanges, message and reply alike, for the ${v.count}th time`
        : `${session} sent the same message and got the same reply ${v.count - 1} times in a row, and is sending it again`;
  return `${what}: a loop? /resume lets it through once; @${session}: text redirects it.`;
}

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
const HOUR = 3_600_000;

export class Guard {
  private recent = new Map<string, number[]>();

  constructor(
    private limits: () => Guardrails,
    private readonly ledger: Ledger,
    readonly state: GuardState,
    private readonly now: () => number,
    recentTurns: Array<{ session: string; at: number }> = [],
  ) {
    for (const t of recentTurns) this.noteTurnTime(t.session, t.at);
    // State saved by a version that counted normalised repeats: its counts mean nothing to the detector.
    delete (state as { repeats?: unknown }).repeats;
    if (!state.loops?.sessions || !Array.isArray(state.loops.replies)) state.loops = emptyLoopState();
  }

  today(): string {
    return localDay(this.now());
  }

  dayBudget(): number {
    const o = this.state.budget_override;
    return o && o.day === this.today() ? o.usd : this.limits().budget_usd_per_day;
  }

  private noteTurnTime(session: string, at: number): void {
    const list = this.recent.get(session) ?? [];
    list.push(at);
    this.recent.set(session, list);
  }

  turnsLastHour(session: string): number {
    const cutoff = this.now() - HOUR;
    const list = (this.recent.get(session) ?? []).filter((t) => t > cutoff);
    this.recent.set(session, list);
    return list.length;
  }

  /** Passes a check() relies on; spent only if the call goes ahead (a later limit may still stop it). */
  private passing: string[] = [];

  private passOnce(key: string): boolean {
    if (!this.state.pass_once.includes(key)) return false;
    this.passing.push(key);
    return true;
  }

  private spendPasses(): null {
    for (const k of this.passing) {
      const i = this.state.pass_once.indexOf(k);
      if (i >= 0) this.state.pass_once.splice(i, 1);
    }
    this.passing = [];
    return null;
  }

  /**
   * May this call go ahead? `automatic` is false for a turn the operator started:
   * those skip the loop, auto-turn and rate limits (a human is in the loop) but
   * never the money limits.
   */
  check(call: { session: string; projectedUsd: number; automatic: boolean; text: string }): Trip | null {
    const g = this.limits();
    const day = this.today();
    const { session, projectedUsd } = call;
    this.passing = [];

    const spentDay = this.ledger.day(day).costUsd;
    const budget = this.dayBudget();
    if (spentDay + projectedUsd > budget && !this.passOnce('budget_day')) {
      return {
        reason: 'budget_day',
        scope: 'relay',
        session,
        message: `daily budget: spent ${usd(spentDay)} of ${usd(budget)} today; the next turn (${session}) could cost up to ${usd(projectedUsd)}. /budget N raises today's budget, /resume allows one turn.`,
      };
    }
    const spentSession = this.ledger.sessionDay(session, day).costUsd;
    if (spentSession + projectedUsd > g.budget_usd_per_session_per_day && !this.passOnce(`budget_session:${session}`)) {
      return {
        reason: 'budget_session',
        scope: 'session',
        session,
        message: `${session} spent ${usd(spentSession)} of its ${usd(g.budget_usd_per_session_per_day)} daily budget; the next turn could cost up to ${usd(projectedUsd)}. /resume allows one turn.`,
      };
    }
    if (projectedUsd > g.max_turn_cost_usd && !this.passOnce('turn_cost')) {
      return {
        reason: 'turn_cost',
        scope: 'relay',
        session,
        message: `the next turn (${session}) could cost up to ${usd(projectedUsd)}, over max_turn_cost_usd ${usd(g.max_turn_cost_usd)} (the conversation is large). /resume allows it once.`,
      };
    }
    if (!call.automatic) return this.spendPasses();

    const auto = this.state.auto_turns[session] ?? 0;
    const allowed = g.max_auto_turns + (this.state.allowance[session] ?? 0);
    if (g.max_auto_turns > 0 && auto >= allowed && !this.passOnce(`auto_turns:${session}`)) {
      return {
        reason: 'auto_turns',
        scope: 'session',
        session,
        message: `${session} has had ${auto} automatic turns in a row with no operator input (limit ${allowed}). /allow ${session} N grants N more, /resume one more.`,
      };
    }
    const lastHour = this.turnsLastHour(session);
    if (g.max_turns_per_hour > 0 && lastHour >= g.max_turns_per_hour && !this.passOnce(`rate:${session}`)) {
      return {
        reason: 'rate',
        scope: 'session',
        session,
        message: `${session} made ${lastHour} turns in the last hour (limit ${g.max_turns_per_hour}). /resume allows one more.`,
      };
    }
    const verdict = judge(this.state.loops, session, call.text, g.repeat_threshold);
    if (verdict && !this.passOnce(`loop:${session}`)) {
      return { reason: 'loop', scope: 'session', session, message: loopMessage(session, verdict) };
    }
    return this.spendPasses();
  }

  /** After a billed turn. Returns budget warnings to ping (each once per budget per day). */
  recordTurn(t: { session: string; automatic: boolean; text: string; reply: string }): Warning[] {
    this.noteTurnTime(t.session, this.now());
    if (t.automatic) this.state.auto_turns[t.session] = (this.state.auto_turns[t.session] ?? 0) + 1;
    if (t.automatic) record(this.state.loops, t.session, t.text, t.reply, this.limits().repeat_threshold);
    // An operator turn for the session breaks any run: the next automatic exchange starts afresh.
    else forget(this.state.loops, t.session);
    return this.warnings(t.session);
  }

  /** Budget warnings also follow summarization spend. */
  warnings(session?: string): Warning[] {
    const g = this.limits();
    const day = this.today();
    if (this.state.warned.day !== day) this.state.warned = { day, keys: [] };
    const out: Warning[] = [];
    const warn = (key: string, spent: number, budget: number, what: string) => {
      if (budget <= 0 || spent < g.warn_at_fraction * budget || this.state.warned.keys.includes(key)) return;
      this.state.warned.keys.push(key);
      out.push({ key, message: `${what}: ${usd(spent)} of ${usd(budget)} spent (${Math.round((spent / budget) * 100)}%)` });
    };
    warn('day', this.ledger.day(day).costUsd, this.dayBudget(), 'daily budget');
    if (session)
      warn(
        `session:${session}`,
        this.ledger.sessionDay(session, day).costUsd,
        g.budget_usd_per_session_per_day,
        `${session}'s daily budget`,
      );
    return out;
  }

  /** The operator spoke to (or for) this session: its automatic run starts again. */
  operatorInput(session: string | null): void {
    const reset = (s: string) => {
      delete this.state.auto_turns[s];
      delete this.state.allowance[s];
      forget(this.state.loops, s);
    };
    if (session) reset(session);
    else {
      for (const s of Object.keys(this.state.auto_turns)) reset(s);
      forget(this.state.loops, null);
    }
  }

  allow(session: string, turns: number): void {
    this.state.allowance[session] = (this.state.allowance[session] ?? 0) + turns;
  }

  setDayBudget(value: number): void {
    this.state.budget_override = { day: this.today(), usd: value };
  }

  /** /resume on a guardrail pause: that one limit lets one more call through. */
  passOnceFor(trip: { reason: string; session: string; scope: 'relay' | 'session' }): void {
    const key = trip.scope === 'relay' ? trip.reason : `${trip.reason}:${trip.session}`;
    if (!this.state.pass_once.includes(key)) this.state.pass_once.push(key);
  }
}
