import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, unlinkDurable, writeAtomic } from '../adapters/fs-atomic.js';
import type { OperatorSource } from './operator.js';

/**
 * Operator input waiting to be applied, durable: state/inbox/<stamp>-<source>.txt.
 * jc_input.txt is claimed into it by rename, `relay-tui say` and the TUI write into
 * it directly, so nothing typed is lost to a kill -9 and nothing overwrites anything.
 * A file leaves the inbox only once its effect is durable.
 */

export interface InboxItem {
  id: string;
  source: OperatorSource;
  text: string;
}

const SOURCES: OperatorSource[] = ['tui', 'file', 'cli', 'ntfy', 'hook'];
let last = 0;

function stamp(): string {
  last = Math.max(last + 1, Date.now() * 1000);
  return String(last).padStart(17, '0');
}

/** `tag` carries an outside id (the ntfy message id) so a redelivered message can be recognised. */
export function inboxName(source: OperatorSource, tag?: string): string {
  return `${stamp()}-${process.pid}-${tag ? `${tag}-` : ''}${source}`;
}

export function inboxTag(id: string): string | undefined {
  const parts = id.split('-');
  return parts.length >= 4 ? parts[parts.length - 2] : undefined;
}

/** Used by `relay-tui say` (another process) as well as the relay. */
export function writeInbox(dir: string, text: string, source: OperatorSource, tag?: string): string {
  const id = inboxName(source, tag);
  writeAtomic(path.join(dir, `${id}.txt`), text, 0o600);
  return id;
}

export function parseInboxName(name: string): { id: string; source: OperatorSource } | undefined {
  if (!name.endsWith('.txt') || name.startsWith('.')) return undefined;
  const id = name.slice(0, -4);
  const source = id.split('-').pop() as OperatorSource;
  return SOURCES.includes(source) ? { id, source } : undefined;
}

export class Inbox {
  constructor(
    readonly dir: string,
    readonly jcInput: string,
  ) {}

  /** Moves state/jc_input.txt into the inbox (atomic rename: consumed exactly once). */
  claimJcInput(): string | undefined {
    const id = inboxName('file');
    try {
      fs.renameSync(this.jcInput, path.join(this.dir, `${id}.txt`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    fsyncDir(this.dir);
    fsyncDir(path.dirname(this.jcInput));
    return id;
  }

  add(text: string, source: OperatorSource, tag?: string): string {
    return writeInbox(this.dir, text, source, tag);
  }

  list(): InboxItem[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).sort();
    } catch {
      return [];
    }
    const out: InboxItem[] = [];
    for (const name of names) {
      const parsed = parseInboxName(name);
      if (!parsed) continue;
      try {
        out.push({ ...parsed, text: fs.readFileSync(path.join(this.dir, name), 'utf8') });
      } catch {
        /* removed meanwhile */
      }
    }
    return out;
  }

  remove(id: string): void {
    unlinkDurable(path.join(this.dir, `${id}.txt`));
  }
}
