import type { AuditEntry } from '../journals/audit.js';
import type { Dispatcher } from '../mailboxes/dispatch.js';
import type { Intake } from '../mailboxes/intake.js';
import type { InboxItem } from '../mailboxes/inbox.js';
import { setAsideBy, type SetAsideReason } from '../mailboxes/set-aside.js';
import { isoNow, type Clock } from '../kernel/ports.js';
import type { Guard } from '../limits/guard.js';
import type { Pauses } from './pauses.js';

/**
 * `@session: text` supersedes what waited for that session. Its durable steps, in this
 * order (each tested by a kill -9 after it, test/supersede.test.ts):
 *
 *   1. envelopes   the session's envelopes waiting in queue/ behind its hold or pause move
 *                  to queue/.superseded/, each reason (naming the input) written before
 *                  the move. From here on they are never sent.
 *   2. replies     replies still waiting in its outbox move to state/outbox/.superseded/.
 *   3. control     control.json: its held reply dropped, its pause lifted, decision_seq
 *                  and superseded_through moved on, its leash and hook chain restarted.
 *   4. outbox      the operator's text in the session's outbox (id op-<input>: once).
 *   5. recorded    the audit lines (input.ts), then the inbox file is removed.
 *   6. delivery    the outbox file renamed onto input.txt (the dispatcher's pump).
 *
 * The inbox file stays until step 5, so a crash anywhere before it applies the input
 * again at the next start: what steps 1-2 already moved is found again by its reason
 * file (setAsideBy) and recorded then; nothing moved is ever sent, and the op- id makes
 * step 4 happen once.
 */

export const SUPERSEDE_STEPS = ['envelopes', 'replies', 'control', 'outbox'] as const;
export type SupersedeStep = (typeof SUPERSEDE_STEPS)[number];

export interface SupersedeParts {
  pauses: Pauses;
  intake: Intake;
  dispatcher: Dispatcher;
  guard: Guard;
  now: Clock;
  audit: (e: AuditEntry) => void;
  /** Envelopes a recorded turn still owns (commit.ts finishes them): never moved here. */
  ownedEnvelopes?: () => Set<string>;
  /** Called after each step: fault injection in the crash tests. */
  afterSupersedeStep?: (step: number, name: SupersedeStep) => void;
}

export interface Superseded {
  /** What was set aside, by this application and by an earlier one a crash cut short. */
  items: SetAsideReason[];
  /** What else changed, in words. */
  cleared: string[];
}

export function supersede(o: SupersedeParts, session: string, text: string, item: InboxItem): Superseded {
  const { pauses, intake, dispatcher, guard } = o;
  const c = pauses.control;
  const why = { input_id: item.id, at: isoNow(o.now) };
  const step = (n: number) => o.afterSupersedeStep?.(n, SUPERSEDE_STEPS[n - 1]);
  // Only what waits behind the session's own hold or pause is replaced; a flowing session's next envelope is news.
  const held = c.held[session];
  const behind = pauses.sessionHeld(session) || pauses.holdsAll();
  const moved = behind ? intake.supersede(session, why, o.ownedEnvelopes?.() ?? new Set()) : [];
  step(1);
  const replies = dispatcher.supersede(session, `op-${item.id}`, why);
  step(2);
  const seen = new Set([...moved, ...replies].map((r) => `${r.kind}:${r.name}`));
  const earlier = [...setAsideBy(intake.supersededDir, item.id), ...setAsideBy(dispatcher.supersededDir, item.id)].filter(
    (r) => r.session === session && !seen.has(`${r.kind}:${r.name}`),
  );
  const items = [...earlier, ...moved, ...replies];

  const cleared: string[] = [];
  guard.operatorInput(session);
  delete c.hook_chain[session];
  pauses.decided(session);
  const through = Math.max(held?.seq ?? 0, ...items.map((r) => r.seq ?? 0));
  if (through > 0) c.superseded_through[session] = Math.max(c.superseded_through[session] ?? 0, through);
  if (held) {
    pauses.resolveHeld(session, 'dropped', item.source, `superseded by @${session}`);
    cleared.push(`held reply for ${session} set aside`);
  }
  if (pauses.clearSessionPause(session, item.source)) cleared.push(`${session} resumed`);
  // A usage limit is the account's, not this session's: a direct text does not end it (no call is made, nothing is gained).
  if (c.paused && c.paused.reason !== 'error' && c.paused.reason !== 'usage_limit' && !pauses.holdsAll()) {
    cleared.push(`relay resumed (was ${c.paused.reason})`);
    pauses.setPause(null, item.source);
  }
  pauses.save();
  step(3);
  dispatcher.enqueue(session, text, `op-${item.id}`);
  step(4);
  for (const r of items)
    o.audit({
      at: isoNow(o.now),
      source: item.source,
      action: 'superseded',
      text: r.text,
      detail: `${session} ${r.kind} ${r.name}${r.seq !== null ? ` turn ${r.seq}` : ''}: superseded by the operator's message`,
      input_id: item.id,
    });
  const envelopes = items.filter((r) => r.kind === 'envelope').length;
  const outbox = items.length - envelopes;
  if (envelopes) cleared.push(`${envelopes} waiting envelope(s) set aside, not sent`);
  if (outbox) cleared.push(`${outbox} undelivered repl${outbox === 1 ? 'y' : 'ies'} set aside`);
  return { items, cleared };
}
