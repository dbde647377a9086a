import { abortableSleep } from '../engine/turn/call.js';
import type { RootPaths } from '../protocol/root.js';
import { enqueueEnvelope } from '../protocol/envelope.js';
import { waitForReply } from '../protocol/session-io.js';
import { nextUpdate } from './script.js';

/**
 * Simulated Claude Code sessions for --demo: each sends an update, waits for its
 * reply through dispatch/, "works" a few seconds, and sends the next one, through
 * exactly the files a real session would use.
 */
export function startDemoSessions(p: RootPaths, ids: string[], signal: AbortSignal): Promise<void[]> {
  return Promise.all(
    ids.map(async (id, i) => {
      await abortableSleep(800 + i * 1700, signal);
      while (!signal.aborted) {
        enqueueEnvelope(p, id, nextUpdate(id));
        const reply = await waitForReply(p, id, 24 * 3600_000, signal);
        if (reply === undefined) return;
        await abortableSleep(3000 + Math.random() * 5000, signal);
      }
    }),
  );
}
