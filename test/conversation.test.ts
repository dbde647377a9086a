import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toApiBody } from '../src/adapters/anthropic.js';
import { layoutError, LOOKBACK_BLOCKS } from '../src/pricing/cache-rules.js';
import { Conversation, labelFor } from '../src/engine/journals/conversation.js';
import type { TurnRecord } from '../src/engine/journals/records.js';

let dir: string;
let file: string;
let archive: string;
const open: Conversation[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-conv-'));
  file = path.join(dir, 'conversation.jsonl');
  archive = path.join(dir, 'archive');
});
afterEach(() => {
  while (open.length) open.pop()!.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function conv(): Conversation {
  const c = new Conversation(file, archive);
  open.push(c);
  return c;
}

function turn(seq: number, session = 'session-1', over: Partial<TurnRecord> = {}): TurnRecord {
  return {
    t: 'turn',
    seq,
    at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    session,
    route: session,
    source: 'envelope',
    user: `[${session}] message ${seq}`,
    reply: `reply ${seq}`,
    usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    cost_usd: 0.001,
    model: 'claude-opus-4-7',
    history_tokens: 100 * seq,
    ...over,
  };
}

/** Appends n turns, numbering them with nextSeq() as the relay does. */
function appendN(c: Conversation, n: number): TurnRecord[] {
  const out: TurnRecord[] = [];
  for (let i = 0; i < n; i++) {
    const t = turn(c.nextSeq());
    c.append(t);
    out.push(t);
  }
  return out;
}

const BASE = { model: 'claude-opus-4-7', max_tokens: 1024, system: 'sys' };

describe('append and reload', () => {
  it('starts empty', () => {
    const c = conv();
    expect(c.turnCount).toBe(0);
    expect(c.nextSeq()).toBe(1);
    expect(c.lastTurn).toBeUndefined();
    expect(c.historyTokens).toBe(0);
    expect(c.badLines).toBe(0);
  });

  it('appends one JSON line per turn and reloads them in order', () => {
    const c = conv();
    const turns = appendN(c, 3);
    expect(c.turnCount).toBe(3);
    expect(c.nextSeq()).toBe(4);
    expect(c.historyTokens).toBe(300);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(JSON.parse(lines[0])).toEqual(turns[0]);
    c.close();

    const again = conv();
    expect(again.turnCount).toBe(3);
    expect(again.nextSeq()).toBe(4);
    expect(again.lastTurn).toEqual(turns[2]);
    expect(again.recentTurns(2)).toEqual(turns.slice(1));
    expect(again.recentTurns(10)).toEqual(turns);
  });

  it('findByInputId finds the latest turn with that input id', () => {
    const c = conv();
    c.append(turn(1, 'operator', { input_id: 'in-1', source: 'operator' }));
    c.append(turn(2));
    expect(c.findByInputId('in-1')?.seq).toBe(1);
    expect(c.findByInputId('nope')).toBeUndefined();
  });

  it('a torn last line (crash mid-write) is repaired on reload, not counted as bad, and the next append works', () => {
    const c = conv();
    appendN(c, 2);
    c.close();
    fs.appendFileSync(file, '{"t":"turn","seq":3,"at":"2026-0');
    const again = conv();
    expect(again.turnCount).toBe(2);
    expect(again.badLines).toBe(0);
    expect(again.nextSeq()).toBe(3);
    again.append(turn(again.nextSeq()));
    again.close();

    const third = conv();
    expect(third.turnCount).toBe(3);
    expect(third.badLines).toBe(0);
    expect(third.lastTurn?.seq).toBe(3);
    expect(third.lastTurn?.reply).toBe('reply 3');
    for (const line of fs.readFileSync(file, 'utf8').trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('a torn first line (crash during the very first write) leaves an empty, usable history', () => {
    fs.writeFileSync(file, '{"t":"tu');
    const c = conv();
    expect(c.turnCount).toBe(0);
    c.append(turn(c.nextSeq()));
    c.close();
    expect(conv().turnCount).toBe(1);
  });

  it('a corrupt line in the middle (hand edit) is skipped and counted', () => {
    const c = conv();
    appendN(c, 1);
    c.close();
    fs.appendFileSync(file, 'not json\n');
    fs.appendFileSync(file, JSON.stringify(turn(2)) + '\n');
    const again = conv();
    expect(again.badLines).toBe(1);
    expect(again.turnCount).toBe(2);
  });
});

describe('request()', () => {
  // minTokens 1: every breakpoint can take effect, so the tests below see the positions alone.
  const ANY = { minTokens: 1 };

  it('first call: one user message, the breakpoint on it and on the system prompt', () => {
    const c = conv();
    const req = c.request('[session-1] hi', BASE, ANY);
    expect(req.model).toBe('claude-opus-4-7');
    expect(req.system).toBe('sys');
    expect(req.max_tokens).toBe(1024);
    expect(req.messages).toEqual([{ role: 'user', content: '[session-1] hi' }]);
    expect(req.cacheAt).toEqual([0]);
    expect(req.cacheSystem).toBe(true);
    expect(req.cacheTtl).toBeUndefined(); // 5m: sent without a ttl, byte for byte as before
    expect(req.cachePlan.ttl).toBe('5m');
  });

  it('alternates user/assistant from the history; one moving breakpoint, since the lookback reaches the previous one', () => {
    const c = conv();
    const turns = appendN(c, 3);
    const req = c.request('[session-2] new', BASE, ANY);
    expect(req.messages).toHaveLength(7);
    expect(req.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(req.messages[4]).toEqual({ role: 'user', content: turns[2].user });
    expect(req.messages[5]).toEqual({ role: 'assistant', content: turns[2].reply });
    expect(req.messages[6].content).toBe('[session-2] new');
    // The previous call wrote through message 4; the breakpoint on 6 reads it within 20 blocks.
    expect(req.cacheAt).toEqual([6]);
    expect(req.cacheSystem).toBe(true);
  });

  it("the previous request's last breakpoint is within this request's lookback (a moving breakpoint)", () => {
    const c = conv();
    const req1 = c.request('[session-1] first', BASE, ANY);
    c.append(turn(c.nextSeq(), 'session-1', { user: '[session-1] first', reply: 'ok' }));
    const req2 = c.request('[session-1] second', BASE, ANY);
    const last1 = req1.cacheAt[req1.cacheAt.length - 1];
    expect(req2.messages[last1]).toEqual(req1.messages[last1]);
    expect(req2.cacheAt).toEqual([2]);
    expect(req2.cacheAt[0] - last1).toBeLessThan(LOOKBACK_BLOCKS);
  });

  it("places no breakpoint where the prefix is under the model's minimum", () => {
    const c = conv();
    // Opus 4.7 caches nothing under 4,096 tokens: a short first turn gets no breakpoint at all.
    const short = c.request('[session-1] hi', BASE);
    expect(short.cacheAt).toEqual([]);
    expect(short.cacheSystem).toBe(false);
    expect(short.cachePlan).toMatchObject({ belowMinimum: true, minTokens: 4096, breakpoints: [] });
    expect(toApiBody(short).system).toEqual([{ type: 'text', text: 'sys' }]);
    // Opus 4.8 caches from 1,024: the same ~1,700-token prompt is marked there, not on 4.7.
    const text = '[session-1] ' + 'word '.repeat(1000);
    expect(c.request(text, { ...BASE, model: 'claude-opus-4-8' }).cacheAt).toEqual([0]);
    expect(c.request(text, BASE).cacheAt).toEqual([]);
    // A short system prompt gets none even when the conversation after it is long enough.
    const long = c.request('[session-1] ' + 'word '.repeat(4000), BASE);
    expect(long.cacheAt).toEqual([0]);
    expect(long.cacheSystem).toBe(false);
    const bigSystem = c.request('[session-1] hi', { ...BASE, system: 'rule. '.repeat(3000) });
    expect(bigSystem.cacheSystem).toBe(true);
    expect(bigSystem.cacheAt).toEqual([0]);
  });

  it('counts tokens as the API measured this history once a turn is recorded', () => {
    const c = conv();
    // 6,000 bytes of text; the API said 6,000 tokens (1 per byte, e.g. dense code), far above the 3-byte default.
    const user = 'x'.repeat(3000);
    c.append(turn(c.nextSeq(), 'session-1', { user, reply: 'y'.repeat(2997), history_tokens: 6000 }));
    const req = c.request('[s] z', BASE);
    expect(req.cachePlan.promptTokens).toBeGreaterThan(5900);
    expect(req.cacheAt).toEqual([2]);
  });

  it('a 1h lifetime reaches the wire on every breakpoint; a chooser sees the cacheable sizes', () => {
    const c = conv();
    appendN(c, 2);
    const seen: Array<{ prefixTokens: number; addedTokens: number; minTokens: number }> = [];
    const req = c.request('[s] next', BASE, { minTokens: 1, ttl: (sizes) => (seen.push(sizes), '1h') });
    expect(seen).toHaveLength(1);
    expect(seen[0].prefixTokens).toBe(req.cachePlan.cachedTokens);
    // What the last call did not cache: the previous reply and the new message.
    expect(seen[0].addedTokens).toBeLessThan(seen[0].prefixTokens);
    expect(seen[0].addedTokens).toBeGreaterThan(0);
    expect(req.cacheTtl).toBe('1h');
    const body = toApiBody(req);
    expect((body.system as any[])[0].cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    const marked = body.messages.filter((m) => Array.isArray(m.content));
    expect(marked).toHaveLength(1);
    expect((marked[0].content as any[])[0].cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(layoutError(req.cachePlan.breakpoints)).toBeNull();
  });

  it('a summary request (writeEnd false) reads the cached prefix and writes nothing new', () => {
    const c = conv();
    appendN(c, 3);
    const req = c.request('[relay] summarize', BASE, { minTokens: 1, writeEnd: false });
    // Message 4 is the last turn's user message: what the previous call wrote.
    expect(req.cacheAt).toEqual([4]);
    expect(req.cachePlan.cachedTokens).toBeLessThan(req.cachePlan.promptTokens);
  });

  it('does not change the history (a request is not a turn)', () => {
    const c = conv();
    appendN(c, 1);
    c.request('x', BASE);
    c.request('y', BASE);
    expect(c.turnCount).toBe(1);
    expect(c.nextSeq()).toBe(2);
  });

  it('labels say which session speaks, marks unregistered ones and operator replies', () => {
    expect(labelFor('session-1', { registered: true })).toBe('[session-1]');
    expect(labelFor('session-1', { registered: true, timestamp: '2026-05-02T15:30:00Z' })).toBe('[session-1] 2026-05-02T15:30:00Z');
    expect(labelFor('stray', { registered: false })).toBe('[stray (unregistered)]');
    expect(labelFor('operator', { registered: false })).toBe('[operator]');
    expect(labelFor('operator', { registered: false, re: 'session-2' })).toBe('[operator → re session-2]');
  });
});

describe('replaceWithSummary', () => {
  const summary = (text = 'the story so far') => ({
    at: '2026-05-02T16:00:00.000Z',
    text,
    replaced_turns: 0,
    history_tokens: 42,
    cost_usd: 0.01,
  });

  it('keeps keep_recent turns, puts the summary first in the request, and archives the old file', () => {
    const c = conv();
    const turns = appendN(c, 5);
    const before = fs.readFileSync(file, 'utf8');
    const res = c.replaceWithSummary(summary(), 2);
    expect(res).toEqual({ replaced: 3, kept: 2 });
    expect(c.turnCount).toBe(2);
    expect(c.recentTurns(10).map((t) => t.seq)).toEqual([4, 5]);
    expect(c.summaryRecord?.text).toBe('the story so far');
    expect(c.summaryRecord?.seq).toBe(6);
    expect(c.nextSeq()).toBe(7);

    // The archive holds the full old file, byte for byte.
    const archived = fs.readdirSync(archive);
    expect(archived).toEqual(['conversation-00000006.jsonl']);
    expect(fs.readFileSync(path.join(archive, archived[0]), 'utf8')).toBe(before);

    const req = c.request('[session-1] next', BASE);
    expect(req.messages[0].role).toBe('user');
    expect(req.messages[0].content).toContain('the story so far');
    expect(req.messages[1].role).toBe('assistant');
    expect(req.messages.slice(2, 6).map((m) => m.content)).toEqual([turns[3].user, turns[3].reply, turns[4].user, turns[4].reply]);
    // The summary replaced what the last call cached: nothing to read but the system prompt; the end is written.
    expect(c.request('[session-1] next', BASE, { minTokens: 1 }).cacheAt).toEqual([6]);
    // No temp files left next to the live file.
    expect(fs.readdirSync(dir).sort()).toEqual(['archive', 'conversation.jsonl']);
  });

  it('fullHistory returns every turn once, in order, across summaries and reloads', () => {
    const c = conv();
    appendN(c, 4);
    c.replaceWithSummary(summary('one'), 1);
    appendN(c, 3);
    c.replaceWithSummary(summary('two'), 2);
    appendN(c, 1);
    const seqs = c.fullHistory().map((r) => r.seq);
    // Turns 1-4, summary 5, turns 6-8, summary 9, turn 10: summaries are not turns.
    expect(seqs).toEqual([1, 2, 3, 4, 6, 7, 8, 10]);
    expect(c.fullHistory().every((r) => r.t === 'turn')).toBe(true);
    expect(fs.readdirSync(archive).sort()).toEqual(['conversation-00000005.jsonl', 'conversation-00000009.jsonl']);
    c.close();

    const again = conv();
    expect(again.fullHistory().map((r) => r.seq)).toEqual([1, 2, 3, 4, 6, 7, 8, 10]);
    expect(again.summaryRecord?.text).toBe('two');
    expect(again.recentTurns(10).map((t) => t.seq)).toEqual([7, 8, 10]);
  });

  it('historyPage pages back from the end across summaries: the same turns as fullHistory, each once, truncated kept', () => {
    const c = conv();
    appendN(c, 4);
    c.replaceWithSummary(summary('one'), 1);
    appendN(c, 3);
    c.replaceWithSummary(summary('two'), 2);
    appendN(c, 1);
    c.append(turn(11, 'session-2', { truncated: true, reply: 'cut…' }));
    const all = c.fullHistory().map((r) => r.seq);
    expect(all).toEqual([1, 2, 3, 4, 6, 7, 8, 10, 11]);
    // Walk back two at a time, as the view does.
    const got: number[][] = [];
    let before: number | null = null;
    for (let i = 0; i < 10; i++) {
      const p = c.historyPage({ beforeSeq: before, limit: 2 });
      got.unshift(p.turns.map((t) => t.seq));
      if (p.atTop) break;
      before = p.turns[0].seq;
    }
    expect(got).toEqual([[1], [2, 3], [4, 6], [7, 8], [10, 11]]);
    expect(c.historyPage({ beforeSeq: null, limit: 1 }).turns[0]).toMatchObject({ seq: 11, truncated: true, reply: 'cut…' });
    expect(c.historyPage({ beforeSeq: null, limit: 100 })).toMatchObject({ atTop: true });
    expect(c.historyPage({ beforeSeq: 1, limit: 5 })).toEqual({ turns: [], atTop: true });
  });

  it('historyPage reads lines longer than its chunk, multi-byte text and a torn last line', () => {
    const c = conv();
    const big = 'é✓ '.repeat(40_000);
    c.append(turn(1, 'session-1', { reply: big }));
    c.append(turn(2));
    // A write torn while the engine runs (the file is repaired only at start).
    fs.appendFileSync(file, '{"t":"turn","seq":3,"us');
    const p = c.historyPage({ beforeSeq: null, limit: 5 });
    expect(p.turns.map((t) => t.seq)).toEqual([1, 2]);
    expect(p.turns[0].reply).toBe(big);
  });

  it('nextSeq keeps increasing across a summary and a reload (the summary sorts first but has the newest seq)', () => {
    const c = conv();
    appendN(c, 3);
    c.replaceWithSummary(summary(), 2);
    expect(c.nextSeq()).toBe(5);
    c.close();
    const again = conv();
    expect(again.nextSeq()).toBe(5);
    expect(again.turnCount).toBe(2);
    expect(again.summaryRecord?.seq).toBe(4);
    expect(again.historyTokens).toBe(300); // the last kept turn's figure
    appendN(again, 1);
    expect(again.lastTurn?.seq).toBe(5);
    expect(again.nextSeq()).toBe(6);
    again.close();
    expect(conv().nextSeq()).toBe(6);
  });

  it('keep_recent 0 keeps only the summary; historyTokens then comes from the summary', () => {
    const c = conv();
    appendN(c, 3);
    expect(c.replaceWithSummary(summary(), 0)).toEqual({ replaced: 3, kept: 0 });
    expect(c.turnCount).toBe(0);
    expect(c.historyTokens).toBe(42);
    const req = c.request('x', BASE, { minTokens: 1 });
    expect(req.messages).toHaveLength(3);
    expect(req.cacheAt).toEqual([2]);
    c.close();
    const again = conv();
    expect(again.turnCount).toBe(0);
    expect(again.summaryRecord?.text).toBe('the story so far');
  });

  it('keep_recent larger than the history keeps every turn', () => {
    const c = conv();
    appendN(c, 2);
    expect(c.replaceWithSummary(summary(), 10)).toEqual({ replaced: 0, kept: 2 });
    expect(c.turnCount).toBe(2);
  });

  it('appends after a summary go to the new live file, not the archive', () => {
    const c = conv();
    appendN(c, 2);
    c.replaceWithSummary(summary(), 1);
    const archived = path.join(archive, fs.readdirSync(archive)[0]);
    const archivedText = fs.readFileSync(archived, 'utf8');
    appendN(c, 1);
    expect(fs.readFileSync(archived, 'utf8')).toBe(archivedText);
    const live = fs
      .readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(live.map((r) => [r.t, r.seq])).toEqual([
      ['summary', 3],
      ['turn', 2],
      ['turn', 4],
    ]);
  });
});
