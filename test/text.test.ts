import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupDigits, clipLine } from '../src/text.js';

describe('groupDigits', () => {
  it('writes what toLocaleString("en-US") writes for integers', () => {
    const samples = [0, 7, -7, 999, 1000, -1000, 12_345, 999_999, 1_000_000, -987_654_321, 2 ** 53, 1e20];
    let x = 1;
    for (let i = 0; i < 2000; i++) {
      x = (x * 48271) % 2147483647;
      samples.push((x % 2 ? -1 : 1) * Math.floor(x / 10 ** (i % 8)));
    }
    for (const n of samples) expect(groupDigits(n), String(n)).toBe(n.toLocaleString('en-US'));
  });

  it('rounds, and keeps every digit past 1e21', () => {
    expect(groupDigits(1234.5)).toBe('1,235');
    expect(groupDigits(-1234.5)).toBe('-1,234');
    expect(groupDigits(-0.4)).toBe('0');
    expect(groupDigits(1e21)).toBe('1,000,000,000,000,000,000,000');
    expect(groupDigits(Number.NaN)).toBe('NaN');
    expect(groupDigits(-Infinity)).toBe('-Infinity');
  });
});

describe('clipLine', () => {
  it('collapses whitespace and cuts with an ellipsis', () => {
    expect(clipLine('  a\n\tb  c ', 10)).toBe('a b c');
    expect(clipLine('abcdefghijk', 5)).toBe('abcd…');
  });
});

// The TUI's process keeps ICU's number formatter and collator unloaded (~9 MB resident
// between them): a figure goes through groupDigits, an ISO key sorts by code unit.
describe('no locale formatting in the relay or its views', () => {
  it('src/ (but the bench) calls neither toLocaleString nor localeCompare', () => {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (p !== path.join('src', 'bench')) walk(p);
        } else if (/\.tsx?$/.test(e.name)) {
          fs.readFileSync(p, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (/\.(toLocaleString|toLocaleDateString|toLocaleTimeString|localeCompare)\(|Intl\.(NumberFormat|Collator)/.test(line))
                found.push(`${p}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    walk('src');
    expect(found, 'use groupDigits (src/text.ts) or a code-unit comparison').toEqual([]);
  });
});
