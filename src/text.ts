/** Text helpers shared by the engine and its views. */

/** Collapses whitespace and cuts to `max` characters with an ellipsis: one line for a log, a row, a ping. */
export function clipLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * An integer with thousands separators, "12,345" — as toLocaleString('en-US') writes it,
 * without it: the first number format in a process makes ICU load its locale data and
 * number-format code, ~6 MB of resident memory in the TUI for a comma (measured: the node
 * binary's resident pages, 2026-12-02). Non-integers are rounded (-0.4 is "0", not "-0"); NaN and
 * ±Infinity as String() writes them.
 */
export function groupDigits(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const r = Math.round(n);
  const a = Math.abs(r);
  // String() writes 1e+21 from there on; a BigInt writes every digit.
  const digits = a < 1e21 ? String(a) : BigInt(a).toString();
  let out = '';
  for (let i = digits.length; i > 0; i -= 3) out = digits.slice(Math.max(0, i - 3), i) + (out ? `,${out}` : '');
  return r < 0 ? `-${out}` : out;
}
