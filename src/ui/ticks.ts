/**
 * When the screen's time-derived figures next change. A frame redraws the whole screen
 * (Ink has no partial redraw), so the clock ticks only when some figure on screen will
 * read differently: every second while a call is in flight or a figure shows seconds,
 * once a minute (per timestamp) when everything shown is minutes old. An idle TUI
 * holding a question for an hour draws a few frames a minute, and no figure is stale.
 *
 * Each figure's granularity follows its formatter in format.ts (age, duration) and
 * uptime() below; a formatter that changes must change here too (ticks.test.ts checks
 * the pairs against each other).
 */
import type { Status } from '../protocol/status.js';
import { duration } from './format.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/** ms until a figure with this granularity, counting from `elapsed` ms, reads differently. */
const untilStep = (elapsed: number, step: number): number => step - (((elapsed % step) + step) % step);

/** age(): 7s, 14m, 3h, 2d. */
export function ageStepMs(elapsed: number): number {
  if (elapsed < 0) return -elapsed;
  return untilStep(elapsed, elapsed < M ? S : elapsed < H ? M : elapsed < D ? H : D);
}

/** duration(): 7s, 2m14s, 1h02m, 3d04h. */
export function durationStepMs(elapsed: number): number {
  if (elapsed < 0) return -elapsed;
  return untilStep(elapsed, elapsed < H ? S : elapsed < D ? M : H);
}

/**
 * Uptime, one format whatever the relay is doing: whole minutes ("<1m" in the first),
 * then hours and minutes, then days and hours. Never seconds: they would need a frame
 * a second for a figure nobody reads to the second.
 */
export function uptime(ms: number): string {
  if (ms < M) return '<1m';
  if (ms < H) return `${Math.floor(ms / M)}m`;
  return duration(ms);
}

export function uptimeStepMs(elapsed: number): number {
  if (elapsed < 0) return -elapsed;
  return untilStep(elapsed, elapsed < D ? M : H);
}

/** A countdown shown with duration() (whole seconds, rounded down): it changes just past each whole second, and stops at 0s. */
export function countdownStepMs(left: number): number {
  if (left < S) return Infinity;
  return (left % S) + 1;
}

/**
 * ms from `now` until the next figure on screen changes (Infinity: none will). Counts
 * every timestamp a pane may show, whether or not it fits this frame: a spare tick is
 * cheap, a stale figure is a bug.
 */
export function nextChangeMs(s: Status, now: number): number {
  let next = Infinity;
  const add = (iso: string | null | undefined, step: (elapsed: number) => number) => {
    if (!iso) return;
    const t = Date.parse(iso);
    if (Number.isFinite(t)) next = Math.min(next, step(now - t));
  };
  add(s.started_at, uptimeStepMs); // the header's uptime
  add(s.last_dispatch_at, ageStepMs); // the header's idle line
  add(s.queue_oldest_at, ageStepMs); // the queue pane
  for (const w of s.waiting ?? []) add(w.since, ageStepMs); // the inbox's ages
  if (s.inflight) add(s.inflight.started_at, durationStepMs); // the header's call line
  if (s.retry) {
    const t = Date.parse(s.retry.next_at);
    if (Number.isFinite(t)) next = Math.min(next, countdownStepMs(t - now));
  }
  for (const x of Object.values(s.sessions)) {
    add(x.last_activity_at, ageStepMs);
    add(x.awaiting_ack_since, ageStepMs);
  }
  return Math.max(1, next);
}
