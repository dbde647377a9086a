import type { Config } from '../../config/schema.js';
import { heldList, type Control } from '../operator/control.js';
import { waitingItems } from '../operator/targets.js';
import type { Conversation } from '../journals/conversation.js';
import type { Dispatcher } from '../mailboxes/dispatch.js';
import type { Guard } from '../limits/guard.js';
import type { Intake } from '../mailboxes/intake.js';
import { localDay, type Ledger } from '../journals/ledger.js';
import type { ConversationNote } from '../journals/notes.js';
import { NEEDS_JC } from '../../protocol/needs-jc.js';
import type { RelayState, SessionStatus, Status } from '../../protocol/status.js';

import type { ChatIdentity } from '../kernel/ports.js';
import type { TailEntry } from './tail-entry.js';

/** What views read: status.json's content plus what only a live view needs. */
export interface RelaySnapshot {
  status: Status;
  tail: TailEntry[];
  /** What reached a session besides the turns (operator dispatches, held-reply outcomes), newest last. */
  notes: ConversationNote[];
  /** The reply as it streams in (last few KB), empty when no call is in flight. */
  streaming: string;
  topic: string | null;
}

export interface StatusInputs {
  state: RelayState;
  control: Control;
  config: Config;
  startedAt: number;
  now: number;
  intake: Intake;
  dispatcher: Dispatcher;
  ledger: Ledger;
  guard: Guard;
  activity: Map<string, number>;
  /** Per session: the machine it last reported from, when remote. */
  hosts: Map<string, string>;
  lastTurnTruncated: boolean;
  conversation: Conversation;
  inflight: Status['inflight'];
  retry: Status['retry'];
  lastError: string | null;
  lastTurnCost: number | null;
  lastDispatch: { at: number; session: string } | null;
  topic: string | null;
  chat: ChatIdentity;
}

/** What the totals count at a projected cost because a crash or a stop cut the call short. */
function cutShort(ledger: Ledger): Status['cut_short'] {
  const all = ledger.unsettled;
  if (!all.length) return null;
  return { calls: all.length, usd: all.reduce((n, r) => n + r.projected_usd, 0), crashed_calls: ledger.crashed.length };
}

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

export function buildStatus(i: StatusInputs): Status {
  const day = localDay(i.now);
  const registered = new Map(i.config.sessions.map((s) => [s.id, s.description ?? null]));
  const ids = new Set<string>([...registered.keys(), ...i.dispatcher.sessions(), ...i.intake.sessions()]);
  ids.delete('relay');
  const sessions: Record<string, SessionStatus> = {};
  const cut = i.ledger.unsettledBySession();
  for (const id of ids) {
    const total = i.ledger.session(id);
    const awaiting = i.dispatcher.awaitingSince(id);
    const sp = i.control.session_pauses[id];
    sessions[id] = {
      registered: registered.has(id),
      description: registered.get(id) ?? null,
      pending: i.dispatcher.pending(id),
      awaiting_ack: awaiting !== null,
      awaiting_ack_since: iso(awaiting),
      turns: total.turns,
      cost_usd: total.costUsd,
      today_cost_usd: i.ledger.sessionDay(id, day).costUsd,
      last_activity_at: iso(i.activity.get(id)),
      paused_reason: sp?.reason ?? null,
      paused_message: sp?.message ?? null,
      auto_turns: i.control.guard.auto_turns[id] ?? 0,
      hook_chain: i.control.hook_chain[id] ?? 0,
      queued: i.intake.countFor(id),
      ...(i.hosts.has(id) ? { host: i.hosts.get(id) } : {}),
      ...sessionState(i.control, id),
      decision_seq: i.control.decision_seq[id] ?? 0,
      superseded_through: i.control.superseded_through[id] ?? null,
      ...(cut.has(id) ? { cut_short_usd: cut.get(id)!.usd } : {}),
    };
  }
  const held = heldList(i.control)[0];
  const pause = i.control.paused;
  return {
    state: i.state,
    pause_reason: held?.reason ?? pause?.reason ?? null,
    pause_message: held
      ? `${held.reason === 'needs_jc' ? `${NEEDS_JC} from` : 'awaiting approval for'} ${held.session}`
      : (pause?.message ?? null),
    started_at: new Date(i.startedAt).toISOString(),
    updated_at: new Date(i.now).toISOString(),
    model: i.config.model,
    price_entry: i.ledger.lastPriceEntry,
    approval: i.config.approval,
    queue_depth: i.intake.depth,
    queue_oldest_at: iso(i.intake.oldestMtime()),
    rejected_count: i.intake.rejectedCount,
    last_rejection: i.intake.lastRejection,
    sessions,
    last_dispatch_at: iso(i.lastDispatch?.at),
    last_dispatch_session: i.lastDispatch?.session ?? null,
    last_needs_jc_text: i.control.last_needs_jc_text,
    waiting: waitingItems(i.control),
    held: held ? { turn: held.seq, session: held.session, text: held.text, reason: held.reason, at: held.at, code: held.code } : null,
    inflight: i.inflight,
    retry: i.retry,
    last_error: i.lastError,
    history_turns: i.conversation.turnCount,
    history_tokens: i.conversation.historyTokens,
    summaries: i.conversation.summaryRecord ? 1 : 0,
    total_input_tokens: i.ledger.total.input,
    total_output_tokens: i.ledger.total.output,
    total_cache_read_tokens: i.ledger.total.cacheRead,
    total_cache_write_tokens: i.ledger.total.cacheWrite,
    total_cost_usd: i.ledger.total.costUsd,
    today_cost_usd: i.ledger.day(day).costUsd,
    last_turn_cost_usd: i.lastTurnCost,
    last_turn_truncated: i.lastTurnTruncated,
    budget_usd_per_day: i.guard.dayBudget(),
    cut_short: cutShort(i.ledger),
    ntfy_topic: i.topic,
    pid: process.pid,
    pause_until: pause?.until ?? null,
    backend: i.chat.backend,
    account: i.chat.account,
    cost_notional: i.chat.notional,
  };
}

/** A held reply first (an asking session takes nothing else), then its pause. */
function sessionState(c: Control, id: string): Pick<SessionStatus, 'state' | 'state_reason'> {
  const h = c.held[id];
  if (h) return { state: h.reason === 'needs_jc' ? 'asking' : 'awaiting_approval', state_reason: h.reason };
  const sp = c.session_pauses[id];
  if (sp) return { state: 'paused', state_reason: sp.reason };
  return { state: 'flowing', state_reason: null };
}
