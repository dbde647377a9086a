import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readJson, unlinkDurable, writeAtomic, writeAtomicExclusive } from '../../fs/atomic.js';
import { sessionDispatchDir, sessionInputFile, type RootPaths } from '../../protocol/root.js';
import { isLive, type ProcId } from './proc.js';

/**
 * Exactly-once delivery of dispatch/<session>/input.txt by Claude Code hooks.
 *
 * The relay treats the deletion of input.txt as the ack, so a hook must not delete it
 * before the session has the reply. A hook *claims* it instead: link(2) of input.txt
 * to dispatch/<session>/.claim, which fails with EEXIST when another hook holds the
 * claim, so one hook wins and input.txt stays. The claim record
 * (state/hooks/<session>.claim.json) says who holds it and for which Claude Code.
 *
 *   claim   -> hand over (Stop hook: print the block decision; waiter: exit 2)
 *   ack     -> the session has it: delete input.txt (the relay's ack), then the claim
 *   release -> it did not get there: drop the claim, input.txt stays for the next hook
 *
 * A claim whose holder and whose Claude Code are both gone is stale and dropped by
 * the next hook that looks, so a reply is never lost to a hook that died with it.
 */

export interface ClaimRecord {
  nonce: string;
  /** The inode of input.txt when it was claimed: a newer reply is not covered by an old claim. */
  ino: number;
  owner: ProcId;
  cc?: ProcId;
  at: string;
  /** 'stop': printed as the Stop hook's decision; 'wake': handed to Claude Code's asyncRewake. */
  via: 'stop' | 'wake';
}

export interface Claimed {
  record: ClaimRecord;
  text: string;
}

/** A claim file with no record yet is a claimer between its two steps; older than this, it died there. */
const UNRECORDED_GRACE_MS = 10_000;

export function hooksDir(p: RootPaths): string {
  return path.join(p.state, 'hooks');
}

/** The session's dispatch folder, laid out by protocol/root.ts like everyone else's. */
export const sessionDir = sessionDispatchDir;

const inputPath = sessionInputFile;
const claimPath = (p: RootPaths, s: string) => path.join(sessionDir(p, s), '.claim');
export const claimRecordPath = (p: RootPaths, s: string) => path.join(hooksDir(p), `${s}.claim.json`);

function ensureDirs(p: RootPaths, session: string): void {
  fs.mkdirSync(hooksDir(p), { recursive: true, mode: 0o700 });
  fs.mkdirSync(sessionDir(p, session), { recursive: true });
}

/** A regular file's inode, or undefined (absent, or not a regular file: never followed). */
function regularIno(file: string): number | undefined {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  return st?.isFile() ? st.ino : undefined;
}

export function readClaim(p: RootPaths, session: string): ClaimRecord | undefined {
  const r = readJson<ClaimRecord>(claimRecordPath(p, session));
  return r && typeof r.nonce === 'string' && typeof r.ino === 'number' ? r : undefined;
}

function isStale(p: RootPaths, session: string, inputIno: number | undefined): boolean {
  const claimSt = fs.lstatSync(claimPath(p, session), { throwIfNoEntry: false });
  if (!claimSt) return false;
  if (!claimSt.isFile() || claimSt.ino !== inputIno) return true;
  const rec = readClaim(p, session);
  if (!rec || rec.ino !== claimSt.ino) return Date.now() - claimSt.ctimeMs > UNRECORDED_GRACE_MS;
  // A Stop hook acks right after printing: once it is gone, so is its claim.
  if (rec.via === 'stop') return !isLive(rec.owner);
  // Handed to a Claude Code that is still running: its woken turn may be queued behind a long one.
  return !isLive(rec.owner) && !isLive(rec.cc);
}

function dropClaimFiles(p: RootPaths, session: string): void {
  fs.rmSync(claimPath(p, session), { force: true });
  fs.rmSync(claimRecordPath(p, session), { force: true });
}

/** Is the reply in input.txt claimed by a live hook (so another must leave it alone)? */
export function claimHeld(p: RootPaths, session: string): boolean {
  const ino = regularIno(inputPath(p, session));
  if (ino === undefined) return false;
  if (!fs.existsSync(claimPath(p, session))) return false;
  return !isStale(p, session, ino);
}

/**
 * Claims the reply in input.txt. Undefined when there is none, or another live hook
 * holds it. A stale claim is dropped and taken over.
 */
export function claimReply(
  p: RootPaths,
  session: string,
  who: { owner: ProcId; cc?: ProcId; via: ClaimRecord['via'] },
): Claimed | undefined {
  ensureDirs(p, session);
  const input = inputPath(p, session);
  const claim = claimPath(p, session);
  for (let attempt = 0; attempt < 2; attempt++) {
    const ino = regularIno(input);
    if (ino === undefined) return undefined;
    try {
      fs.linkSync(input, claim);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined; // acked meanwhile
      if (code !== 'EEXIST') throw err;
      if (!isStale(p, session, ino)) return undefined;
      dropClaimFiles(p, session);
      continue;
    }
    // input.txt may have been replaced between the stat and the link: the claim must be of what is there now.
    const claimedIno = regularIno(claim);
    if (claimedIno === undefined || claimedIno !== regularIno(input)) {
      fs.rmSync(claim, { force: true });
      return undefined;
    }
    const record: ClaimRecord = {
      nonce: crypto.randomBytes(6).toString('hex'),
      ino: claimedIno,
      owner: who.owner,
      ...(who.cc ? { cc: who.cc } : {}),
      at: new Date().toISOString(),
      via: who.via,
    };
    writeAtomic(claimRecordPath(p, session), JSON.stringify(record) + '\n', 0o600);
    return { record, text: fs.readFileSync(claim, 'utf8') };
  }
  return undefined;
}

/** The session has the reply: delete input.txt (the relay's ack), then the claim. */
export function ackClaim(p: RootPaths, session: string, nonce: string): boolean {
  const rec = readClaim(p, session);
  if (!rec || rec.nonce !== nonce) return false;
  if (regularIno(inputPath(p, session)) === rec.ino) unlinkDurable(inputPath(p, session));
  if (regularIno(claimPath(p, session)) === rec.ino) fs.rmSync(claimPath(p, session), { force: true });
  fs.rmSync(claimRecordPath(p, session), { force: true });
  return true;
}

/** The reply did not get there: input.txt stays for the next hook. */
export function releaseClaim(p: RootPaths, session: string, nonce: string): void {
  const rec = readClaim(p, session);
  if (!rec || rec.nonce !== nonce) return;
  if (regularIno(claimPath(p, session)) === rec.ino) fs.rmSync(claimPath(p, session), { force: true });
  fs.rmSync(claimRecordPath(p, session), { force: true });
}

// ------------------------------------------------------------------ wakes that never came

/**
 * The waiter's hand-over is an exit 2 that Claude Code turns into the session's next
 * prompt, and it does so only when the session is idle: handed over while Claude Code is
 * busy with another turn, it queues. The claim stays until the woken prompt's
 * UserPromptSubmit hook acks it, so a Stop hook of that busy turn found it held and
 * waited behind it for its whole window (issue 23: a Stop hook waiting 540 s behind a
 * claim of a turn that no longer existed).
 *
 * A wake claim of this same Claude Code whose waiter has exited, seen by a hook of a
 * *new* turn (a Stop, a typed prompt), is such a queued wake: had the woken prompt run,
 * its prompt hook would have acked it. That hook revokes it: the claim is released (the
 * reply goes to the turn at hand) and its nonce is remembered, so that when Claude Code
 * gets to the queued prompt, the prompt hook blocks it instead of handing the same reply
 * over twice.
 */
export function queuedWake(p: RootPaths, session: string, cc: ProcId | undefined): ClaimRecord | undefined {
  if (!cc) return undefined;
  const rec = readClaim(p, session);
  if (!rec || rec.via !== 'wake' || !rec.cc) return undefined;
  if (rec.cc.pid !== cc.pid || rec.cc.start !== cc.start) return undefined;
  if (isLive(rec.owner)) return undefined; // the waiter is still between its claim and its exit
  const claimSt = fs.lstatSync(claimPath(p, session), { throwIfNoEntry: false });
  return claimSt?.isFile() && claimSt.ino === rec.ino ? rec : undefined;
}

/** The last nonces set aside (revoked) or acked by a remote waiter's far half (delivered), per session. */
type NonceList = 'revoked' | 'delivered';
const listPath = (p: RootPaths, s: string, which: NonceList) => path.join(hooksDir(p), `${s}.${which}.json`);
const LIST_KEEP = 32;

function remember(p: RootPaths, session: string, which: NonceList, nonce: string): void {
  const list = readList(p, session, which).filter((n) => n !== nonce);
  list.push(nonce);
  fs.mkdirSync(hooksDir(p), { recursive: true, mode: 0o700 });
  writeAtomic(listPath(p, session, which), JSON.stringify(list.slice(-LIST_KEEP)) + '\n', 0o600);
}

function readList(p: RootPaths, session: string, which: NonceList): string[] {
  const r = readJson<unknown>(listPath(p, session, which));
  return Array.isArray(r) ? r.filter((n): n is string => typeof n === 'string') : [];
}

/** Releases the claim and remembers its nonce as set aside (see queuedWake). */
export function revokeClaim(p: RootPaths, session: string, nonce: string): void {
  remember(p, session, 'revoked', nonce);
  releaseClaim(p, session, nonce);
}

export function isRevoked(p: RootPaths, session: string, nonce: string): boolean {
  return readList(p, session, 'revoked').includes(nonce);
}

/**
 * A remote waiter's far half acks at the client's "take" (wait-far.ts), before the woken
 * prompt comes: its UserPromptSubmit hook then finds the nonce here, already confirmed.
 */
export function rememberDelivered(p: RootPaths, session: string, nonce: string): void {
  remember(p, session, 'delivered', nonce);
}

export function wasDelivered(p: RootPaths, session: string, nonce: string): boolean {
  return readList(p, session, 'delivered').includes(nonce);
}

/**
 * What a woken prompt carrying `nonce` delivers: 'current' (its claim stands, the reply is
 * still in input.txt), 'withdrawn' (revoked, or the relay took the reply back from
 * input.txt: it must not reach the model), or 'unknown' (no such claim; left alone, as
 * before).
 */
export function deliveryState(p: RootPaths, session: string, nonce: string): 'current' | 'withdrawn' | 'unknown' {
  if (isRevoked(p, session, nonce)) return 'withdrawn';
  const rec = readClaim(p, session);
  if (!rec || rec.nonce !== nonce) return 'unknown';
  return regularIno(inputPath(p, session)) === rec.ino ? 'current' : 'withdrawn';
}

// ------------------------------------------------------------------ who is waiting

/**
 * A small lock file naming a live process: the one async waiter per session, and the
 * marker a windowed Stop hook holds while it waits (the waiter leaves a reply to it:
 * a wake queued behind a Stop hook that is still waiting would come only after that
 * hook's whole window).
 */
export interface Holder {
  owner: ProcId;
  cc?: ProcId;
  at: string;
}

export const waiterLockPath = (p: RootPaths, s: string) => path.join(hooksDir(p), `${s}.waiter.json`);
export const stopMarkerPath = (p: RootPaths, s: string) => path.join(hooksDir(p), `${s}.stop-wait.json`);

function liveHolder(file: string, needCc: boolean): Holder | undefined {
  const h = readJson<Holder>(file);
  if (!h?.owner || !isLive(h.owner)) return undefined;
  if (needCc && h.cc && !isLive(h.cc)) return undefined;
  return h;
}

/**
 * Takes the lock when nobody live holds it (a holder whose Claude Code is gone counts as
 * gone), or when `outdated` says the live holder serves something that is over: the lock
 * is then rewritten with `me`, and the old holder, which checks `holdsLock`, stands down.
 */
export function takeHolderLock(file: string, me: Holder, outdated?: (h: Holder) => boolean): (() => void) | undefined {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const body = JSON.stringify(me) + '\n';
  const release = () => {
    if (holdsLock(file, me)) fs.rmSync(file, { force: true });
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (writeAtomicExclusive(file, body, 0o600)) return release;
    const live = liveHolder(file, true);
    if (live && !outdated?.(live)) return undefined;
    if (live) {
      writeAtomic(file, body, 0o600);
      return release;
    }
    fs.rmSync(file, { force: true });
  }
  return undefined;
}

export function holdsLock(file: string, me: Holder): boolean {
  const h = readJson<Holder>(file);
  return h?.owner?.pid === me.owner.pid && h.owner.start === me.owner.start && h.at === me.at;
}

/** The windowed Stop hook says it is waiting; any number of them may say so, the last one wins the file. */
export function markStopWaiting(p: RootPaths, session: string, me: Holder): () => void {
  const file = stopMarkerPath(p, session);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeAtomic(file, JSON.stringify(me) + '\n', 0o600);
  return () => {
    const h = readJson<Holder>(file);
    if (h?.owner?.pid === me.owner.pid && h.owner.start === me.owner.start) fs.rmSync(file, { force: true });
  };
}

export function stopHookWaiting(p: RootPaths, session: string): boolean {
  return !!liveHolder(stopMarkerPath(p, session), true);
}
