import { Box, Text } from 'ink';
import React from 'react';
import type { Status } from '../../protocol/status.js';
import { money, pct, tokens } from '../format.js';
import { PaneTitle } from './PaneTitle.js';

/** Share of prompt tokens that were cache reads: what keeps a long conversation cheap. */
export function cacheHit(s: Status): number {
  const prompt = s.total_input_tokens + s.total_cache_read_tokens + s.total_cache_write_tokens;
  return prompt > 0 ? s.total_cache_read_tokens / prompt : 0;
}

function budgetColor(share: number): string {
  return share >= 0.9 ? 'red' : share >= 0.7 ? 'yellow' : 'green';
}

function cutBy(c: NonNullable<Status['cut_short']>): string {
  if (c.crashed_calls === c.calls) return 'a crash';
  return c.crashed_calls === 0 ? 'a stop' : 'a crash or a stop';
}

/** Money first: total and today, the day's budget used, tokens, cache reads and the hit share. */
export function CostPane({ status: s, width, height }: { status: Status; width: number; height: number }) {
  if (height <= 0) return null;
  const budget = s.budget_usd_per_day;
  const share = budget > 0 ? s.today_cost_usd / budget : 0;
  const barW = Math.max(5, Math.min(20, width - 30));
  const filled = Math.min(barW, Math.round(Math.min(1, share) * barW));
  const hit = cacheHit(s);
  const cut = s.cut_short;
  // chat.backend claude-code on a subscription: what the API would charge, which budgets count; no one is billed it per token.
  const usd = (n: number | null) => (s.cost_notional && n !== null ? `≈ ${money(n)}` : money(n));
  const lines = [
    <Text key="money" wrap="truncate-end">
      {'total '}
      <Text bold>{usd(s.total_cost_usd)}</Text>
      {cut ? <Text color="yellow">*</Text> : null}
      {' · today '}
      <Text bold color={budget > 0 ? budgetColor(share) : undefined}>
        {usd(s.today_cost_usd)}
      </Text>
      {' · last turn '}
      <Text bold>{usd(s.last_turn_cost_usd)}</Text>
    </Text>,
    // Right under the total it explains: the figure is an upper bound, not what the API billed.
    cut ? (
      <Text key="cut" color="yellow" wrap="truncate-end">
        {`* incl. ${money(cut.usd)} for ${cut.calls} call${cut.calls === 1 ? '' : 's'} cut short by ${cutBy(cut)} (at projected cost)`}
      </Text>
    ) : null,
    budget > 0 ? (
      <Text key="budget" wrap="truncate-end">
        {'budget '}
        <Text color={budgetColor(share)}>{'█'.repeat(filled)}</Text>
        <Text dimColor>{'░'.repeat(barW - filled)}</Text>
        <Text bold color={budgetColor(share)}>{` ${pct(share)}`}</Text>
        {` of ${money(budget)}/day`}
      </Text>
    ) : (
      <Text key="budget" dimColor wrap="truncate-end">
        no daily budget set (/budget USD)
      </Text>
    ),
    <Text key="cache" wrap="truncate-end">
      {`cache read ${tokens(s.total_cache_read_tokens)} · write ${tokens(s.total_cache_write_tokens)} · hit `}
      <Text bold color={hit >= 0.6 ? 'green' : hit >= 0.3 ? 'yellow' : undefined}>
        {pct(hit)}
      </Text>
    </Text>,
    <Text key="tok" wrap="truncate-end">
      {`tokens in ${tokens(s.total_input_tokens)} · out ${tokens(s.total_output_tokens)}`}
      <Text dimColor>{` · history ${tokens(s.history_tokens)}`}</Text>
    </Text>,
  ].filter((l) => l !== null);
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      {/* Which price-table entry the last call was billed at (a tier, a config override, an
          unknown model): in the title, which every layout shows. */}
      <PaneTitle title="Cost" detail={costDetail(s)} width={width} />
      {lines.slice(0, height - 1)}
    </Box>
  );
}

/** The title's detail: the price entry, and `at API prices` when the figures are notional. */
function costDetail(s: Status): string | undefined {
  const parts = [s.cost_notional ? 'at API prices' : null, s.price_entry ? `priced as ${s.price_entry}` : null].filter(Boolean);
  return parts.length ? parts.join(' · ') : undefined;
}
