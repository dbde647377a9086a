// `node .bench/bench/dollars-run.js`: only the dollar rows (8) of the bench, printed as
// markdown, for working on caching without the whole `npm run bench`. The figures are
// the same measureDollars as the full run's.
import { measureDollars } from './dollars.js';
import { dollarMethod, dollarRows } from './report-dollars.js';
import { cleanupAll, log } from './util.js';

async function main(): Promise<void> {
  const d = await measureDollars({ turns: 200, capTokens: 150_000 });
  const verdicts: Array<{ figure: string; ok: boolean }> = [];
  const row = (n: string, figure: string, value: string, times: string, target: string, ok?: boolean, short?: string) => {
    if (ok !== undefined) verdicts.push({ figure: short ?? figure, ok });
    return `| ${n} | ${figure} | ${value} | ${times} | ${target} | ${ok === undefined ? '—' : ok ? '**yes**' : '**NO**'} |`;
  };
  const lines = [
    '| # | figure | value | × floor | target | met? |',
    '|---|---|---|---|---|---|',
    ...dollarRows(d, row),
    '',
    dollarMethod(d),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  for (const v of verdicts) log(`  ${v.ok ? 'met   ' : 'MISSED'} ${v.figure}`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
