/**
 * A small argument parser, so that each command accepts only its own options and
 * every message is ours: node's parseArgs words an unknown option with an unbalanced
 * quote and knows nothing of which command was meant.
 */

export type OptSpec = { type: 'boolean'; short?: string } | { type: 'string'; arg: string; short?: string; multiple?: boolean };

export type OptTable = Record<string, OptSpec>;

export type OptValue = string | boolean | string[] | undefined;

export interface Parsed {
  values: Record<string, OptValue>;
  positionals: string[];
}

export class UsageError extends Error {
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'usage';
  /** The command whose --help the hint points to ('' for the general help). */
  constructor(
    message: string,
    readonly command = '',
  ) {
    super(message);
  }
}

/** Parses argv against one command's options; `where` names it in messages ("relay-tui send"). */
export function parseOptions(argv: string[], table: OptTable, where: string, command = ''): Parsed {
  const values: Record<string, OptValue> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(table)) if (spec.short) byShort.set(spec.short, name);
  const known = () =>
    Object.keys(table)
      .map((n) => `--${n}`)
      .join(' ');

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-' || !a.startsWith('-')) {
      positionals.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
    } else {
      // -h, -v; a cluster such as -hv is not worth supporting.
      const long = byShort.get(a.slice(1));
      if (!long) throw new UsageError(`${where} has no option ${a} (its options: ${known()})`, command);
      name = long;
    }
    const spec = table[name];
    if (!spec) throw new UsageError(`${where} has no option --${name} (its options: ${known()})`, command);
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value (got --${name}=${inline})`, command);
      values[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(
          `--${name} needs a value: --${name} ${spec.arg}${next ? ` (got ${next}; write --${name}=${next} if that is really the value)` : ''}`,
          command,
        );
      }
      value = next;
      i++;
    }
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  return { values, positionals };
}

/**
 * Finds the command word: the first argument that is neither an option nor the value
 * of one, so `relay-tui --root R status` and `relay-tui status --root R` both work.
 */
export function findCommand(argv: string[], takesValue: (option: string) => boolean): { command?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a.startsWith('-') && a !== '-') {
      if (a.startsWith('--') && !a.includes('=') && takesValue(a.slice(2))) i++;
      continue;
    }
    return { command: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: argv };
}

/** Edit distance, for "did you mean"; the words are short. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length];
}

export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  // Two edits (a swapped pair: sned) for words of four letters or more, one below.
  return bestD <= (word.length >= 4 ? 2 : 1) ? best : undefined;
}
