import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/random.js';
import { App } from '../../src/ui/App.js';
import { itemLines, message, type ConvLine } from '../../src/ui/panes/conversation-lines.js';
import { clean, width, wrapSpans, type Span } from '../../src/ui/wrap.js';
import { FakeRelay, iso, turn } from './fake-relay.js';
import { plain, renderSized, type Rendered } from './harness.js';
import { waits } from './waits.js';

/**
 * Wrapping never drops a character (issue 25 item 7: at 80x24 a held reply's mark pushed
 * "[NEEDS-JC]" past the row and the terminal cut "-J"). Seeded random messages over
 * widths, ANSI styles (stripped, never shown) and wide characters: every row fits its
 * width, and the rows hold every visible character of label, mark and text, in order.
 */

let r: Rendered | undefined;
afterEach(() => r?.unmount());

const WORDS = ['[NEEDS-JC]', 'billing-tests', 'asks', 'whether', 'to', 'run', 'the', 'migration', 'tonight', '→', '·', 'a', 'x'];
const WIDE = ['漢字', '日本語テキスト', '한국어', '🚀', 'ｆｕｌｌ', '中'];
const ANSI = ['\x1b[31m', '\x1b[1;32m', '\x1b[0m', '\x1b]8;;http://127.0.0.1/\x07', '\x1b[2K'];

function randomText(rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 30);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = rnd();
    let w =
      k < 0.6
        ? WORDS[Math.floor(rnd() * WORDS.length)]
        : k < 0.8
          ? WIDE[Math.floor(rnd() * WIDE.length)]
          : 'y'.repeat(1 + Math.floor(rnd() * 120)); // longer than any row
    if (rnd() < 0.15) w = `${ANSI[Math.floor(rnd() * ANSI.length)]}${w}${ANSI[2]}`;
    out.push(w, rnd() < 0.1 ? '\n' : rnd() < 0.1 ? '   ' : ' ');
  }
  return out.join('');
}

/** Visible characters, spaces and line breaks aside: what a reader must find on screen. */
const visible = (s: string) => [...s].filter((c) => c !== ' ' && c !== '\n').join('');
const rowText = (l: ConvLine) => l.parts.map((p) => p.text).join('');

describe('wrapping never drops a character', () => {
  it('wrapSpans: every row within its width, every visible character kept in order with its tag (seeded)', () => {
    const rnd = seededRandom(2525);
    for (let i = 0; i < 3000; i++) {
      const first = 2 + Math.floor(rnd() * 100);
      const rest = 2 + Math.floor(rnd() * 100);
      const spans: Span[] = [
        { text: `${' '.repeat(Math.floor(rnd() * 7))}${clean(randomText(rnd)).slice(0, 40)} › `, tag: 'prefix' },
        ...(rnd() < 0.5 ? [{ text: '[not sent: replaced by your answer] ', tag: 'mark' }] : []),
        { text: clean(randomText(rnd)), tag: 'text' },
      ];
      const rows = wrapSpans(spans, first, rest);
      rows.forEach((row, j) => expect(width(row.map((p) => p.text).join('')), `row ${j}`).toBeLessThanOrEqual(j === 0 ? first : rest));
      for (const tag of ['prefix', 'mark', 'text']) {
        const want = visible(
          spans
            .filter((s) => s.tag === tag)
            .map((s) => s.text)
            .join(''),
        );
        const got = visible(
          rows
            .flat()
            .filter((p) => p.tag === tag)
            .map((p) => p.text)
            .join(''),
        );
        expect(got, `${tag} at ${first}/${rest}`).toBe(want);
      }
    }
  });

  it('a conversation message: rows fit the pane at every width, label, mark and text all there (seeded)', () => {
    const rnd = seededRandom(80);
    for (let i = 0; i < 1500; i++) {
      const w = 20 + Math.floor(rnd() * 181);
      const text = randomText(rnd);
      const mark = rnd() < 0.5 ? { text: '[not sent: replaced by your answer] [truncated at max_tokens]', color: 'yellow' } : undefined;
      const prefix = `      chat → billing-tests-${'z'.repeat(Math.floor(rnd() * 40))} $0.0015 › `;
      const rows = message('k', prefix, 'chat', text, w, mark);
      for (const l of rows) expect(width(rowText(l))).toBeLessThanOrEqual(w);
      expect(visible(rows.map(rowText).join(''))).toBe(visible(prefix + (mark ? mark.text : '') + clean(text).trim()));
    }
  });

  it('at 80x24 a held reply replaced by the answer keeps "[NEEDS-JC]" whole', () => {
    const reply = '[NEEDS-JC] billing-tests asks whether the migration may run tonight against production.';
    const e = turn(41, 'billing-tests', 'Tests pass; the migration is ready.', reply);
    // The pane's width at 80 columns; the mark and the label leave less than a word's room.
    const rows = itemLines({ kind: 'turn', e, outcome: { how: 'replaced', session: 'billing-tests' } }, 80);
    for (const l of rows) expect(width(rowText(l))).toBeLessThanOrEqual(80);
    expect(rows.map(rowText).join(' ')).toContain('[NEEDS-JC] billing-tests asks');
  });

  it('on screen at 80x24: a held reply of a long-named session, every row whole', async () => {
    const id = 'billing-tests-against-production-db';
    const reply = '[NEEDS-JC] billing-tests asks whether the migration may run tonight against production.';
    const relay = new FakeRelay(
      waits(
        { held: [{ turn: 41, session: id, text: reply, reason: 'needs_jc', at: iso(60_000), code: 'C0' }] },
        { history_turns: 1, state: 'needs_jc' },
      ),
      [turn(41, id, 'Tests pass; the migration is ready.', reply)],
    );
    r = renderSized(<App relay={relay} onQuit={() => {}} bell={() => {}} />, { columns: 80, rows: 24 });
    const f = plain(await r.waitFor('[held: awaiting you]'));
    const conv = f.slice(f.indexOf('── Conversation'), f.indexOf('\nEnter:'));
    expect(conv.replace(/\s+/g, ' ')).toContain('[held: awaiting you] [NEEDS-JC] billing-tests asks');
    expect(conv).not.toContain('…');
    for (const l of f.split('\n')) expect(width(l)).toBeLessThanOrEqual(80);
  });
});
