// The dollar rows (8) of BENCHMARKS.md and how they were measured. Every number comes from the run.
import { minCacheableTokens } from '../src/pricing/cache-rules.js';
import { lookupPrice } from '../src/pricing/prices.js';
import type { Bill, DollarsResult, ScriptResult, Strategy } from './dollars.js';

type Row = (n: string, figure: string, value: string, times: string, target: string, ok?: boolean, short?: string) => string;

const usd = (x: number) => `$${x.toFixed(4)}`;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const k = (n: number) => `${(n / 1000).toFixed(0)}k`;

const LABEL: Record<Strategy, string> = {
  'system-only': 'system prompt only (the Python relay)',
  '5m': 'moving breakpoint, 5 minutes (before issue 16)',
  '1h': 'moving breakpoint, 1 hour always',
  auto: 'moving breakpoint, lifetime chosen per call (`cache.ttl: auto`, the default)',
};

function tokens(b: Bill): string {
  return `${k(b.input)} uncached + ${k(b.cacheWrite)} written (${k(b.cacheWrite1h)} of them at 1 h) + ${k(b.cacheRead)} read`;
}

export function dollarRows(d: DollarsResult, row: Row): string[] {
  const out: string[] = [];
  const [dense, sparse] = [d.scripts.find((s) => s.name === 'dense'), d.scripts.find((s) => s.name === 'sparse')];
  const strategies: Strategy[] = ['system-only', '5m', '1h', 'auto'];
  const cell = (s: ScriptResult | undefined, st: Strategy) =>
    s ? `${usd(s.bills[st].perTurnUsd)}${st === 'auto' ? ` (${s.bills.auto.calls1h} of ${s.bills.auto.calls} calls at 1 h)` : ''}` : '—';
  for (const st of strategies) {
    out.push(row('8', `dollars per turn, ${LABEL[st]}: dense / sparse script`, `${cell(dense, st)} / ${cell(sparse, st)}`, '—', '—'));
  }
  if (dense) {
    out.push(
      row(
        '8',
        'dense script: auto / system prompt only',
        pct(dense.bills.auto.perTurnUsd / dense.bills['system-only'].perTurnUsd),
        '—',
        '≤ 35%',
        dense.bills.auto.perTurnUsd <= 0.35 * dense.bills['system-only'].perTurnUsd,
        'dollars per turn, dense: relay-tui ≤ 35% of system-prompt-only caching',
      ),
    );
  }
  if (sparse) {
    out.push(
      row(
        '8',
        'sparse script: auto / 5 minutes',
        pct(sparse.autoOver5m),
        '—',
        '≤ 60%',
        sparse.autoOver5m <= 0.6,
        'dollars per turn, sparse: auto ≤ 0.6× the 5-minute breakpoint',
      ),
    );
  }
  for (const s of [dense, sparse]) {
    if (!s) continue;
    out.push(
      row(
        '8',
        `${s.name} script: auto / the best fixed choice (${s.bestFixed})`,
        pct(s.autoOverBest),
        '—',
        '≤ 102%',
        s.autoOverBest <= 1.02,
        `dollars per turn, ${s.name}: auto ≤ 1.02× the best fixed choice`,
      ),
    );
  }
  if (dense) {
    const b = dense.bills['5m'];
    out.push(
      row(
        '8',
        `dense script, 5 minutes: summarization, ${b.summaries} call${b.summaries === 1 ? '' : 's'}`,
        `${usd(b.summaryCostUsd)} (${pct(b.summaryCostUsd / b.totalUsd)} of the total)`,
        '—',
        '—',
      ),
    );
  }
  return out;
}

/** Whether the system prompt alone is over the model's minimum, i.e. whether system-only caching caches anything. */
function cachedAlone(d: DollarsResult): string {
  const min = minCacheableTokens(d.model);
  const sys = d.scripts[0]?.systemTokens ?? 0;
  return sys >= min
    ? `${d.model}'s minimum cacheable prefix is ${min.toLocaleString('en-US')} tokens, so system-only caching does cache the ~${sys.toLocaleString('en-US')}-token system prompt.`
    : `The fake caches nothing under ${d.model}'s ${min.toLocaleString('en-US')}-token minimum, so the ~${sys.toLocaleString('en-US')}-token system prompt alone is never cached there.`;
}

/** The model's rates a million tokens, and the cache's as multiples of the input rate. */
function rates(model: string): string {
  const p = lookupPrice(model).price;
  const x = (r: number) => `${+(r / p.input).toFixed(2)}×`;
  return `$${p.input} input, $${p.output} output a million tokens; 5-minute write ${x(p.cache_write)}, 1-hour write ${x(p.cache_write_1h ?? 2 * p.input)}, read ${x(p.cache_read)} input`;
}

export function dollarMethod(d: DollarsResult): string {
  const parts = d.scripts.map(
    (s) =>
      `the **${s.name}** script: ${s.description}, ${s.simulatedMinutes.toFixed(0)} simulated minutes; totals ${(['system-only', '5m', '1h', 'auto'] as Strategy[]).map((st) => `${st} ${usd(s.bills[st].totalUsd)}`).join(', ')}; prompt tokens ${(['system-only', '5m', '1h', 'auto'] as Strategy[]).map((st) => `${st}: ${tokens(s.bills[st])}`).join('; ')}`,
  );
  return `- **Dollars** (rows 8): scripted conversations (seeded, bench/dollars-scripts.ts): system prompt ~${d.scripts[0]?.systemTokens.toLocaleString('en-US')} tokens, messages 200-1,500 tokens, replies 100-600; history.cap_tokens ${d.capTokens.toLocaleString('en-US')}; ${parts.join('. And ')}. The 5m, 1h and auto rows are the real relay in process (its own requests, breakpoints and summaries) with the fake on a simulated clock, each call's lifetime chosen by the relay itself from cache.ttl (src/engine/turn/runner.ts: TtlChooser.choose before a turn's call, record after it); system-only replays the very requests of the 5m run (same order, same simulated times, same replies, the same summary calls) with cache_control on the system block only, against a second fake with its own cache. ${cachedAlone(d)} Priced with src/pricing/prices.ts for ${d.model}, the model the relay's requests named (${rates(d.model)}).`;
}
