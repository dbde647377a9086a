import fs from 'node:fs';
import { enqueueEnvelope } from '../protocol/envelope.js';
import { takeReply, waitForReply } from '../protocol/session-io.js';
import { checkSessionId } from '../protocol/session-id.js';
import type { RootPaths } from '../protocol/root.js';

/**
 * A session's side. The id is checked before anything is read or touched, so a bad
 * one (`../x`, `bad id`) is an InputError (exit 2, one line) and never names a path.
 */
export async function sendCommand(p: RootPaths, session: string, text: string | undefined): Promise<number> {
  checkSessionId(session);
  const content = text === undefined || text === '-' ? fs.readFileSync(0, 'utf8') : text;
  const name = enqueueEnvelope(p, session, content);
  process.stdout.write(`queue/${name}\n`);
  return 0;
}

/** Prints and consumes the session's reply. Exit 1 when there is none (or none before the timeout). */
export async function recvCommand(p: RootPaths, session: string, wait: boolean, timeoutS: number | undefined): Promise<number> {
  checkSessionId(session);
  let text: string | undefined;
  if (wait) {
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      text = await waitForReply(p, session, (timeoutS ?? 24 * 3600) * 1000, ac.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  } else {
    text = takeReply(p, session);
  }
  if (text === undefined) {
    process.stderr.write(wait ? `no reply for ${session} within ${timeoutS} s\n` : `no reply waiting for ${session}\n`);
    return 1;
  }
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}
