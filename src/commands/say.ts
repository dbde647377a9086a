import fs from 'node:fs';
import { lockHolder } from '../fs/lock.js';
import { InputError } from '../fs/confine.js';
import { loadConfig } from '../config/load.js';
import { DEFAULT_MAX_OPERATOR_INPUT_BYTES, operatorInputTooLarge, writeInbox } from '../engine/mailboxes/inbox.js';
import type { RootPaths } from '../protocol/root.js';

/**
 * Operator input from another shell. It goes straight into the relay's durable
 * inbox (never over an unconsumed jc_input.txt) and is kept for the next start when
 * no relay is running. Input over limits.max_operator_input_bytes is refused here, so
 * it never reaches the inbox (the relay would set it aside anyway).
 */
export function sayCommand(p: RootPaths, words: string[]): number {
  const text = words.join(' ').trim();
  if (!text) {
    process.stderr.write('relay-tui say: nothing to say (usage: relay-tui say TEXT...)\n');
    return 2;
  }
  const tooLarge = operatorInputTooLarge(Buffer.byteLength(text), maxOperatorInput(p));
  if (tooLarge) throw new InputError(`say: your input ${tooLarge}`);
  writeInbox(p.operatorInbox, text, 'cli');
  let holder: ReturnType<typeof lockHolder>;
  try {
    holder = lockHolder(p.lock);
  } catch {
    holder = undefined; // a lock that is not a regular file: no relay we can name
  }
  if (holder) process.stdout.write(`sent to the relay (pid ${holder.pid})\n`);
  else process.stderr.write(`no relay is running on ${p.root}: your input is queued and will be applied when it starts\n`);
  return 0;
}

function maxOperatorInput(p: RootPaths): number {
  if (!fs.existsSync(p.config)) return DEFAULT_MAX_OPERATOR_INPUT_BYTES;
  // A broken config.yaml is the relay's to report (exit 4); say still applies the default limit.
  try {
    return loadConfig(p.config, { seed: false }).config.limits.max_operator_input_bytes;
  } catch {
    return DEFAULT_MAX_OPERATOR_INPUT_BYTES;
  }
}
