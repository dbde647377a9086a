import { renderEvidence, summarizeEvidence } from '../../protocol/evidence.js';
import { labelFor } from '../journals/conversation.js';
import type { Dispatcher } from '../mailboxes/dispatch.js';
import type { Intake } from '../mailboxes/intake.js';
import type { OperatorInput } from '../operator/input.js';
import type { Pauses } from '../operator/pauses.js';
import type { Committer } from './commit.js';
import type { Batcher } from './batch.js';
import type { BatchInput, TurnInput } from './turn-input.js';

/**
 * The one question the loop asks: what next? In order: finish a recorded turn a thrown
 * step left pending, then the operator's oldest answer, then the oldest envelope whose
 * session may go (not asking, not awaiting approval, not paused; with one from each other
 * session that may, batched). null: nothing may go now (the loop waits for the next kick).
 */

export interface NextTurnParts {
  committer: Committer;
  pauses: Pauses;
  operator: OperatorInput;
  intake: Intake;
  dispatcher: Dispatcher;
  batcher?: Batcher;
}

export class NextTurn {
  constructor(private readonly p: NextTurnParts) {}

  next(): TurnInput | BatchInput | null {
    const { committer, pauses, operator } = this.p;
    const sp = pauses.control.session_pauses;
    const erred = () => pauses.control.paused?.reason === 'error';
    committer.finishPending((route) => !sp[route] && !erred());
    if (committer.unfinished && (erred() || committer.blocksAll())) return null;
    const busy = committer.pendingRoutes();
    const op = operator.turns[0];
    if (op && !operator.blocked(op.route) && !busy.has(op.route)) {
      const user = `${labelFor('operator', { registered: true, re: op.route })}\n${op.text}`;
      return { session: 'operator', route: op.route, source: 'operator', user, automatic: false, inputId: op.inputId, guardText: op.text };
    }
    // A held reply or a pause of one session holds that session only (on_question: hold_all, the relay).
    if (pauses.relayStopped()) return null;
    const may = (s: string) => !pauses.sessionHeld(s) && !busy.has(s);
    const first = this.envelopeTurn(may);
    // Other sessions waiting too: one call for all (batch.ts).
    return first && this.p.batcher ? this.p.batcher.gather(first, (taken) => this.envelopeTurn((s) => may(s) && !taken.has(s))) : first;
  }

  /** The oldest envelope whose session `may` go, as a turn. */
  private envelopeTurn(may: (session: string) => boolean): TurnInput | null {
    const { operator, intake } = this.p;
    for (;;) {
      const e = intake.next(may);
      if (!e) return null;
      const loaded = intake.load(e);
      if (!loaded) continue;
      const { envelope, key } = loaded;
      const session = envelope.session_id;
      this.p.dispatcher.ensure(session);
      const label = labelFor(session, { registered: operator.isRegistered(session), timestamp: envelope.timestamp });
      // The evidence goes beside the message, in its fixed labelled form; the loop guard
      // still compares only what the session said (guardText).
      const ev = envelope.evidence;
      const user = `${label}\n${envelope.content}${ev ? `\n\n${renderEvidence(ev)}` : ''}`;
      return {
        session,
        route: session,
        source: envelope.source === 'hook' ? 'hook' : 'envelope',
        user,
        automatic: true,
        envelope: { file: e.name, key },
        guardText: envelope.content,
        ...(envelope.host ? { host: envelope.host } : {}),
        ...(ev ? { evidence: summarizeEvidence(ev) } : {}),
      };
    }
  }
}
