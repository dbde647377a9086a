import type { AuditEntry } from './audit.js';
import { readJsonlBackward } from '../../fs/jsonl-tail.js';

/**
 * What reached a session besides the turns: the operator's own dispatches
 * (`@session: text`), what became of a held reply, and what a dispatch superseded
 * (an envelope or an undelivered reply set aside: never sent, never delivered). Not API turns, so they are kept
 * out of the conversation (the guard, the ledger and summarization count its records):
 * the audit log is their durable record, written as they happen; the views' notes are
 * rebuilt from it at start and paged from it on scroll-back.
 */

export type ConversationNote =
  | { kind: 'dispatch'; id: string; at: string; afterSeq: number; session: string; text: string; source: string }
  | { kind: 'outcome'; id: string; at: string; seq: number; how: 'approved' | 'dropped' | 'replaced'; session: string; source: string }
  /** Shown as `[not sent: superseded by your message to SESSION]`. */
  | {
      kind: 'superseded';
      id: string;
      at: string;
      afterSeq: number;
      session: string;
      what: 'envelope' | 'reply';
      /** The turn of a set-aside reply. */
      seq: number | null;
      text: string;
      source: string;
    };

export const NOTES_MAX = 200;

const DISPATCH_RE = /^@([^\s:]+):\s*([\s\S]*)$/;
const HELD_RE = /^(\S+) turn (\d+)(?:: ([\s\S]*))?$/;
const SUPERSEDED_RE = /^(\S+) (envelope|reply) \S+(?: turn (\d+))?:/;

/** The note an audit entry records, if any. `afterSeq`: the last turn when it happened. */
export function noteFromAudit(e: AuditEntry, afterSeq: number): ConversationNote | null {
  const id = `${e.at}|${e.action}|${e.input_id ?? e.detail ?? ''}`;
  if (e.action === 'dispatch' && e.text) {
    const d = DISPATCH_RE.exec(e.text);
    if (!d) return null;
    return { kind: 'dispatch', id, at: e.at, afterSeq, session: d[1], text: d[2], source: e.source };
  }
  if (e.action === 'superseded' && e.detail) {
    const m = SUPERSEDED_RE.exec(e.detail);
    if (!m) return null;
    const what = m[2] as 'envelope' | 'reply';
    return {
      kind: 'superseded',
      id,
      at: e.at,
      afterSeq,
      session: m[1],
      what,
      seq: m[3] ? Number(m[3]) : null,
      text: e.text ?? '',
      source: e.source,
    };
  }
  if ((e.action === 'held-approved' || e.action === 'held-dropped') && e.detail) {
    const h = HELD_RE.exec(e.detail);
    if (!h) return null;
    // A held reply dropped because the operator answered or wrote to the session instead was replaced, not merely dropped.
    const how = e.action === 'held-approved' ? 'approved' : h[3] ? 'replaced' : 'dropped';
    return { kind: 'outcome', id, at: e.at, seq: Number(h[2]), how, session: h[1], source: e.source };
  }
  return null;
}

/** The turn a note at `at` follows: the last of `turns` (ascending) at or before it; before them all, the one before the first. */
export function seqAt(turns: readonly { seq: number; at: string }[], at: string): number {
  let seq = turns.length ? turns[0].seq - 1 : 0;
  for (const t of turns) {
    if (t.at > at) break;
    seq = t.seq;
  }
  return seq;
}

/**
 * The notes in the audit log from `sinceAt` on (ISO times compare as strings), at most
 * `limit` of the newest, oldest first; `untilAt` excludes later ones. afterSeq from `turns`.
 * An unreadable audit log yields none: the notes are a view, never a reason to fail.
 */
export function readNotes(
  auditFile: string,
  o: { sinceAt: string | null; untilAt?: string; limit: number; turns: readonly { seq: number; at: string }[] },
): ConversationNote[] {
  const out: ConversationNote[] = [];
  try {
    readJsonlBackward<AuditEntry>(auditFile, (e) => {
      if (typeof e?.at !== 'string') return true;
      if (o.sinceAt !== null && e.at < o.sinceAt) return false;
      if (o.untilAt !== undefined && e.at > o.untilAt) return true;
      const n = noteFromAudit(e, seqAt(o.turns, e.at));
      if (n) out.push(n);
      return out.length < o.limit;
    });
  } catch {
    return [];
  }
  return out.reverse();
}
