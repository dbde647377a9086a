// `node .bench/bench/evidence-cost.js`: what the Stop hook's evidence digest (issue 27) adds to
// a supervised day. The sparse 24-hour script (bench/day.ts) twice on the simulated clock, once
// as sessions send it today and once with a typical digest on every envelope (a 6-tool turn:
// two files edited, a failing and a passing command, a failing test run, a denied tool —
// the shape the real Claude Code's transcripts give, test/e2e/evidence.test.ts); billed from
// the relay's ledger at the default model's prices. Writes the "Evidence digest" section of
// BENCHMARKS.md (kept by `npm run bench`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTokens } from '../src/demo/fake-api-prompt.js';
import { renderEvidence, type Evidence } from '../src/protocol/evidence.js';
import { DEFAULT_MODEL } from './bill.js';
import { measureDay, type DayResult } from './day.js';
import { REPO, writeSection } from './util.js';

export const TYPICAL_EVIDENCE: Evidence = {
  from: 'transcript',
  files: [
    { path: 'src/calc.js', action: 'edited', added: 4, removed: 1 },
    { path: 'test/calc.test.js', action: 'created', added: 12 },
  ],
  commands: [
    { command: 'node scripts/check.js', exit: 3, tail: ['boom: it broke'] },
    { command: 'node -e "console.log(1)"', exit: 0 },
    {
      command: 'npm test',
      exit: 1,
      tests: { failed: 2, passed: 5 },
      tail: ['FAIL test/calc.test.js > add', 'AssertionError: expected -1 to be 3', 'Tests: 2 failed, 5 passed, 7 total'],
    },
  ],
  tools: [{ tool: 'WebFetch', outcome: 'denied', detail: 'the user denied it' }],
  diff_stat: [' src/calc.js       | 5 +++--', ' test/calc.test.js | 12 ++++++++++++', ' 2 files changed, 15 insertions(+), 2 deletions(-)'],
};

export interface EvidenceCost {
  bytes: number;
  tokens: number;
  off: DayResult;
  on: DayResult;
}

export async function measureEvidenceCost(base?: string): Promise<EvidenceCost> {
  const shown = renderEvidence(TYPICAL_EVIDENCE);
  const off = await measureDay({ base }, 'no evidence');
  const on = await measureDay({ base, evidence: TYPICAL_EVIDENCE }, 'with evidence');
  return { bytes: Buffer.byteLength(shown), tokens: countTokens(shown), off, on };
}

export function renderEvidenceCost(c: EvidenceCost, at = new Date()): string {
  const perTurn = (d: DayResult) => d.dollars.totalUsd / d.turns;
  const added = perTurn(c.on) - perTurn(c.off);
  const money = (x: number) => `$${x.toFixed(4)}`;
  return [
    '## Evidence digest (issue 27)',
    '',
    `Written by \`node .bench/bench/evidence-cost.js\` (bench/evidence-cost.ts) on ${at.toISOString()}: the sparse`,
    `24-hour script (${c.off.turns} turns, 4 sessions) on the simulated clock, ${DEFAULT_MODEL}, without and with a typical`,
    'digest on every envelope (a 6-tool turn: 2 files, a failing and a passing command, a failing test run, a denied tool).',
    '',
    '| figure | without | with | added |',
    '|---|---|---|---|',
    `| digest as chat-Claude reads it | — | ${c.bytes} bytes, ~${c.tokens} tokens (chars/4) | ${c.tokens} tokens a turn |`,
    `| dollars per turn | ${money(perTurn(c.off))} | ${money(perTurn(c.on))} | ${money(added)} (${((added / perTurn(c.off)) * 100).toFixed(1)}%) |`,
    `| dollars per supervised day | $${c.off.perDayUsd.toFixed(2)} | $${c.on.perDayUsd.toFixed(2)} | $${(c.on.perDayUsd - c.off.perDayUsd).toFixed(2)} |`,
    `| cache writes, 1 h rate (tokens) | ${c.off.dollars.write1h} | ${c.on.dollars.write1h} | ${c.on.dollars.write1h - c.off.dollars.write1h} |`,
    `| cache reads (tokens) | ${c.off.dollars.cacheRead} | ${c.on.dollars.cacheRead} | ${c.on.dollars.cacheRead - c.off.dollars.cacheRead} |`,
    '',
    'The digest is written to the cache once, with its turn, and read on every later call until a summary',
    'replaces it; `hooks.evidence: off` removes it. Hook time added per Stop (the digest built from the',
    "transcript and `git diff --stat`): 30-45 ms through the real CLI, measured in issue 27's note.",
    '',
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  measureEvidenceCost()
    .then((c) => {
      const section = renderEvidenceCost(c);
      writeSection(path.join(REPO, 'BENCHMARKS.md'), 'evidence-bench', section);
      process.stdout.write(section);
    })
    .catch((err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exitCode = 1;
    });
}
