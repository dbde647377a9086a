import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfinementError, kindOf, describeKind, readFileConfined, TooLargeError } from '../../fs/confine.js';
import { fsyncDir, writeAtomic } from '../../fs/atomic.js';
import { envelopeSchema, isCandidateName, type Envelope } from '../../protocol/envelope.js';
import { describeFsError, RootFault } from '../../fs/faults.js';
import { setAside, SUPERSEDED_DIR, type SetAsideReason } from './set-aside.js';

/**
 * queue/: finds envelopes, keeps them in arrival order (mtime, then name), validates
 * each once when it appears, and rejects bad ones to queue/.rejected/ with a .reason.
 * It never deletes an envelope; the relay removes one only once its reply is durable.
 */

/** A file that does not parse yet but is this young may still be being written. */
export const SETTLE_MS = 2000;
const CACHE_MAX_BYTES = 16 * 1024;

export interface QueuedEnvelope {
  name: string;
  mtimeMs: number;
  size: number;
  session: string;
  /** Kept for small envelopes so a turn does not re-read the file. */
  cached?: { envelope: Envelope; key: string };
}

export interface IntakeOptions {
  queueDir: string;
  rejectedDir: string;
  maxBytes: () => number;
  isRegistered: (session: string) => boolean;
  strictSessions: () => boolean;
  now: () => number;
  onRejected: (file: string, reason: string) => void;
  onQueued: (e: QueuedEnvelope) => void;
  /** Called when an unsettled file should be looked at again (after its 2 s). */
  scheduleRetry: (name: string, delayMs: number) => void;
  /** queue/ itself cannot be listed or .rejected/ cannot be written: the root's problem. Once per distinct message. */
  onFault?: (fault: RootFault) => void;
}

type Check =
  | { ok: true; envelope: Envelope; key: string; mtimeMs: number; size: number }
  | { ok: false; reason: string; settle?: number }
  | { gone: true };

export class Intake {
  private entries = new Map<string, QueuedEnvelope>();
  /** Refused entries that could not be moved to .rejected/ (name -> reason): counted, logged once, not queued. */
  private stuck = new Map<string, string>();
  private lastFault: string | null = null;
  rejectedCount = 0;
  lastRejection: { file: string; reason: string; at: string } | null = null;

  constructor(private readonly o: IntakeOptions) {
    try {
      // Not through a link: a .rejected/ that is not a real directory holds nothing of ours.
      if (fs.lstatSync(o.rejectedDir).isDirectory())
        this.rejectedCount = fs.readdirSync(o.rejectedDir).filter((n) => !n.endsWith('.reason') && !n.startsWith('.')).length;
    } catch {
      /* created by ensureLayout */
    }
  }

  /** Full directory listing: at start, on a watcher that could not name the file, and as a slow safety net. */
  rescan(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.o.queueDir);
    } catch (err) {
      this.fault(
        new RootFault(
          this.o.queueDir,
          `cannot list the queue: ${describeFsError(err, this.o.queueDir)}`,
          (err as NodeJS.ErrnoException).code,
        ),
      );
      return;
    }
    const present = new Set(names.filter(isCandidateName));
    for (const name of this.entries.keys()) if (!present.has(name)) this.entries.delete(name);
    for (const name of this.stuck.keys()) {
      if (!present.has(name)) {
        this.stuck.delete(name);
        this.rejectedCount = Math.max(0, this.rejectedCount - 1);
      }
    }
    // A stuck one is tried again: whatever kept it from moving may have been fixed.
    for (const name of present) if (!this.entries.has(name)) this.look(name);
  }

  private fault(f: RootFault): void {
    if (this.lastFault === f.message) return;
    this.lastFault = f.message;
    try {
      this.o.onFault?.(f);
    } catch {
      /* a listener's problem must not become intake's */
    }
  }

  /** One name changed (a watcher event). */
  look(name: string): void {
    if (!isCandidateName(name)) return;
    const file = path.join(this.o.queueDir, name);
    const check = this.check(file);
    if ('gone' in check) {
      this.entries.delete(name);
      return;
    }
    if (!check.ok) {
      this.entries.delete(name);
      if (check.settle !== undefined) this.o.scheduleRetry(name, check.settle);
      else this.reject(name, check.reason);
      return;
    }
    if (this.stuck.delete(name)) this.rejectedCount = Math.max(0, this.rejectedCount - 1);
    const prev = this.entries.get(name);
    if (prev && prev.mtimeMs === check.mtimeMs && prev.size === check.size) return;
    const entry: QueuedEnvelope = {
      name,
      mtimeMs: check.mtimeMs,
      size: check.size,
      session: check.envelope.session_id,
      cached: check.size <= CACHE_MAX_BYTES ? { envelope: check.envelope, key: check.key } : undefined,
    };
    this.entries.set(name, entry);
    if (!prev) this.o.onQueued(entry);
  }

  private check(file: string): Check {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      return { gone: true };
    }
    // Not a regular file: refused, never opened (a FIFO would block, a link would read elsewhere).
    if (!st.isFile()) return { ok: false, reason: `${describeKind(kindOf(st))}; envelopes must be regular files` };
    const max = this.o.maxBytes();
    if (st.size > max) return { ok: false, reason: `is ${st.size} bytes, over limits.max_envelope_bytes (${max})` };
    const young = this.o.now() - st.mtimeMs < SETTLE_MS;
    const settle = () => Math.max(50, Math.ceil(st.mtimeMs + SETTLE_MS - this.o.now()) + 20);
    let raw: Buffer | undefined;
    try {
      raw = readFileConfined(file, { maxBytes: max, limitName: 'limits.max_envelope_bytes' });
    } catch (err) {
      if (err instanceof TooLargeError) return { ok: false, reason: `is ${err.size} bytes, over limits.max_envelope_bytes (${max})` };
      if (err instanceof ConfinementError) {
        const detail = `${describeKind(err.found)}${err.detail ? ` (${err.detail})` : ''}`;
        return { ok: false, reason: `${detail}; envelopes must be regular files the relay can read` };
      }
      return { ok: false, reason: `cannot be read: ${describeFsError(err, file)}` };
    }
    if (raw === undefined) return { gone: true };
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return { ok: false, reason: 'is not valid UTF-8' };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      if (young) return { ok: false, reason: 'incomplete', settle: settle() };
      return { ok: false, reason: `is not valid JSON: ${(err as Error).message}` };
    }
    const parsed = envelopeSchema.safeParse(json);
    if (!parsed.success) {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        return { ok: false, reason: 'is JSON but not an object like {"session_id": "...", "content": "..."}' };
      }
      const issue = parsed.error.issues[0];
      const key = issue.path.join('.') || '(top level)';
      const got = (json as Record<string, unknown>)[issue.path[0] as string];
      const what = issue.code === 'invalid_type' && got === undefined ? 'is missing' : issue.message;
      return {
        ok: false,
        reason: `key ${key}: ${what}${got !== undefined && typeof got !== 'object' ? ` (got ${JSON.stringify(got).slice(0, 80)})` : ''}`,
      };
    }
    const envelope = parsed.data;
    if (this.o.strictSessions() && !this.o.isRegistered(envelope.session_id)) {
      return { ok: false, reason: `key session_id: ${envelope.session_id} is not listed in config.yaml sessions (strict_sessions: true)` };
    }
    const key = `${st.size}:${st.mtimeMs}:${crypto.createHash('sha1').update(raw).digest('hex')}`;
    return { ok: true, envelope, key, mtimeMs: st.mtimeMs, size: st.size };
  }

  /** Re-reads and re-validates at the moment of use: the file on disk is the truth. */
  load(e: QueuedEnvelope): { envelope: Envelope; key: string } | undefined {
    if (e.cached) return e.cached;
    const check = this.check(path.join(this.o.queueDir, e.name));
    if ('gone' in check) {
      this.entries.delete(e.name);
      return undefined;
    }
    if (!check.ok) {
      this.entries.delete(e.name);
      // Rewritten in place since it was found: judge it again once it has settled.
      if (check.settle !== undefined) this.o.scheduleRetry(e.name, check.settle);
      else this.reject(e.name, check.reason);
      return undefined;
    }
    return { envelope: check.envelope, key: check.key };
  }

  /** The oldest envelope whose session may go now (mtime, then name). */
  next(accept: (session: string) => boolean): QueuedEnvelope | undefined {
    let best: QueuedEnvelope | undefined;
    for (const e of this.entries.values()) {
      if (!accept(e.session)) continue;
      if (!best || e.mtimeMs < best.mtimeMs || (e.mtimeMs === best.mtimeMs && e.name < best.name)) best = e;
    }
    return best;
  }

  /**
   * `@session: text` replaced what this session had waiting: each of its envelopes, oldest
   * first, moves to queue/.superseded/ with its reason (set-aside.ts), never to be sent.
   * `skip`: envelopes a recorded turn still owns (commit.ts finishes those). Throws what
   * the file system throws (the operator input is then applied again later).
   */
  supersede(session: string, why: Omit<SetAsideReason, 'kind' | 'name' | 'seq' | 'text' | 'session'>, skip: Set<string>): SetAsideReason[] {
    const mine = [...this.entries.values()]
      .filter((e) => e.session === session && !skip.has(e.name))
      .sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : 1));
    const out: SetAsideReason[] = [];
    for (const e of mine) {
      const loaded = this.load(e);
      const reason: SetAsideReason = {
        ...why,
        session,
        kind: 'envelope',
        name: e.name,
        seq: null,
        text: loaded?.envelope.content.slice(0, 2000) ?? '',
      };
      if (setAside(path.join(this.o.queueDir, e.name), this.supersededDir, e.name, reason)) out.push(reason);
      this.entries.delete(e.name);
    }
    return out;
  }

  get supersededDir(): string {
    return path.join(this.o.queueDir, SUPERSEDED_DIR);
  }

  forget(name: string): void {
    this.entries.delete(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get depth(): number {
    return this.entries.size;
  }

  oldestMtime(): number | null {
    let min: number | null = null;
    for (const e of this.entries.values()) if (min === null || e.mtimeMs < min) min = e.mtimeMs;
    return min;
  }

  sessions(): Set<string> {
    return new Set([...this.entries.values()].map((e) => e.session));
  }

  countFor(session: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.session === session) n++;
    return n;
  }

  /**
   * The reason is written first, so a crash leaves the envelope in queue/ to be judged
   * again, never a bare file in .rejected/. When it cannot be moved (queue/ or .rejected/
   * unwritable, .rejected/ not a real directory), it stays where it is, counted as
   * rejected, reported once, and tried again on the next rescan. Never throws: it runs
   * from the queue watcher.
   */
  reject(name: string, reason: string): void {
    const from = path.join(this.o.queueDir, name);
    this.entries.delete(name);
    const exists = (p: string) => {
      try {
        fs.lstatSync(p);
        return true;
      } catch {
        return false;
      }
    };
    let moved = false;
    let why = '';
    try {
      let target = name;
      const taken = (t: string) => exists(path.join(this.o.rejectedDir, t)) || exists(path.join(this.o.rejectedDir, `${t}.reason`));
      // Two rejections of the same name within one millisecond must not overwrite each other.
      for (let n = 0; taken(target); n++) target = `${Date.now()}${n ? `-${n}` : ''}-${name}`;
      const line = `${new Date(this.o.now()).toISOString()} ${name} ${reason}\n`;
      writeAtomic(path.join(this.o.rejectedDir, `${target}.reason`), line, 0o644);
      try {
        fs.renameSync(from, path.join(this.o.rejectedDir, target));
      } catch (err) {
        fs.rmSync(path.join(this.o.rejectedDir, `${target}.reason`), { force: true });
        throw err;
      }
      fsyncDir(this.o.rejectedDir);
      fsyncDir(this.o.queueDir);
      moved = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !exists(from)) return;
      why = err instanceof ConfinementError ? err.message : describeFsError(err);
    }
    const at = new Date(this.o.now()).toISOString();
    if (moved) {
      if (this.stuck.delete(name)) this.rejectedCount--;
      this.rejectedCount++;
      this.lastRejection = { file: name, reason, at };
      this.safeRejected(name, reason);
      return;
    }
    if (this.stuck.has(name)) return;
    const full = `${reason} (left in queue/: cannot move it to .rejected/: ${why})`;
    this.stuck.set(name, full);
    this.rejectedCount++;
    this.lastRejection = { file: name, reason: full, at };
    this.safeRejected(name, full);
  }

  private safeRejected(name: string, reason: string): void {
    try {
      this.o.onRejected(name, reason);
    } catch {
      /* as in fault() */
    }
  }
}
