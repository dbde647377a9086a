import { lockHolder } from '../fs/lock.js';
import { readStatus, type Status } from '../protocol/status.js';
import type { RootPaths } from '../protocol/root.js';

/** Cents hide what a few cheap turns cost; below a dollar show four decimals. */
const money = (n: number) => `$${n.toFixed(n !== 0 && Math.abs(n) < 1 ? 4 : 2)}`;

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 300);

/** Local wall-clock time of an ISO instant; the date too when it is not today. */
function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toTimeString().slice(0, 8) : d.toISOString();
}

/**
 * `running` alone would be a lie while every call fails and is being retried: the
 * relay is up, but nothing gets through. Say so in the state word itself.
 */
function stateLine(status: Status, up: boolean): string {
  const pause = `${status.pause_reason ? ` (${status.pause_reason})` : ''}${status.pause_message ? `: ${oneLine(status.pause_message)}` : ''}`;
  // The last line a clean stop wrote; a pause it had still holds when the relay starts again.
  if (status.state === 'stopped') return `state: stopped cleanly${pause ? `; paused${pause}` : ''}`;
  const word = status.state === 'running' && status.retry ? 'running, but API calls are failing' : status.state;
  // A relay that died left its file saying what it was doing: say that it is history.
  return `${up ? 'state' : 'state when it stopped'}: ${word}${pause}`;
}

/** Works with the relay down: reads the last snapshot and says whether anyone is writing it. */
export function statusCommand(p: RootPaths, json: boolean): number {
  let status: Status | undefined;
  try {
    status = readStatus(p);
  } catch (err) {
    process.stderr.write(`relay-tui status: ${(err as Error).message}\n`);
    return 1;
  }
  const holder = lockHolder(p.lock);
  if (json) {
    process.stdout.write(JSON.stringify({ running: !!holder, ...(status ?? {}) }, null, 2) + '\n');
    return status ? 0 : 1;
  }
  if (!status) {
    process.stdout.write(`no status yet at ${p.status} (has the relay ever run on ${p.root}?)\n`);
    return 1;
  }
  const out: string[] = [];
  out.push(holder ? `relay running (pid ${holder.pid}) on ${p.root}` : `relay NOT running on ${p.root} (last status ${status.updated_at})`);
  out.push(stateLine(status, !!holder));
  if (status.retry)
    out.push(
      `retrying the API call: attempt ${status.retry.attempt} of ${status.retry.of} failed (${oneLine(status.retry.message)}); next try at ${clock(status.retry.next_at)}`,
    );
  // While a retry is shown its message is the last error; otherwise the last error stands alone.
  if (status.last_error && status.last_error !== status.retry?.message) out.push(`last error: ${oneLine(status.last_error)}`);
  if (status.held) out.push(`held reply for ${status.held.session}: ${status.held.text.replace(/\s+/g, ' ').slice(0, 200)}`);
  // On an account that does not pay per token the figures are what the API would charge (budgets count them).
  const spent = (n: number) => (status.cost_notional ? `≈ ${money(n)} at API prices` : money(n));
  if (status.backend)
    out.push(
      `chat-Claude: ${status.backend === 'api' ? 'the Messages API' : 'Claude Code'} (${status.backend}), account ${status.account ?? 'not known yet'}`,
    );
  out.push(
    `model ${status.model}, queue ${status.queue_depth}, rejected ${status.rejected_count}, history ${status.history_turns} turns / ${status.history_tokens} tokens`,
  );
  out.push(
    `cost: today ${spent(status.today_cost_usd)} of ${money(status.budget_usd_per_day)}, total ${spent(status.total_cost_usd)}; tokens in ${status.total_input_tokens}, out ${status.total_output_tokens}, cache read ${status.total_cache_read_tokens}, write ${status.total_cache_write_tokens}`,
  );
  for (const [id, s] of Object.entries(status.sessions)) {
    out.push(
      `  ${id}${s.registered ? '' : ' (unregistered)'}: ${s.turns} turns, ${money(s.cost_usd)}, ${s.pending} pending${s.awaiting_ack ? ', input.txt awaiting ack' : ''}${s.paused_reason ? `, PAUSED ${s.paused_reason}` : ''}`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
