import { useEffect } from 'react';
import type { RelayLike } from './relay-like.js';

export interface ResultInfo {
  ok: boolean;
  message: string;
  /** What was typed, or where it came from. */
  input?: string;
  source?: string;
  /** 'warn' / 'error' for engine log lines. */
  level?: 'warn' | 'error';
}

/**
 * Results of operator input from the other sources (jc_input.txt, `say`, the phone)
 * and the engine's warnings reach the result line too: the operator sees every action.
 */
export function useOperatorResults(relay: RelayLike, show: (r: ResultInfo) => void): void {
  useEffect(() => {
    const offResult = relay.on('operator:result', (e) => {
      if (e.source !== 'tui') show({ ok: e.ok, message: e.message, input: e.input, source: e.source });
    });
    const offLog = relay.on('log', (e) => {
      if (e.level !== 'info') show({ ok: false, message: e.message, level: e.level });
    });
    return () => {
      offResult();
      offLog();
    };
  }, [relay, show]);
}
