import fs from 'node:fs';
import path from 'node:path';
import { checkDir, ensureDir } from '../../fs/confine.js';
import { fsyncDir, writeAtomic } from '../../fs/atomic.js';

/**
 * Moving a file out of a mailbox because the operator's own message replaced it
 * (`@session: text`): queue/NAME -> queue/.superseded/NAME, state/outbox/<s>/NAME ->
 * state/outbox/.superseded/<s>-NAME. The reason is written first, naming the operator
 * input that superseded it, so a kill -9 leaves either the file where it was (to be
 * set aside again when the input is re-applied) or the file and its reason side by
 * side: never a moved file nobody can account for. Once moved, nothing reads it again.
 */

export const SUPERSEDED_DIR = '.superseded';

export interface SetAsideReason {
  /** The operator input that superseded it. */
  input_id: string;
  session: string;
  /** What it was: an envelope from queue/, or a reply waiting in the outbox. */
  kind: 'envelope' | 'reply';
  /** The file's name where it was. */
  name: string;
  at: string;
  /** The reply's turn (outbox ids are t<seq>), when it is one. */
  seq: number | null;
  /** The start of its text, for the audit log and the notes. */
  text: string;
}

/** lstat, not stat: a link is a name that is taken, never followed. */
function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function taken(dir: string, name: string): boolean {
  return exists(path.join(dir, name)) || exists(path.join(dir, `${name}.reason`));
}

/**
 * Moves `from` into `toDir` as `name` (or a free variant), its reason beside it.
 * Returns false when `from` is already gone (set aside or consumed by a run that died).
 * Throws what the file system throws: the caller's fault path decides whose fault it is.
 */
export function setAside(from: string, toDir: string, name: string, reason: SetAsideReason): boolean {
  if (!exists(from)) return false;
  if (!checkDir(toDir)) ensureDir(toDir, 0o700);
  let target = name;
  for (let n = 1; taken(toDir, target); n++) target = `${name}.${n}`;
  writeAtomic(path.join(toDir, `${target}.reason`), `${JSON.stringify(reason)}\n`, 0o600);
  try {
    fs.renameSync(from, path.join(toDir, target));
  } catch (err) {
    fs.rmSync(path.join(toDir, `${target}.reason`), { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  fsyncDir(toDir);
  fsyncDir(path.dirname(from));
  return true;
}

export type ReplyWhy = Pick<SetAsideReason, 'input_id' | 'at'>;

/** An outbox reply (state/outbox/<session>/NAME, id t<seq> for a turn's) set aside as <session>-NAME. */
export function setAsideReply(from: string, toDir: string, session: string, name: string, why: ReplyWhy): SetAsideReason | null {
  let text = '';
  try {
    text = fs.readFileSync(from, 'utf8').slice(0, 2000);
  } catch {
    /* gone: setAside says so */
  }
  const seq = /^t(\d+)$/.exec(name.slice(name.indexOf('-') + 1, -4));
  const reason: SetAsideReason = { ...why, session, kind: 'reply', name, seq: seq ? Number(seq[1]) : null, text };
  return setAside(from, toDir, `${session}-${name}`, reason) ? reason : null;
}

/** What earlier applications of this input already set aside (a re-apply after a crash reports them too). */
export function setAsideBy(dir: string, inputId: string): SetAsideReason[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.reason'));
  } catch {
    return [];
  }
  const out: SetAsideReason[] = [];
  for (const n of names) {
    try {
      const r = JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as SetAsideReason;
      // The file beside it must be there: a reason left by a rename that never happened is not a set-aside.
      if (r.input_id === inputId && exists(path.join(dir, n.slice(0, -'.reason'.length)))) out.push(r);
    } catch {
      /* not ours, or half written by a crash: ignored */
    }
  }
  return out;
}
