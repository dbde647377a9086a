/** Text helpers shared by the engine and its views. */

/** Collapses whitespace and cuts to `max` characters with an ellipsis: one line for a log, a row, a ping. */
export function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
