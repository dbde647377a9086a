import { Ledger, localDay } from '../engine/ledger.js';
import type { RootPaths } from '../root.js';

/** Spend by day and by session, from the durable ledger (works with the relay down, and safely beside a running one). */
export function costCommand(p: RootPaths, days: number, json: boolean): number {
  const ledger = new Ledger(p.ledger, { readOnly: true });
  try {
    const all = ledger.days();
    const shown = all.slice(-days);
    if (json) {
      const out = shown.map(([day, t]) => ({ day, ...t, sessions: Object.fromEntries(ledger.sessionsOn(day)) }));
      process.stdout.write(JSON.stringify({ days: out, total: ledger.total }, null, 2) + '\n');
      return 0;
    }
    if (!all.length) {
      process.stdout.write('no spend recorded yet\n');
      return 0;
    }
    const lines: string[] = [];
    const today = localDay(Date.now());
    for (const [day, t] of shown) {
      lines.push(`${day}${day === today ? ' (today)' : ''}  $${t.costUsd.toFixed(4)}  ${t.turns} turns  in ${t.input} out ${t.output} cache r ${t.cacheRead} w ${t.cacheWrite}`);
      for (const [s, st] of ledger.sessionsOn(day)) lines.push(`    ${s.padEnd(24)} $${st.costUsd.toFixed(4)}  ${st.turns} turns`);
    }
    lines.push(`total ${all.length} day(s): $${ledger.total.costUsd.toFixed(4)}, ${ledger.total.turns} turns`);
    const cut = ledger.unsettled;
    if (cut.length) {
      const usd = cut.reduce((sum, r) => sum + r.projected_usd, 0);
      lines.push(`  (includes $${usd.toFixed(4)} for ${cut.length} call(s) cut short by a crash, counted at their projected cost)`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    ledger.close();
  }
}
