import { useEffect, useRef } from 'react';
import type { Status } from '../../protocol/status.js';

/**
 * Rings the terminal bell once for each question that starts waiting (tmux marks the
 * window). A question is identified by its session and turn, so a re-render never
 * rings twice, and a second session asking while the first still waits rings again.
 */
export function useBell(status: Status, ring: () => void): void {
  const rung = useRef<Set<string>>(new Set());
  const asks = questionKeys(status);
  useEffect(() => {
    const now = new Set(asks ? asks.split('\n') : []);
    const fresh = [...now].some((k) => !rung.current.has(k));
    rung.current = now;
    if (!fresh) return;
    try {
      ring();
    } catch {
      /* a bell is not worth a crash */
    }
  }, [asks, ring]);
}

/** The questions waiting now, one key per line (a string, so the effect runs only when they change). */
function questionKeys(s: Status): string {
  return (s.waiting ?? [])
    .filter((i) => i.kind === 'question')
    .map((i) => `${i.session}:${i.turn ?? i.since}`)
    .join('\n');
}
