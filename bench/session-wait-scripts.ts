// The traffic of the session-wait bench: N sessions that finish their steps in bursts, several
// within one call of chat-Claude, then go back to work. Seeded, so every run offers the same.
import { prose, rng } from './util.js';

export interface BurstTurn {
  session: string;
  /** When the session's Stop hook fires, after the round starts (unscaled ms). */
  offsetMs: number;
  content: string;
  reply: string;
}

export interface BurstRound {
  /** Simulated time from the end of the previous round to this one's start (the sessions at work). */
  gapMs: number;
  turns: BurstTurn[];
}

export interface BurstScript {
  name: string;
  sessions: string[];
  rounds: BurstRound[];
  /** Unscaled width of a burst: every session of a round finishes within it. */
  windowMs: number;
  description: string;
}

const MIN = 60_000;

/** Sessions and rounds of the bench's session-wait scripts, and the time scale of their real-clock runs (~100 s in all). */
export const WAIT_SCRIPTS: Array<[number, number]> = [
  [1, 10],
  [4, 6],
  [8, 5],
];
export const WAIT_SCALE = 0.1;
/** The bursty script the parallel-calls alternative runs (bench/parallel-calls.ts): the 8 sessions'. */
export const PARALLEL_SCRIPT: [number, number] = [8, 5];
/**
 * One Opus call for the median review here (~350 output tokens): 2.7 s to the first token
 * + 350 / 45 tokens/s ≈ 10.5 s (fake-api-latency.ts). The bursts finish within it.
 */
export const BURST_WINDOW_MS = 10_000;

function normal(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/**
 * `sessions` sessions, `rounds` rounds: in each, every session finishes a step at a uniform
 * time within one call window (so they queue behind each other when calls are serial), then
 * works on: the next round starts a log-normal time later (median 3 minutes, σ 1, at most an
 * hour), as the sparse day script's gaps. Messages 200-1,500 tokens, replies 100-600, as the
 * dollar scripts'.
 */
export function burstScript(sessions: number, rounds: number, seed = 24): BurstScript {
  const r = rng(seed + sessions);
  const ids = Array.from({ length: sessions }, (_, i) => `s${i + 1}`);
  const list: BurstRound[] = Array.from({ length: rounds }, (_, k) => ({
    gapMs: k === 0 ? 0 : Math.round(Math.min(60 * MIN, 3 * MIN * Math.exp(normal(r)))),
    turns: ids
      .map((session) => ({
        session,
        offsetMs: sessions === 1 ? 0 : Math.floor(r() * BURST_WINDOW_MS),
        content: prose(r, 4 * (200 + Math.floor(r() * 1300))),
        reply: prose(r, 4 * (100 + Math.floor(r() * 500))),
      }))
      .sort((a, b) => a.offsetMs - b.offsetMs),
  }));
  return {
    name: `${sessions} session${sessions === 1 ? '' : 's'}`,
    sessions: ids,
    rounds: list,
    windowMs: BURST_WINDOW_MS,
    description: `${sessions} session(s) × ${rounds} rounds, every session finishing within ${BURST_WINDOW_MS / 1000} s of the round's start, rounds a log-normal 3 min (median) apart`,
  };
}
