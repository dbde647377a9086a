import type { Dispatcher } from './mailboxes/dispatch.js';
import type { HookNoticeReader } from '../protocol/hook-notices.js';
import type { Intake } from './mailboxes/intake.js';
import type { OperatorInput } from './operator/input.js';
import type { Pauses } from './operator/pauses.js';
import type { Pings } from './operator/pings.js';
import type { Clock } from './kernel/ports.js';
import type { Store } from './view/publisher.js';
import type { ViewState } from './view/view-state.js';
import { heldList } from './operator/control.js';
import { pruneVerdicts } from './operator/verdicts.js';

/** The slow safety net for missed watcher events, the stuck-queue ping, and the date rolling over. */

const STUCK_MS = 10 * 60_000;

export interface HousekeepingParts {
  now: Clock;
  intake: Intake;
  dispatcher: Dispatcher;
  operator: OperatorInput;
  hookNotices: HookNoticeReader;
  pauses: Pauses;
  pings: Pings;
  view: ViewState;
  store: Store;
  kick: () => void;
  /** state/operator-results/: verdicts older than 10 minutes go (verdicts.ts). */
  resultsDir?: string;
}

export function housekeeping(p: HousekeepingParts): void {
  p.operator.hookNotices(p.hookNotices.readNew());
  if (p.resultsDir) pruneVerdicts(p.resultsDir, p.now());
  p.intake.rescan();
  p.operator.drain();
  p.dispatcher.pumpAll();
  const c = p.pauses.control;
  const depth = p.intake.depth;
  const now = p.now();
  if (depth > 0 && now - p.view.lastProgressAt >= STUCK_MS && now - (c.last_stuck_ping_at ?? 0) >= STUCK_MS) {
    c.last_stuck_ping_at = now;
    p.pauses.trySave();
    const state = p.pauses.state();
    const why =
      state === 'running'
        ? Object.keys(c.session_pauses).length
          ? 'sessions paused'
          : 'busy'
        : `${state}: ${
            c.paused?.message ??
            heldList(c)
              .map((h) => h.session)
              .join(', ')
          }`;
    p.pings.notify({
      title: 'relay-tui: queue stuck',
      message: `${depth} envelope(s) waiting for ${Math.round((now - p.view.lastProgressAt) / 60_000)} min (${why})`,
      priority: 5,
      tags: ['hourglass'],
    });
  }
  p.store.changed();
  p.kick();
}
