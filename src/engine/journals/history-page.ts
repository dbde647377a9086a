import fs from 'node:fs';
import path from 'node:path';
import type { ConversationRecord, TurnRecord } from './records.js';
import { firstJsonl, readJsonlBackward } from '../../fs/jsonl-tail.js';

/**
 * Scroll-back a page at a time: up to `limit` turns older than `beforeSeq` (null: the
 * newest), oldest first, with atTop when no older turn exists. Reads the live
 * conversation and then the archives (each the whole live file as it was before a
 * summary: kept turns appear in two files, seq tells them apart) from their ends, and
 * skips any file whose first turn is not older than `beforeSeq`, so a page costs what it
 * shows, not the size of the history.
 */

export interface HistoryPageQuery {
  beforeSeq: number | null;
  limit: number;
}

export interface TurnPage {
  turns: TurnRecord[];
  atTop: boolean;
  /** When the turn right after the page was made, when it was read (what bounds the page's notes). */
  nextAt?: string;
}

/** The conversation files, newest first: the live file, then the archives by name (their seq) descending. */
export function historyFiles(liveFile: string, archiveDir: string): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(archiveDir).filter((n) => n.endsWith('.jsonl'));
  } catch {
    /* no archive yet */
  }
  return [
    liveFile,
    ...names
      .sort()
      .reverse()
      .map((n) => path.join(archiveDir, n)),
  ];
}

export function readHistoryPage(liveFile: string, archiveDir: string, q: HistoryPageQuery): TurnPage {
  const limit = Math.max(0, Math.floor(q.limit));
  const before = q.beforeSeq ?? Number.POSITIVE_INFINITY;
  const seen = new Set<number>();
  const found: TurnRecord[] = [];
  let next: TurnRecord | undefined;
  // One more than asked: whether anything older exists decides atTop.
  const want = limit + 1;
  for (const file of historyFiles(liveFile, archiveDir)) {
    if (found.length >= want) break;
    const firstTurn = firstJsonl<ConversationRecord, number>(file, (r) => (r.t === 'turn' ? r.seq : undefined));
    if (firstTurn !== undefined && firstTurn >= before) continue;
    readJsonlBackward<ConversationRecord>(file, (r) => {
      if (r.t !== 'turn') return true;
      if (r.seq >= before) {
        if (!next || r.seq < next.seq) next = r;
        return true;
      }
      if (seen.has(r.seq)) return true;
      seen.add(r.seq);
      found.push(r);
      return found.length < want;
    });
  }
  found.sort((a, b) => a.seq - b.seq);
  const atTop = found.length <= limit;
  return { turns: atTop ? found : found.slice(found.length - limit), atTop, ...(next && next.seq === before ? { nextAt: next.at } : {}) };
}
