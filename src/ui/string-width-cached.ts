import stringWidth, { type Options } from 'string-width';

/**
 * string-width with a memory of the lines it measured, for the TUI's bundle
 * (scripts/bundle-tui.mjs puts it in place of Ink's string-width). Ink measures every
 * text node's widest line on every frame, though most lines are the same as in the
 * last frame; string-width's fast path covers printable ASCII only, and almost every
 * line of ours carries a `·`, `→` or `─`, so each measure ran the grapheme segmenter
 * over the whole line (measured: the view thread's largest single cost under load).
 *
 * Bounded by the characters it holds, not the lines: emptied when a new line would take
 * it past MAX_CHARS (~2 MB of keys), so a stream of long unique lines cannot grow it.
 */
const MAX_CHARS = 1 << 20;
/** Longer lines are measured each time: rare, and they would crowd out the rest. */
const MAX_LINE = 4096;

const widths = new Map<string, number>();
let chars = 0;

export default function cachedStringWidth(input: string, options?: Options): number {
  // Only the defaults Ink uses are remembered; any other option is measured as asked.
  if (
    typeof input !== 'string' ||
    input.length > MAX_LINE ||
    (options && (options.ambiguousIsNarrow === false || options.countAnsiEscapeCodes))
  )
    return stringWidth(input, options);
  let w = widths.get(input);
  if (w === undefined) {
    w = stringWidth(input);
    if (chars + input.length > MAX_CHARS) {
      widths.clear();
      chars = 0;
    }
    widths.set(input, w);
    chars += input.length;
  }
  return w;
}

/** What it holds (for the test of its bound). */
export function cachedWidthStats(): { lines: number; chars: number } {
  return { lines: widths.size, chars };
}
