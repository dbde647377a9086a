import { useEffect, useRef } from 'react';
import type { Status } from '../../protocol/status.js';

/**
 * Rings the terminal bell once when a NEEDS-JC pause begins (tmux marks the window).
 * A pause is identified by its held turn, so a re-render never rings twice.
 */
export function useBell(status: Status, ring: () => void): void {
  const rung = useRef<string | null>(null);
  const held = status.state === 'needs_jc' && status.held ? `${status.held.turn}:${status.held.code}` : null;
  useEffect(() => {
    if (held && rung.current !== held) {
      rung.current = held;
      try {
        ring();
      } catch {
        /* a bell is not worth a crash */
      }
    }
    if (!held) rung.current = null;
  }, [held, ring]);
}
