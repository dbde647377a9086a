import fs from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../../fs/atomic.js';
import type { RootPaths } from '../../protocol/root.js';
import { hooksDir } from './claim.js';

/**
 * The Stop hook's own record of each wait: state/hooks/<session>.waits.jsonl, one line per
 * windowed wait (when it began, how long, how it ended). What `status` cannot show — a Stop
 * hook that sat behind a claim for its whole window — shows here, and the end-to-end tests
 * assert on it instead of timing the test. Kept short: the newest lines only.
 */

export interface WaitRecord {
  at: string;
  waited_ms: number;
  outcome: string;
  pid: number;
  /** Wakes queued in this Claude Code that the wait set aside to take their reply. */
  revoked_wakes?: number;
}

const KEEP_BYTES = 64 * 1024;

export const waitsFile = (p: RootPaths, session: string) => path.join(hooksDir(p), `${session}.waits.jsonl`);

/** Best effort, one O_APPEND write; a file grown past KEEP_BYTES starts over with its newer half. */
export function recordWait(p: RootPaths, session: string, w: WaitRecord): void {
  const file = waitsFile(p, session);
  try {
    fs.mkdirSync(hooksDir(p), { recursive: true, mode: 0o700 });
    const size = fs.lstatSync(file, { throwIfNoEntry: false })?.size ?? 0;
    if (size > KEEP_BYTES) {
      const text = fs.readFileSync(file, 'utf8');
      const tail = text.slice(text.indexOf('\n', text.length / 2) + 1);
      writeAtomic(file, tail, 0o600);
    }
    fs.appendFileSync(file, JSON.stringify(w) + '\n', { mode: 0o600 });
  } catch {
    /* a record, not a reason to fail the hook */
  }
}

export function readWaits(p: RootPaths, session: string): WaitRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(waitsFile(p, session), 'utf8');
  } catch {
    return [];
  }
  const out: WaitRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as WaitRecord);
    } catch {
      /* a torn line */
    }
  }
  return out;
}
