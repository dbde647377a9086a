import { lockHolder } from '../adapters/lock.js';
import { writeInbox } from '../engine/inbox.js';
import type { RootPaths } from '../root.js';

/**
 * Operator input from another shell. It goes straight into the relay's durable
 * inbox (never over an unconsumed jc_input.txt) and is kept for the next start when
 * no relay is running.
 */
export function sayCommand(p: RootPaths, words: string[]): number {
  const text = words.join(' ').trim();
  if (!text) {
    process.stderr.write('relay-tui say: nothing to say (usage: relay-tui say TEXT...)\n');
    return 2;
  }
  writeInbox(p.operatorInbox, text, 'cli');
  const holder = lockHolder(p.lock);
  if (holder) process.stdout.write(`sent to the relay (pid ${holder.pid})\n`);
  else process.stderr.write(`no relay is running on ${p.root}: your input is queued and will be applied when it starts\n`);
  return 0;
}
