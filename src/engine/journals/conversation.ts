import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, JsonlAppender, readJsonl, repairJsonlTail, writeAtomic } from '../../fs/atomic.js';
import type { ChatMessage, ChatRequest } from '../../adapters/anthropic.js';
import { readHistoryPage, type HistoryPageQuery, type TurnPage } from './history-page.js';
import type { ConversationRecord, SummaryRecord, TurnRecord } from './records.js';
import { batchAnswer, batchMessage } from './batch-form.js';
import { minCacheableTokens, planLayout, type CacheTtl, type Layout } from '../../pricing/cache-rules.js';

export interface RequestCacheOptions {
  /** The breakpoints' lifetime, or a chooser given the prompt's cacheable sizes (default 5m). */
  ttl?: CacheTtl | ((sizes: { prefixTokens: number; addedTokens: number; minTokens: number }) => CacheTtl);
  /** false for a call whose prompt is never reused (a summary request): read the cached prefix, write nothing new. */
  writeEnd?: boolean;
  /** Override of the model's minimum cacheable prefix (cache-rules.ts). */
  minTokens?: number;
  /** Nothing of the history is in the cache (a summary after a long gap): place no breakpoint on it. */
  cold?: boolean;
}

/** What the request's breakpoints promise: sizes are estimates until the API's usage comes back. */
export interface CachePlan extends Layout {
  ttl: CacheTtl;
  minTokens: number;
}

export type PlannedRequest = ChatRequest & { cachePlan: CachePlan };

/**
 * The one shared conversation with chat-Claude, kept as an append-only JSON-lines
 * file: a turn costs one appended line, not a rewrite. Summarization is the only
 * rewrite; it moves the old file to state/archive/ first, so scroll-back can still
 * show every turn ever made.
 */

export function labelFor(session: string, opts: { registered: boolean; timestamp?: string; re?: string }): string {
  if (session === 'operator') return `[operator${opts.re ? ` → re ${opts.re}` : ''}]`;
  const tag = opts.registered ? session : `${session} (unregistered)`;
  return `[${tag}]${opts.timestamp ? ` ${opts.timestamp}` : ''}`;
}

export class Conversation {
  private summary: SummaryRecord | undefined;
  private turns: TurnRecord[] = [];
  private appender: JsonlAppender;
  private lastSeq = 0;
  /** Lines that did not parse on load (a torn write after a crash is repaired, not counted). */
  readonly badLines: number;

  constructor(
    readonly file: string,
    private readonly archiveDir: string,
  ) {
    repairJsonlTail(file);
    const { records, bad } = readJsonl<ConversationRecord>(file);
    this.badLines = bad;
    for (const r of records) this.absorb(r);
    this.appender = new JsonlAppender(file);
  }

  private absorb(r: ConversationRecord): void {
    this.lastSeq = Math.max(this.lastSeq, r.seq);
    if (r.t === 'summary') {
      this.summary = r;
      this.turns = [];
    } else if (r.t === 'turn') {
      this.turns.push(r);
    }
  }

  nextSeq(): number {
    return this.lastSeq + 1;
  }

  get turnCount(): number {
    return this.turns.length;
  }

  get lastTurn(): TurnRecord | undefined {
    return this.turns[this.turns.length - 1];
  }

  get summaryRecord(): SummaryRecord | undefined {
    return this.summary;
  }

  /** Conversation size per the last API call's usage (0 before the first call). */
  get historyTokens(): number {
    return this.lastTurn?.history_tokens ?? this.summary?.history_tokens ?? 0;
  }

  recentTurns(n: number): TurnRecord[] {
    return this.turns.slice(Math.max(0, this.turns.length - n));
  }

  findByInputId(id: string): TurnRecord | undefined {
    for (let i = this.turns.length - 1; i >= 0; i--) if (this.turns[i].input_id === id) return this.turns[i];
    return undefined;
  }

  append(record: TurnRecord): void {
    this.appender.append(record);
    this.absorb(record);
  }

  private baseMessages(): ChatMessage[] {
    const out: ChatMessage[] = [];
    if (this.summary) {
      out.push({ role: 'user', content: `[relay] Summary of the conversation before this point:\n\n${this.summary.text}` });
      out.push({ role: 'assistant', content: 'Understood. I will continue from this summary.' });
    }
    for (let i = 0; i < this.turns.length;) {
      const t = this.turns[i];
      const b = t.batch;
      if (!b) {
        out.push({ role: 'user', content: t.user }, { role: 'assistant', content: t.reply });
        i++;
        continue;
      }
      // The sections of one batched call were one exchange: rendered back as the one message and answer they were.
      let j = i;
      while (j < this.turns.length && this.turns[j].batch?.call === b.call) j++;
      const group = this.turns.slice(i, j);
      out.push({ role: 'user', content: batchMessage(group, b.code) }, { role: 'assistant', content: batchAnswer(group, b.code) });
      i = j;
    }
    return out;
  }

  /**
   * The request for a new user message, with its cache breakpoints (cache-rules.ts
   * planLayout): the new message, for the next call to read; the previous turn's user
   * message (what the last call wrote) only when the lookback would not reach it; the
   * system prompt. None where the prefix is under the model's minimum. The lifetime is
   * `cache.ttl`, or chosen from the prompt's sizes when it is a function (cache-ttl.ts).
   * Without options: 5-minute breakpoints, as before.
   */
  request(userText: string, base: Omit<ChatRequest, 'messages' | 'cacheAt'>, opts: RequestCacheOptions = {}): PlannedRequest {
    const history = this.baseMessages();
    const perByte = this.tokensPerByte(base.system, history);
    const messages = [...history, { role: 'user' as const, content: userText }];
    const est = (text: string) => Math.ceil(Buffer.byteLength(text) * perByte);
    const systemBlocks = base.system.length > 0 ? 1 : 0;
    const blockTokens = [...(systemBlocks ? [est(base.system)] : []), ...messages.map((m) => est(m.content))];
    // The last call wrote through the last turn's user message, unless a summary has replaced that prefix since.
    const last = this.lastTurn;
    const fresh = last && (!this.summary || last.seq > this.summary.seq) && !opts.cold;
    const cachedThrough = fresh && messages.length >= 3 ? systemBlocks + messages.length - 3 : undefined;
    const minTokens = opts.minTokens ?? minCacheableTokens(base.model);
    const writeEnd = opts.writeEnd ?? true;
    const shape = { blockTokens, minTokens, systemBlocks, cachedThrough, writeEnd };
    const probe = planLayout({ ...shape, ttl: '5m' });
    const ttl =
      typeof opts.ttl === 'function'
        ? opts.ttl({ prefixTokens: probe.cachedTokens, addedTokens: probe.addedTokens, minTokens })
        : (opts.ttl ?? '5m');
    const layout = planLayout({ ...shape, ttl });
    const cacheAt = layout.breakpoints.filter((b) => b.block >= systemBlocks).map((b) => b.block - systemBlocks);
    const cacheSystem = layout.breakpoints.some((b) => b.block < systemBlocks);
    return {
      ...base,
      messages,
      cacheAt,
      cacheSystem,
      ...(ttl === '1h' ? { cacheTtl: ttl } : {}),
      cachePlan: { ...layout, ttl, minTokens },
    };
  }

  /**
   * Tokens per UTF-8 byte, to place breakpoints against the minimum: measured by the
   * API on this very history when its last turn is after any summary (the last turn's
   * history_tokens covers the system prompt, every message and the reply), else one
   * token per 3 bytes, which over- rather than under-counts prose, code and CJK alike.
   */
  private tokensPerByte(system: string, history: ChatMessage[]): number {
    const last = this.lastTurn;
    if (!last || (this.summary && last.seq < this.summary.seq) || !(last.history_tokens > 0)) return 1 / 3;
    let bytes = Buffer.byteLength(system);
    for (const m of history) bytes += Buffer.byteLength(m.content);
    if (bytes === 0) return 1 / 3;
    return Math.min(1, Math.max(1 / 6, last.history_tokens / bytes));
  }

  /**
   * Replaces the history with a summary plus the most recent turns. The old file is
   * hard-linked into the archive before the new one is renamed over it, so at every
   * instant one complete history is on disk.
   */
  replaceWithSummary(summary: Omit<SummaryRecord, 't' | 'seq' | 'replaced_turns'>, keepRecent: number): { replaced: number; kept: number } {
    const kept = keepRecent > 0 ? this.turns.slice(-keepRecent) : [];
    const replaced = this.turns.length - kept.length;
    const record: SummaryRecord = { t: 'summary', seq: this.lastSeq + 1, ...summary, replaced_turns: replaced };
    // The summary sorts before the kept turns in the file but carries the newest seq,
    // so the turn that follows it still gets a fresh number.
    const lines = [record, ...kept].map((r) => JSON.stringify(r)).join('\n') + '\n';
    fs.mkdirSync(this.archiveDir, { recursive: true, mode: 0o700 });
    const archived = path.join(this.archiveDir, `conversation-${String(record.seq).padStart(8, '0')}.jsonl`);
    try {
      fs.linkSync(this.file, archived);
      fsyncDir(this.archiveDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    this.appender.close();
    writeAtomic(this.file, lines, 0o600);
    this.appender = new JsonlAppender(this.file);
    this.lastSeq = record.seq;
    this.summary = record;
    this.turns = kept;
    return { replaced, kept: kept.length };
  }

  /** Every turn ever recorded, oldest first: the archives, then the live file. */
  fullHistory(): TurnRecord[] {
    const out: TurnRecord[] = [];
    let names: string[] = [];
    try {
      names = fs
        .readdirSync(this.archiveDir)
        .filter((n) => n.endsWith('.jsonl'))
        .sort();
    } catch {
      /* no archive yet */
    }
    const seen = new Set<number>();
    for (const file of [...names.map((n) => path.join(this.archiveDir, n)), this.file]) {
      for (const r of readJsonl<ConversationRecord>(file).records) {
        if (r.t !== 'turn' || seen.has(r.seq)) continue;
        seen.add(r.seq);
        out.push(r);
      }
    }
    return out;
  }

  /** Scroll-back a page at a time, read from the files' ends (history-page.ts). */
  historyPage(q: HistoryPageQuery): TurnPage {
    return readHistoryPage(this.file, this.archiveDir, q);
  }

  close(): void {
    this.appender.close();
  }
}
