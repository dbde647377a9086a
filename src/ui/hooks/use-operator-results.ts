import { useCallback, useEffect, useRef, useState } from 'react';
import type { RelayLike } from '../../engine/api.js';

export interface ResultInfo {
  ok: boolean;
  message: string;
  /** What was typed, or where it came from. */
  input?: string;
  source?: string;
  /** 'warn' / 'error' for engine log lines, and for a command that did only part of what it says. */
  level?: 'warn' | 'error';
}

export interface ShownResult extends ResultInfo {
  at: number;
  /** The relay's state when it was shown: a result stops applying when that changes. */
  state: string;
}

/** How long a result stays: errors longer, since the operator may have looked away. */
export const RESULT_TTL_MS = { ok: 8_000, fail: 20_000 } as const;
/** A state change replaces a result this old or older (it said what was, not what is). */
export const RESULT_STALE_MS = 2_000;

/** The engine reports a /resume that resumed something while a reply stays held as not ok: it did part of it. */
function truthful(r: ResultInfo): ResultInfo {
  if (!r.ok && !r.level && /^resumed /.test(r.message)) return { ...r, level: 'warn' };
  return r;
}

/**
 * The result line's content: the last command's outcome (or an engine warning), which
 * expires after a while and as soon as the relay's state moved on from what it described.
 */
export function useResult(stateKey: string, now: () => number = Date.now): { result: ShownResult | null; show: (r: ResultInfo) => void } {
  const [result, setResult] = useState<ShownResult | null>(null);
  const key = useRef(stateKey);
  key.current = stateKey;
  const show = useCallback((r: ResultInfo) => setResult({ ...truthful(r), at: now(), state: key.current }), [now]);
  useEffect(() => {
    if (!result) return;
    const ttl = result.ok && result.level !== 'error' ? RESULT_TTL_MS.ok : RESULT_TTL_MS.fail;
    const t = setTimeout(() => setResult((r) => (r === result ? null : r)), Math.max(0, result.at + ttl - now()));
    return () => clearTimeout(t);
  }, [result, now]);
  useEffect(() => {
    if (!result || result.state === stateKey) return;
    const left = result.at + RESULT_STALE_MS - now();
    if (left <= 0) {
      setResult(null);
      return;
    }
    const t = setTimeout(() => setResult((r) => (r === result ? null : r)), left);
    return () => clearTimeout(t);
  }, [stateKey, result, now]);
  return { result, show };
}

/**
 * Results of operator input from the other sources (jc_input.txt, `say`, the phone)
 * and the engine's warnings reach the result line too: the operator sees every action.
 * Warnings already on the notice line (start-up warnings) are not repeated.
 */
export function useOperatorResults(relay: RelayLike, show: (r: ResultInfo) => void, known: readonly string[] = []): void {
  useEffect(() => {
    const skip = new Set(known);
    const offResult = relay.on('operator:result', (e) => {
      if (e.source !== 'tui') show({ ok: e.ok, message: e.message, input: e.input, source: e.source });
    });
    const offLog = relay.on('log', (e) => {
      if (e.level !== 'info' && !skip.has(e.message)) show({ ok: false, message: e.message, level: e.level });
    });
    return () => {
      offResult();
      offLog();
    };
  }, [relay, show, known]);
}
