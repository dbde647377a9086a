import { lockHolder } from '../fs/lock.js';
import { Ledger, localDay, type Reservation } from '../engine/journals/ledger.js';
import type { RootPaths } from '../protocol/root.js';

const usd = (n: number) => `$${n.toFixed(4)}`;
/** A figure with its notional part (chat.backend claude-code on a subscription) said as such: budgets count it, no one is billed it per token. */
function spent(t: { costUsd: number; notionalUsd?: number }): string {
  const notional = t.notionalUsd ?? 0;
  if (notional <= 0) return usd(t.costUsd);
  if (notional >= t.costUsd - 1e-12) return `≈ ${usd(t.costUsd)} at API prices`;
  return `${usd(t.costUsd)} (≈ ${usd(notional)} of it at API prices, not billed per token)`;
}
const sum = (rs: Reservation[]) => rs.reduce((s, r) => s + r.projected_usd, 0);

/**
 * Spend by day, by session and by price entry, from the durable ledger (works with
 * the relay down, and safely beside a running one). Calls whose bill nobody knows are
 * named for what happened to them: a crash, a shutdown mid-request, or (the live
 * relay's) a call in flight right now, which counts only once it settles.
 */
export function costCommand(p: RootPaths, days: number, json: boolean): number {
  const holder = lockHolder(p.lock);
  const ledger = new Ledger(p.ledger, { readOnly: true, live: holder ? { pid: holder.pid, since: holder.started_at } : null });
  try {
    const all = ledger.days();
    const shown = all.slice(-days);
    const calls = {
      crashed: { calls: ledger.crashed.length, projectedUsd: sum(ledger.crashed), counted: true },
      interrupted: { calls: ledger.interrupted.length, projectedUsd: sum(ledger.interrupted), counted: true },
      in_flight: { calls: ledger.inFlight.length, projectedUsd: sum(ledger.inFlight), counted: false, pid: holder?.pid ?? null },
      released: { calls: ledger.released, counted: false },
    };
    if (json) {
      const out = shown.map(([day, t]) => ({
        day,
        ...t,
        sessions: Object.fromEntries(ledger.sessionsOn(day)),
        price_entries: Object.fromEntries(ledger.priceEntriesOn(day)),
      }));
      process.stdout.write(JSON.stringify({ days: out, total: ledger.total, calls }, null, 2) + '\n');
      return 0;
    }
    const lines: string[] = [];
    if (!all.length) lines.push('no spend recorded yet');
    const today = localDay(Date.now());
    for (const [day, t] of shown) {
      lines.push(
        `${day}${day === today ? ' (today)' : ''}  ${spent(t)}  ${t.turns} turns  in ${t.input} out ${t.output} cache r ${t.cacheRead} w ${t.cacheWrite}`,
      );
      for (const [s, st] of ledger.sessionsOn(day)) lines.push(`    ${s.padEnd(24)} ${spent(st)}  ${st.turns} turns`);
      const entries = ledger.priceEntriesOn(day);
      if (entries.length)
        lines.push(
          `    priced at: ${entries.map(([name, e]) => `${name} ${usd(e.costUsd)} (${e.calls} call${e.calls === 1 ? '' : 's'})`).join('; ')}`,
        );
    }
    if (all.length) lines.push(`total ${all.length} day(s): ${spent(ledger.total)}, ${ledger.total.turns} turns`);
    if (calls.crashed.calls)
      lines.push(
        `  (includes ${usd(calls.crashed.projectedUsd)} for ${calls.crashed.calls} call(s) cut short by a crash, counted at their projected cost)`,
      );
    if (calls.interrupted.calls)
      lines.push(
        `  (includes ${usd(calls.interrupted.projectedUsd)} for ${calls.interrupted.calls} call(s) a shutdown stopped mid-request, counted at their projected cost: the API may have billed them)`,
      );
    if (calls.in_flight.calls)
      lines.push(
        `  in flight now (relay pid ${holder!.pid}): ${calls.in_flight.calls} call(s) reserved at up to ${usd(calls.in_flight.projectedUsd)}, not counted until they settle`,
      );
    if (calls.released.calls) lines.push(`  ${calls.released.calls} call(s) that never reached the API or were refused: counted at $0`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    ledger.close();
  }
}
