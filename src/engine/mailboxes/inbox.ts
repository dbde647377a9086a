import fs from 'node:fs';
import path from 'node:path';
import { ConfinementError, describeKind, ensureDir, kindOf, readFileConfined, TooLargeError } from '../../fs/confine.js';
import { fsyncDir, unlinkDurable, writeAtomic } from '../../fs/atomic.js';
import { describeFsError, RootFault } from '../../fs/faults.js';
import type { OperatorSource } from '../kernel/source.js';

/**
 * Operator input waiting to be applied, durable: state/inbox/<stamp>-<source>.txt.
 * jc_input.txt is claimed into it by rename, `relay-tui say` and the TUI write into
 * it directly, so nothing typed is lost to a kill -9 and nothing overwrites anything.
 * A file leaves the inbox only once its effect is durable.
 *
 * Confinement: jc_input.txt and every inbox file must be a regular file, at most
 * limits.max_operator_input_bytes. Anything else (a link, a FIFO, a directory, an
 * unreadable or oversized file) is never opened for its content: it is moved to
 * state/rejected-input/NAME with NAME.reason, reported through onRefused, and never
 * sent. claimJcInput() and list() never throw (the relay calls them from watchers);
 * a failure of state/ itself goes to onFault as a RootFault.
 */

export const DEFAULT_MAX_OPERATOR_INPUT_BYTES = 262_144;

export interface InboxOptions {
  /** Where refused input is set aside; default state/rejected-input/ (beside DIR). */
  rejectedDir?: string;
  maxBytes?: () => number;
  onRefused?: (file: string, reason: string) => void;
  onFault?: (fault: RootFault) => void;
}

/** Used by `say` before writing, and by the relay on every read: one wording for both. */
export function operatorInputTooLarge(bytes: number, max: number): string | undefined {
  return bytes > max ? `is ${bytes} bytes, over limits.max_operator_input_bytes (${max}); not sent` : undefined;
}

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
  readonly rejectedDir: string;
  /** Refused names that could not be moved aside: reported once, skipped after. */
  private stuck = new Set<string>();
  private lastFault: string | null = null;

  constructor(
    readonly dir: string,
    readonly jcInput: string,
    private readonly o: InboxOptions = {},
  ) {
    this.rejectedDir = o.rejectedDir ?? path.join(path.dirname(dir), 'rejected-input');
  }

  private max(): number {
    return this.o.maxBytes?.() ?? DEFAULT_MAX_OPERATOR_INPUT_BYTES;
  }

  private fault(err: unknown, where: string): void {
    const f =
      err instanceof RootFault
        ? err
        : new RootFault(
            where,
            err instanceof ConfinementError ? err.message : describeFsError(err, where),
            (err as NodeJS.ErrnoException)?.code,
          );
    if (this.lastFault === f.message) return;
    this.lastFault = f.message;
    try {
      this.o.onFault?.(f);
    } catch {
      /* a listener's problem must not become the inbox's */
    }
  }

  /** Why `file` cannot be operator input, or undefined when it is a regular file within the limit. */
  private refusal(file: string): string | undefined {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : `cannot be examined: ${describeFsError(err, file)}`;
    }
    if (!st.isFile()) return `${describeKind(kindOf(st))}; operator input must be a regular file; not read`;
    return operatorInputTooLarge(st.size, this.max());
  }

  /** Moves a refused file aside with its reason (rename: never opens it). False when it could not be moved. */
  private setAside(file: string, reason: string): boolean {
    const name = path.basename(file);
    const line = `${new Date().toISOString()} ${file} ${reason}\n`;
    const target = `${stamp()}-${name}`;
    try {
      ensureDir(this.rejectedDir, 0o700);
      writeAtomic(path.join(this.rejectedDir, `${target}.reason`), line, 0o600);
      fs.renameSync(file, path.join(this.rejectedDir, target));
      fsyncDir(this.rejectedDir);
      fsyncDir(path.dirname(file));
    } catch (err) {
      if (this.stuck.has(file)) return false;
      this.stuck.add(file);
      this.refused(file, `${reason} (cannot move it aside: ${err instanceof ConfinementError ? err.message : describeFsError(err)})`);
      return false;
    }
    this.stuck.delete(file);
    this.refused(file, `${reason} (moved to ${path.join(this.rejectedDir, target)})`);
    return true;
  }

  private refused(file: string, reason: string): void {
    try {
      this.o.onRefused?.(file, reason);
    } catch {
      /* as in fault() */
    }
  }

  /**
   * Moves state/jc_input.txt into the inbox (atomic rename: consumed exactly once).
   * A jc_input.txt that is not a regular file within the limit is set aside instead.
   */
  claimJcInput(): string | undefined {
    const why = this.refusal(this.jcInput);
    if (why) {
      this.setAside(this.jcInput, why);
      return undefined;
    }
    const id = inboxName('file');
    try {
      fs.renameSync(this.jcInput, path.join(this.dir, `${id}.txt`));
      fsyncDir(this.dir);
      fsyncDir(path.dirname(this.jcInput));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fault(err, this.jcInput);
      return undefined;
    }
    return id;
  }

  /** Throws RootFault when the inbox cannot be written (disk full, state/ unwritable). */
  add(text: string, source: OperatorSource, tag?: string): string {
    try {
      return writeInbox(this.dir, text, source, tag);
    } catch (err) {
      throw new RootFault(
        this.dir,
        err instanceof ConfinementError ? err.message : describeFsError(err, this.dir),
        (err as NodeJS.ErrnoException)?.code,
      );
    }
  }

  /** The inbox in name order; anything refused is set aside and left out. Never throws. */
  list(): InboxItem[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fault(err, this.dir);
      return [];
    }
    const out: InboxItem[] = [];
    for (const name of names) {
      const parsed = parseInboxName(name);
      if (!parsed) continue;
      const file = path.join(this.dir, name);
      if (this.stuck.has(file)) continue;
      const max = this.max();
      try {
        const buf = readFileConfined(file, { maxBytes: max, limitName: 'limits.max_operator_input_bytes' });
        if (buf !== undefined) out.push({ ...parsed, text: buf.toString('utf8') });
      } catch (err) {
        if (err instanceof TooLargeError) this.setAside(file, operatorInputTooLarge(err.size, max)!);
        else if (err instanceof ConfinementError)
          this.setAside(
            file,
            `${describeKind(err.found)}${err.detail ? ` (${err.detail})` : ''}; operator input must be a regular file; not read`,
          );
        else this.setAside(file, `cannot be read: ${describeFsError(err, file)}`);
      }
    }
    return out;
  }

  /** Throws RootFault when it cannot be removed (the input would be applied again after a restart). */
  remove(id: string): void {
    const file = path.join(this.dir, `${id}.txt`);
    try {
      unlinkDurable(file);
    } catch (err) {
      throw new RootFault(file, describeFsError(err, file), (err as NodeJS.ErrnoException).code);
    }
  }
}
