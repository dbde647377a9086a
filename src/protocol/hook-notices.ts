import fs from 'node:fs';
import path from 'node:path';
import { openFileForRead } from '../fs/confine.js';
import { clipLine } from '../text.js';
import type { RootPaths } from './root.js';

/**
 * Things a Claude Code hook wants the operator to see, from outside the relay's
 * process: a session stopped by the hook chain cap, Claude Code's own "needs your
 * permission" notifications. The hook cannot touch the relay's memory, and the
 * operator inbox is for operator *input* (a notice written there would become a
 * turn), so notices get their own append-only file:
 *
 *   state/hook-notices.jsonl    one JSON object a line: {at, kind, session, title, message, priority}
 *
 * The relay reads the file with HookNoticeReader (see the end of this file) and emits
 * each notice as a 'log' warning: the TUI, --no-ui's stdout and logs/relay.log show it.
 */

export const HOOK_NOTICES_NAME = 'hook-notices.jsonl';

/**
 * chain_cap: the hook stopped relaying (hooks.max_chain); notification: Claude Code asks
 * for a permission or waits for input; stop_failure: Claude Code's turn ended on an API
 * error (rate_limit, billing_error, ...); prompt_typed: the user typed a prompt into that
 * session, so its automatic-turn leash starts again (the relay calls guard.operatorInput).
 */
export type HookNoticeKind = 'chain_cap' | 'notification' | 'stop_failure' | 'prompt_typed';

export interface HookNotice {
  at: string;
  kind: HookNoticeKind;
  session: string;
  title: string;
  message: string;
  /** ntfy priority, 1-5: what the hook used when it pinged. */
  priority: number;
}

export function noticesFile(p: RootPaths): string {
  return path.join(p.state, HOOK_NOTICES_NAME);
}

/** One line for a log or the TUI's result line. */
export function formatNotice(n: HookNotice): string {
  return `hook ${n.session}: ${n.title}: ${clipLine(n.message, 300)}`;
}

/**
 * Appends a notice (one write(2) of one line, O_APPEND). Never creates a relay root that does not exist. Best effort:
 * returns false instead of throwing, since a hook must never fail on its way out.
 */
export function appendNotice(p: RootPaths, n: HookNotice): boolean {
  let ok = false;
  try {
    if (fs.existsSync(p.root)) {
      fs.mkdirSync(p.state, { recursive: true, mode: 0o700 });
      fs.appendFileSync(noticesFile(p), JSON.stringify(n) + '\n', { mode: 0o600 });
      ok = true;
    }
  } catch {
    /* reported by the caller's stderr line */
  }
  return ok;
}

/**
 * For the engine: reads the notices appended since it last looked. Start it at the
 * end of the file (skipExisting) so old notices are not replayed on every start.
 * Only complete lines are consumed; a partial last line waits for the next look.
 */
export class HookNoticeReader {
  private offset = 0;

  constructor(readonly file: string) {}

  skipExisting(): void {
    try {
      this.offset = fs.statSync(this.file).size;
    } catch {
      this.offset = 0;
    }
  }

  readNew(): HookNotice[] {
    let fd: number;
    try {
      // Confined (no link followed, a FIFO never opened blocking); a refused file reads as empty.
      const opened = openFileForRead(this.file);
      if (!opened) throw new Error('missing');
      fd = opened.fd;
    } catch {
      this.offset = 0;
      return [];
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) this.offset = 0; // truncated or replaced
      if (size === this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      const end = buf.subarray(0, n).lastIndexOf(0x0a);
      if (end < 0) return [];
      this.offset += end + 1;
      const out: HookNotice[] = [];
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const v = JSON.parse(line) as HookNotice;
          if (v && typeof v.message === 'string' && typeof v.session === 'string') out.push(v);
        } catch {
          /* a hand edit; skip */
        }
      }
      return out;
    } finally {
      fs.closeSync(fd);
    }
  }
}
