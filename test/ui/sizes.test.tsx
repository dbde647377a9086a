import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/ui/App.js';
import { realisticRelay } from './capture.test.js';
import { NOW, iso } from './fake-relay.js';
import { lines, plain, renderSized, type Rendered } from './harness.js';
import { waits } from './waits.js';

/**
 * Every size the issue names (60x15, 80x24, 200x60), running and during each kind of
 * pause: what must always be on screen is on screen. UI_CAPTURE=1 prints the frames.
 */

let r: Rendered | undefined;
afterEach(() => r?.unmount());

const SIZES = [
  [60, 15],
  [80, 24],
  [200, 60],
] as const;

const QUESTION =
  '[NEEDS-JC] Should the billing migration run tonight against production, or wait for the Monday window? The backfill takes about 40 minutes.';

const PAUSES = {
  running: {},
  needs_jc: waits(
    { held: [{ turn: 41, session: 'billing-tests', text: QUESTION, reason: 'needs_jc', at: iso(45_000), code: 'C0FFEE' }] },
    { state: 'needs_jc', inflight: null },
  ),
  approval: waits(
    { held: [{ turn: 41, session: 'docs-site', text: 'Publish the docs now.', reason: 'approval', at: iso(5_000), code: 'AB12CD' }] },
    { state: 'paused', inflight: null },
  ),
  budget: waits(
    { relay: { reason: 'budget_day', message: "today's spend $20.10 reached the daily budget $20.00", at: iso(300_000) } },
    { state: 'paused', inflight: null },
  ),
  error: waits({ relay: { reason: 'error', message: 'API 401: invalid x-api-key', at: iso(20_000) } }, { state: 'error', inflight: null }),
};

function show(name: string, f: string) {
  if (process.env.UI_CAPTURE) process.stdout.write(`\n--- ${name}\n${plain(f)}\n`);
}

describe('every size, every pause', () => {
  for (const [columns, rows] of SIZES) {
    for (const [name, over] of Object.entries(PAUSES)) {
      it(`${columns}x${rows} ${name}: header, cost line, sessions, prompt; the banner says who asks and what`, async () => {
        r = renderSized(<App relay={realisticRelay(over)} onQuit={() => {}} now={() => NOW} />, { columns, rows });
        const f = plain(await r.waitFor('Cost'));
        show(`${columns}x${rows} ${name}`, f);
        const ls = lines(f);
        expect(ls.length).toBeLessThanOrEqual(rows - 1);
        for (const l of ls) expect(l.length).toBeLessThanOrEqual(columns);
        expect(ls[0]).toMatch(/^relay-tui\s/);
        // Spend on screen at all times, and the queue beside it.
        expect(f).toMatch(/total \$12\.35/);
        expect(f).toContain('── Queue');
        expect(f).toMatch(/2 queued/);
        // Sessions: the title and at least one row.
        const title = ls.findIndex((l) => l.startsWith('── Sessions'));
        expect(title).toBeGreaterThanOrEqual(0);
        expect(ls.slice(title + 1, title + 3).some((l) => /^(api-refactor|billing-tests|docs-site|scratch-7)\s/.test(l))).toBe(true);
        // The columns are named: by the heads row, or in the title when there is no room for it.
        expect(ls[title + 1].startsWith('session ') || /── Sessions .*queued/.test(ls[title])).toBe(true);
        expect(ls.at(-1)).toMatch(/^› /);
        if (name === 'needs_jc') {
          expect(f).toContain('billing-tests asks you');
          expect(f).toContain('Should the billing migration');
          expect(f).toContain('Ctrl+Y approve');
          // The session that asks keeps its row even when few fit.
          expect(ls.slice(title + 1).some((l) => l.startsWith('billing-tests'))).toBe(true);
        }
        if (name === 'approval') {
          expect(f).toContain('reply for docs-site needs approval');
          expect(f).toContain('Publish the docs now.');
        }
        if (name === 'budget') expect(f).toContain("today's spend $20.10");
        if (name === 'error') expect(f).toContain('invalid x-api-key');
      });
    }
  }
});

describe('the help open, at every size', () => {
  for (const [columns, rows] of SIZES) {
    for (const name of ['running', 'needs_jc'] as const) {
      it(`${columns}x${rows} ${name}: the queue and the cost line stay beside the help`, async () => {
        r = renderSized(<App relay={realisticRelay(PAUSES[name])} onQuit={() => {}} now={() => NOW} />, { columns, rows });
        await r.waitFor('Cost');
        await r.type('?');
        const f = plain(await r.waitFor('── Help'));
        show(`${columns}x${rows} ${name} + help`, f);
        const ls = lines(f);
        expect(ls.length).toBeLessThanOrEqual(rows - 1);
        for (const l of ls) expect(l.length).toBeLessThanOrEqual(columns);
        expect(ls[0]).toMatch(/^relay-tui\s/);
        expect(f).toContain('── Queue');
        expect(f).toMatch(/2 queued/);
        expect(f).toMatch(/total \$12\.35/);
        // The help still has rows of its own, and the prompt is last.
        const help = ls.findIndex((l) => l.startsWith('── Help'));
        expect(ls.slice(help + 1).filter((l) => /^ {2}\S/.test(l)).length).toBeGreaterThan(0);
        expect(ls.at(-1)).toMatch(/^› /);
      });
    }
  }
});
