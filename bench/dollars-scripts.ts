// The scripted traffic the dollar bench bills: what each session says, what chat-Claude
// answers and when, on a simulated clock. Seeded, so every run bills the same traffic.
import { DEFAULT_SYSTEM_PROMPT } from '../src/config/schema.js';
import { prose, rng } from './util.js';

export interface ScriptTurn {
  session: string;
  content: string;
  reply: string;
  /** Simulated time since the previous turn. */
  gapMs: number;
}

export interface Script {
  name: 'dense' | 'sparse';
  sessions: string[];
  systemPrompt: string;
  summaryText: string;
  turns: ScriptTurn[];
  /** One line for BENCHMARKS.md: how the traffic was drawn. */
  description: string;
}

const MIN = 60_000;

function systemPromptOf(r: () => number): string {
  // ~3,000 tokens under the fake's tokenizer (4 characters a token).
  return `${DEFAULT_SYSTEM_PROMPT}\n\nStanding project context:\n${prose(r, 12_000 - DEFAULT_SYSTEM_PROMPT.length - 30)}`;
}

/** Standard normal from two uniforms (Box-Muller), for the log-normal gaps. */
function normal(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/**
 * Today's script, unchanged: 3 sessions reporting 20-90 s apart, with a gap of 5.5-10
 * minutes (past the 5-minute lifetime) every 40 turns.
 */
export function denseScript(turns: number): Script {
  const r = rng(2026);
  const sessions = ['api', 'ui', 'infra'];
  const systemPrompt = systemPromptOf(r);
  const list = Array.from({ length: turns }, (_, i) => {
    const longGap = i > 0 && i % 40 === 25;
    return {
      session: sessions[Math.floor(r() * sessions.length)],
      content: prose(r, 4 * (200 + Math.floor(r() * 1300))),
      reply: prose(r, 4 * (100 + Math.floor(r() * 500))),
      gapMs: i === 0 ? 0 : longGap ? (330 + Math.floor(r() * 300)) * 1000 : (20 + Math.floor(r() * 70)) * 1000,
    };
  });
  const longGaps = list.filter((t) => t.gapMs > 5 * MIN).length;
  return {
    name: 'dense',
    sessions,
    systemPrompt,
    summaryText: prose(r, 4 * 1000),
    turns: list,
    description: `${turns} turns, 3 sessions, 20-90 s apart with ${longGaps} gaps of 5.5-10 minutes`,
  };
}

/**
 * A supervisor's sparse day: 4 sessions that report when they finish a step, so the
 * gaps between turns are log-normal (median 3 minutes, σ 1.4: about a third between 5
 * minutes and an hour, a few past an hour), capped at 4 hours.
 */
export function sparseScript(turns: number): Script {
  const r = rng(7);
  const sessions = ['api', 'ui', 'infra', 'docs'];
  const systemPrompt = systemPromptOf(r);
  const list = Array.from({ length: turns }, (_, i) => ({
    session: sessions[Math.floor(r() * sessions.length)],
    content: prose(r, 4 * (200 + Math.floor(r() * 1300))),
    reply: prose(r, 4 * (100 + Math.floor(r() * 500))),
    gapMs: i === 0 ? 0 : Math.round(Math.min(4 * 60 * MIN, 3 * MIN * Math.exp(1.4 * normal(r)))),
  }));
  const g = list
    .slice(1)
    .map((t) => t.gapMs)
    .sort((a, b) => a - b);
  const share = (lo: number, hi: number) => g.filter((x) => x >= lo && x < hi).length;
  const median = g[g.length >> 1] / MIN;
  return {
    name: 'sparse',
    sessions,
    systemPrompt,
    summaryText: prose(r, 4 * 1000),
    turns: list,
    description: `${turns} turns, 4 sessions, log-normal gaps (median ${median.toFixed(1)} min; ${share(0, 5 * MIN)} under 5 min, ${share(5 * MIN, 60 * MIN)} from 5 min to 1 h, ${share(60 * MIN, Infinity)} past 1 h, the longest ${(g[g.length - 1] / MIN).toFixed(0)} min)`,
  };
}
