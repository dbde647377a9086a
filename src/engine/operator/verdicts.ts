import fs from 'node:fs';
import path from 'node:path';
import { ensureDir } from '../../fs/confine.js';
import { writeAtomic } from '../../fs/atomic.js';

/**
 * state/operator-results/<input-id>.json: what the relay made of one operator input
 * ({ ok, message }), written atomically once it is applied, so that `relay-tui say`
 * (another process) can tell its caller the truth and exit non-zero on a refusal.
 * Housekeeping removes the ones older than VERDICT_KEEP_MS.
 */

export const VERDICT_KEEP_MS = 10 * 60_000;

export function operatorResultsDir(p: { state: string }): string {
  return path.join(p.state, 'operator-results');
}

export interface Verdict {
  ok: boolean;
  message: string;
  at: string;
}

export function verdictFile(dir: string, inputId: string): string {
  return path.join(dir, `${inputId}.json`);
}

/** Best effort: a verdict that cannot be written leaves `say` saying it could not learn the outcome. */
export function writeVerdict(dir: string, inputId: string, r: { ok: boolean; message: string }, at: string): void {
  try {
    ensureDir(dir, 0o700);
    writeAtomic(verdictFile(dir, inputId), JSON.stringify({ ok: r.ok, message: r.message, at } satisfies Verdict), 0o600);
  } catch {
    /* the effect is applied and audited; only the caller's answer is lost */
  }
}

/** Removes verdicts older than VERDICT_KEEP_MS (by mtime). Never throws. */
export function pruneVerdicts(dir: string, now: number): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return;
  }
  for (const n of names) {
    const f = path.join(dir, n);
    try {
      if (now - fs.lstatSync(f).mtimeMs > VERDICT_KEEP_MS) fs.rmSync(f, { force: true });
    } catch {
      /* gone already */
    }
  }
}

/** The verdict if it is there and well formed. */
export function readVerdict(dir: string, inputId: string): Verdict | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(verdictFile(dir, inputId), 'utf8')) as Partial<Verdict>;
    if (typeof v.ok === 'boolean' && typeof v.message === 'string') return { ok: v.ok, message: v.message, at: String(v.at ?? '') };
  } catch {
    /* not there yet, or half a file from another writer: not a verdict */
  }
  return undefined;
}
