import { normaliseUsage, type Usage } from '../pricing/prices.js';

/**
 * A turn's tokens from Claude Code's result event. One turn can be several API calls
 * (a reply cut at max_tokens is continued in a second one): 2.1.332 gives the turn's own
 * figures per model (`model_usage_since_last_result`, with the 5m/1h split of cache
 * writes); 2.1.197 only `result.usage`, which for a continued turn was measured equal to
 * the sum the fake API billed (test/claude-code-backend.test.ts).
 */

interface ModelUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
  cacheCreationEphemeral5mInputTokens?: number;
  cacheCreationEphemeral1hInputTokens?: number;
}

export type UsageTotals = Required<
  Pick<ModelUsage, 'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheCreationInputTokens'>
> & {
  split5m?: number;
  split1h?: number;
};

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Sums a per-model map; undefined when it is absent or empty. */
export function sumModels(map: unknown): UsageTotals | undefined {
  if (!map || typeof map !== 'object') return undefined;
  const models = Object.values(map as Record<string, ModelUsage>);
  if (models.length === 0) return undefined;
  const t: UsageTotals = { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
  let split = true;
  for (const m of models) {
    t.inputTokens += num(m?.inputTokens);
    t.outputTokens += num(m?.outputTokens);
    t.cacheReadInputTokens += num(m?.cacheReadInputTokens);
    t.cacheCreationInputTokens += num(m?.cacheCreationInputTokens);
    if (typeof m?.cacheCreationEphemeral5mInputTokens !== 'number' || typeof m?.cacheCreationEphemeral1hInputTokens !== 'number')
      split = false;
    else {
      t.split5m = (t.split5m ?? 0) + m.cacheCreationEphemeral5mInputTokens;
      t.split1h = (t.split1h ?? 0) + m.cacheCreationEphemeral1hInputTokens;
    }
  }
  if (!split) {
    delete t.split5m;
    delete t.split1h;
  }
  return t;
}

function toUsage(t: UsageTotals, fallbackSplit: Usage['cache_creation']): Usage {
  const u: Usage = {
    input_tokens: t.inputTokens,
    output_tokens: t.outputTokens,
    cache_creation_input_tokens: t.cacheCreationInputTokens,
    cache_read_input_tokens: t.cacheReadInputTokens,
  };
  if (t.split5m !== undefined && t.split1h !== undefined)
    u.cache_creation = { ephemeral_5m_input_tokens: t.split5m, ephemeral_1h_input_tokens: t.split1h };
  else if (
    fallbackSplit &&
    fallbackSplit.ephemeral_5m_input_tokens + fallbackSplit.ephemeral_1h_input_tokens === t.cacheCreationInputTokens
  )
    u.cache_creation = fallbackSplit;
  else if (t.cacheCreationInputTokens === 0) u.cache_creation = { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 };
  return u;
}

/** The turn's usage: the per-turn figures when Claude Code gives them, else `result.usage`. */
export function turnUsage(result: Record<string, unknown>): Usage {
  const last = normaliseUsage(result.usage as Parameters<typeof normaliseUsage>[0]);
  const since = sumModels(result.model_usage_since_last_result);
  return since ? toUsage(since, last.cache_creation) : last;
}
