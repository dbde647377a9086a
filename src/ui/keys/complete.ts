/**
 * Tab completion of a session id after "@": the first match at once, the next one on
 * each further Tab (like a shell's menu completion). Pure, so it is easy to test.
 */

export interface Cycle {
  matches: string[];
  index: number;
  /** The text the last completion produced: a Tab on anything else starts over. */
  shown: string;
}

export interface Completion {
  value: string;
  cycle: Cycle | null;
  /** For the result line: the other matches, or that there is none. */
  note?: { ok: boolean; message: string };
}

const SESSION_PREFIX = /^@([A-Za-z0-9_-]*)$/;
const shownFor = (id: string) => `@${id}: `;

export function completeSession(value: string, sessionIds: readonly string[], cycle: Cycle | null): Completion | null {
  if (cycle && value === cycle.shown) {
    const index = (cycle.index + 1) % cycle.matches.length;
    const shown = shownFor(cycle.matches[index]);
    return { value: shown, cycle: { ...cycle, index, shown } };
  }
  const prefix = value === '' ? '' : SESSION_PREFIX.exec(value)?.[1];
  if (prefix === undefined) return null;
  const matches = sessionIds.filter((id) => id.startsWith(prefix));
  if (!matches.length) return { value, cycle: null, note: { ok: false, message: `no session starts with "${prefix}"` } };
  const shown = shownFor(matches[0]);
  if (matches.length === 1) return { value: shown, cycle: null };
  const list = `${matches.slice(0, 8).join(' ')}${matches.length > 8 ? ' …' : ''}`;
  return {
    value: shown,
    cycle: { matches, index: 0, shown },
    note: { ok: true, message: `Tab again for the next of ${matches.length}: ${list}` },
  };
}
