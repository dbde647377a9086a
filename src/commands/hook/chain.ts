import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeAtomic } from '../../fs/atomic.js';
import type { RootPaths } from '../../protocol/root.js';
import { hooksDir } from './claim.js';

/**
 * The chain cap's bookkeeping. The relay counts a session's hook-delivered turns
 * (status.json sessions[ID].hook_chain) and resets the count on operator input at the
 * relay. A prompt the human types into Claude Code is operator input too, but only the
 * hooks see it, so they keep a baseline per session, state/hooks/<session>.json, and
 * count from there. The UserPromptSubmit hook also records what started the current
 * turn: a typed prompt starts a new chain, a reply handed over by the background waiter
 * continues the old one (its Stop comes with stop_hook_active false all the same).
 */

export interface SessionRecord {
  chain_base: number;
  last_prompt?: 'typed' | 'wake';
  prompt_at?: string;
  /** When a Stop hook last handed a reply over: the turn went on, so no idle time followed that Stop. */
  continued_at?: string;
  at?: string;
}

export function recordFile(p: RootPaths, session: string): string {
  return path.join(hooksDir(p), `${session}.json`);
}

export function readRecord(p: RootPaths, session: string): SessionRecord {
  const r = readJson<Partial<SessionRecord>>(recordFile(p, session));
  return {
    chain_base: typeof r?.chain_base === 'number' && Number.isFinite(r.chain_base) ? r.chain_base : 0,
    ...(r?.last_prompt === 'typed' || r?.last_prompt === 'wake' ? { last_prompt: r.last_prompt } : {}),
    ...(typeof r?.prompt_at === 'string' ? { prompt_at: r.prompt_at } : {}),
    ...(typeof r?.continued_at === 'string' ? { continued_at: r.continued_at } : {}),
  };
}

/**
 * When the session last did something that ends the idle time after a Stop: a prompt
 * (typed, or a wake) or a Stop hook's hand-over. A late-reply waiter started before it
 * serves a turn that is over. 0 when nothing is known.
 */
export function lastActivityMs(rec: SessionRecord): number {
  const t = (s: string | undefined) => (s ? Date.parse(s) || 0 : 0);
  return Math.max(t(rec.prompt_at), t(rec.continued_at));
}

export function markContinued(p: RootPaths, session: string): void {
  writeRecord(p, session, { ...readRecord(p, session), continued_at: new Date().toISOString() });
}

/** Best effort: without a record the count is the relay's own, stricter, never looser. */
export function writeRecord(p: RootPaths, session: string, rec: SessionRecord): void {
  try {
    fs.mkdirSync(hooksDir(p), { recursive: true, mode: 0o700 });
    writeAtomic(recordFile(p, session), JSON.stringify({ ...rec, at: new Date().toISOString() }) + '\n', 0o600);
  } catch {
    /* see above */
  }
}

export function chainCount(relayChain: number, base: number): { count: number; base: number } {
  // The relay's count went down: operator input at the relay reset it.
  if (relayChain < base) return { count: relayChain, base: 0 };
  return { count: relayChain - base, base };
}

/**
 * The relay's count, through status.json's one reader and schema (protocol/status.ts),
 * imported on demand: only the hooks that need the count pay for the schema. No
 * status.json, or one that is not a status, counts as 0, as a relay that never ran.
 */
export async function readRelayChain(p: RootPaths, session: string): Promise<number> {
  const { readStatus } = await import('../../protocol/status.js');
  let n: number | undefined;
  try {
    n = readStatus(p)?.sessions[session]?.hook_chain;
  } catch {
    n = undefined;
  }
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

/** The human typed a prompt: hook-delivered turns count from here. */
export async function startNewChain(p: RootPaths, session: string, via: 'typed'): Promise<void> {
  writeRecord(p, session, { chain_base: await readRelayChain(p, session), last_prompt: via, prompt_at: new Date().toISOString() });
}

export function markWakeTurn(p: RootPaths, session: string): void {
  const rec = readRecord(p, session);
  writeRecord(p, session, { ...rec, last_prompt: 'wake', prompt_at: new Date().toISOString() });
}
