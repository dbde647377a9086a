import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JsonlAppender, readJsonl } from '../src/fs/atomic.js';
import { Ledger } from '../src/engine/journals/ledger.js';

/**
 * The ledger's settlement line is written without a flush of its own (one fdatasync
 * fewer a turn). What that must not change: a kill -9 loses nothing, and a settlement
 * lost to a power cut leaves its reservation counted at the projected cost, never less.
 */

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-ledger-lazy-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const usage = { input_tokens: 1000, output_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
const DAY = '2026-12-01';

function turn(ledger: Ledger, projectedUsd: number, costUsd: number): void {
  ledger.reserve({ at: new Date().toISOString(), day: DAY, session: 's1', projectedUsd });
  ledger.record({
    at: new Date().toISOString(),
    day: DAY,
    session: 's1',
    kind: 'turn',
    model: 'claude-opus-5-5',
    usage,
    cost_usd: costUsd,
    seq: 1,
  });
}

describe('JsonlAppender.appendLazy', () => {
  it('is in the file at once, without a flush; the next append or close() flushes it', () => {
    const sync = vi.spyOn(fs, 'fdatasyncSync');
    const file = path.join(dir, 'a.jsonl');
    const a = new JsonlAppender(file);
    a.appendLazy({ n: 1 });
    expect(sync).not.toHaveBeenCalled();
    expect(readJsonl(file).records).toEqual([{ n: 1 }]);
    a.append({ n: 2 });
    expect(sync).toHaveBeenCalledTimes(1);
    a.appendLazy({ n: 3 });
    a.close();
    expect(sync).toHaveBeenCalledTimes(2);
    const b = new JsonlAppender(file);
    b.append({ n: 4 });
    b.close(); // nothing unsynced: no second flush
    expect(sync).toHaveBeenCalledTimes(3);
    expect(readJsonl<{ n: number }>(file).records.map((r) => r.n)).toEqual([1, 2, 3, 4]);
  });

  it('drop() (a killed process) keeps what was written', () => {
    const file = path.join(dir, 'b.jsonl');
    const a = new JsonlAppender(file);
    a.appendLazy({ n: 1 });
    a.drop();
    expect(readJsonl(file).records).toEqual([{ n: 1 }]);
  });
});

describe('Ledger settlement without its own flush', () => {
  it('a turn costs one flush (the reservation), and the settlement is durable before the next call', () => {
    const file = path.join(dir, 'ledger.jsonl');
    const ledger = new Ledger(file);
    const sync = vi.spyOn(fs, 'fdatasyncSync');
    turn(ledger, 0.5, 0.02);
    expect(sync).toHaveBeenCalledTimes(1);
    turn(ledger, 0.5, 0.03);
    // The second reservation's flush carried the first settlement with it.
    expect(sync).toHaveBeenCalledTimes(2);
    ledger.close();
    expect(sync).toHaveBeenCalledTimes(3);
    expect(new Ledger(file).day(DAY).costUsd).toBeCloseTo(0.05, 10);
  });

  it('kill -9 after the settlement: counted at what was billed', () => {
    const file = path.join(dir, 'ledger.jsonl');
    const ledger = new Ledger(file);
    turn(ledger, 0.5, 0.02);
    ledger.abandon();
    const again = new Ledger(file);
    expect(again.crashed).toEqual([]);
    expect(again.day(DAY).costUsd).toBeCloseTo(0.02, 10);
  });

  it('a power cut that lost the settlement line: the reservation counts at its projected cost', () => {
    const file = path.join(dir, 'ledger.jsonl');
    const ledger = new Ledger(file);
    turn(ledger, 0.5, 0.02);
    ledger.abandon();
    // What the disk may hold after the cut: the flushed reservation, the settlement torn or gone.
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    for (const tail of ['', lines[1].slice(0, 17)]) {
      fs.writeFileSync(file, `${lines[0]}\n${tail}`);
      const after = new Ledger(file);
      expect(after.crashed).toHaveLength(1);
      expect(after.day(DAY).costUsd).toBeCloseTo(0.5, 10);
      after.abandon();
    }
  });
});

describe('the last price entry', () => {
  it('is the entry of the last billed call, and is read back when the ledger reopens', () => {
    const file = path.join(dir, 'ledger.jsonl');
    const a = new Ledger(file);
    expect(a.lastPriceEntry).toBeNull();
    a.reserve({ at: new Date().toISOString(), day: DAY, session: 's1', projectedUsd: 0.5 });
    a.record({
      at: new Date().toISOString(),
      day: DAY,
      session: 's1',
      kind: 'turn',
      model: 'claude-haiku-5-5',
      usage,
      cost_usd: 0.01,
      seq: 1,
      price_entry: 'claude-haiku-5-5 >100k',
    });
    expect(a.lastPriceEntry).toBe('claude-haiku-5-5 >100k');
    a.close();
    expect(new Ledger(file).lastPriceEntry).toBe('claude-haiku-5-5 >100k');
  });
});
