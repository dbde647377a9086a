import { describe, expect, it } from 'vitest';
import { computeLayout } from '../../src/ui/layout.js';
import { age, duration, money, pct, shortTopic, tokens } from '../../src/ui/format.js';
import { clean, truncate, width, wrap } from '../../src/ui/wrap.js';

describe('computeLayout', () => {
  const sizes = [
    [80, 24],
    [100, 30],
    [200, 60],
    [140, 40],
    [60, 15],
    [40, 10],
    [80, 8],
    [300, 100],
  ] as const;
  for (const [columns, rows] of sizes) {
    for (const banner of [0, 4, 30]) {
      for (const sessions of [0, 3, 40]) {
        it(`${columns}x${rows}, banner ${banner}, ${sessions} sessions: never taller than rows - 1`, () => {
          const l = computeLayout({ columns, rows, banner, sessions });
          expect(l.height).toBeLessThanOrEqual(rows - 1);
          const body = l.wide ? Math.max(l.conversation, l.queue + l.cost + l.sessions) : l.queue + l.sessions + l.conversation;
          expect(l.header + l.banner + body + l.footer).toBeLessThanOrEqual(l.height);
          expect(Math.min(l.queue, l.cost, l.sessions, l.conversation, l.banner)).toBeGreaterThanOrEqual(0);
          if (l.wide) expect(l.leftWidth + 1 + l.rightWidth).toBe(columns);
        });
      }
    }
  }

  it('uses the room of a large pane: two columns, every session shown', () => {
    const l = computeLayout({ columns: 200, rows: 60, banner: 0, sessions: 20 });
    expect(l.wide).toBe(true);
    expect(l.conversation).toBeGreaterThan(50);
    expect(l.sessions).toBeGreaterThanOrEqual(22);
  });

  it('gives a few sessions all their rows at 80x24 and keeps a conversation', () => {
    const l = computeLayout({ columns: 80, rows: 24, banner: 0, sessions: 3 });
    expect(l.sessions).toBe(5);
    expect(l.conversation).toBeGreaterThanOrEqual(5);
  });
});

describe('format', () => {
  it('money reads at a glance', () => {
    expect(money(0)).toBe('$0.00');
    expect(money(12.3456)).toBe('$12.35');
    expect(money(0.0421)).toBe('$0.042');
    expect(money(0.00123)).toBe('$0.0012');
    expect(money(1234.5)).toBe('$1,235');
    expect(money(null)).toBe('—');
  });
  it('tokens, durations, ages, shares', () => {
    expect(tokens(999)).toBe('999');
    expect(tokens(1234)).toBe('1.2k');
    expect(tokens(340_000)).toBe('340k');
    expect(tokens(1_234_567)).toBe('1.23M');
    expect(tokens(12_300_000)).toBe('12.3M');
    expect(duration(7_000)).toBe('7s');
    expect(duration(134_000)).toBe('2m14s');
    expect(duration(3_725_000)).toBe('1h02m');
    expect(age(new Date(0).toISOString(), 90_000)).toBe('1m');
    expect(age(null, 0)).toBe('—');
    expect(pct(0.914)).toBe('91%');
    expect(shortTopic('relay-3f9a0c2b7d4e61aa')).toBe('relay-3f9a0c2…');
  });
});

describe('wrap', () => {
  it('wraps words to the width, hard-breaks long words, keeps paragraphs', () => {
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrap('one\ntwo', 20)).toEqual(['one', 'two']);
    for (const l of wrap('x '.repeat(200), 13, 11).slice(1)) expect(width(l)).toBeLessThanOrEqual(11);
  });
  it('strips what could drive the terminal', () => {
    expect(clean('a\x1b[2Jb\x1b]0;title\x07c\x07d')).toBe('abcd');
  });
  it('truncates by display width', () => {
    expect(truncate('hello world', 6)).toBe('hello…');
    expect(width('日本')).toBe(4);
  });
});
