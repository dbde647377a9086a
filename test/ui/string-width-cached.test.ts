import stringWidth from 'string-width';
import { expect, it } from 'vitest';
import cachedStringWidth, { cachedWidthStats } from '../../src/ui/string-width-cached.js';

const samples = [
  '',
  'plain ascii',
  'chat → api-refactor $0.0013 › Good progress · next',
  '── Queue ──────── ░░░░ 0% of $20.00/day',
  '\u001b[1mbold\u001b[22m and \u001b[35mcolour\u001b[39m · done',
  '日本語のテキスト',
  'emoji 👍🏽 and a family 👨‍👩‍👧 and a keycap 1⃣',
  'e\u0301 combining, tab\there, zero\u200bwidth',
  '한국어 한',
];

it('measures as string-width does, the first time and from memory', () => {
  for (const s of samples) {
    expect(cachedStringWidth(s)).toBe(stringWidth(s));
    expect(cachedStringWidth(s)).toBe(stringWidth(s));
  }
});

it('options other than the defaults are measured as asked, not from memory', () => {
  const s = '\u001b[1m±§\u001b[22m';
  cachedStringWidth(s);
  expect(cachedStringWidth(s, { countAnsiEscapeCodes: true })).toBe(stringWidth(s, { countAnsiEscapeCodes: true }));
  expect(cachedStringWidth('±§', { ambiguousIsNarrow: false })).toBe(stringWidth('±§', { ambiguousIsNarrow: false }));
});

it('holds at most ~1M characters however many distinct lines go through it', () => {
  // ASCII lines, which string-width measures quickly: the bound is what is tested.
  for (let i = 0; i < 20_000; i++) cachedStringWidth(`turn ${i} ${'x'.repeat(100)} s${i % 7}`);
  const { lines, chars } = cachedWidthStats();
  expect(chars).toBeLessThanOrEqual(1 << 20);
  expect(lines).toBeGreaterThan(0);
  // A line too long to be worth remembering is still measured right.
  const long = '─'.repeat(10_000);
  expect(cachedStringWidth(long)).toBe(10_000);
});
