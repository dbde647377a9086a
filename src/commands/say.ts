import fs from 'node:fs';
import { lockHolder } from '../fs/lock.js';
import { InputError } from '../fs/confine.js';
import { loadConfig } from '../config/load.js';
import { DEFAULT_MAX_OPERATOR_INPUT_BYTES, operatorInputTooLarge, writeInbox } from '../engine/mailboxes/inbox.js';
import type { RootPaths } from '../protocol/root.js';
import { watchDir } from '../fs/watch.js';
import { ensureDir } from '../fs/confine.js';
import { operatorResultsDir, readVerdict, type Verdict } from '../engine/operator/verdicts.js';

/** How long say waits for the relay's verdict before it reports the input as sent, outcome unknown. */
export const SAY_WAIT_MS = 5000;

/**
 * Operator input from another shell. It goes straight into the relay's durable
 * inbox (never over an unconsumed jc_input.txt) and is kept for the next start when
 * no relay is running. Input over limits.max_operator_input_bytes is refused here, so
 * it never reaches the inbox (the relay would set it aside anyway). With a relay running
 * it waits (bounded) for the relay's verdict on this input and exits 1 when the relay
 * refused it (unknown session, nothing to approve, an ambiguous target), with the reason.
 */
export async function sayCommand(p: RootPaths, words: string[]): Promise<number> {
  const text = words.join(' ').trim();
  if (!text) {
    process.stderr.write('relay-tui say: nothing to say (usage: relay-tui say TEXT...)\n');
    return 2;
  }
  const tooLarge = operatorInputTooLarge(Buffer.byteLength(text), maxOperatorInput(p));
  if (tooLarge) throw new InputError(`say: your input ${tooLarge}`);
  const results = operatorResultsDir(p);
  try {
    ensureDir(results, 0o700);
  } catch {
    /* the relay creates it on its first verdict; without it say only cannot watch */
  }
  const id = writeInbox(p.operatorInbox, text, 'cli');
  let holder: ReturnType<typeof lockHolder>;
  try {
    holder = lockHolder(p.lock);
  } catch {
    holder = undefined; // a lock that is not a regular file: no relay we can name
  }
  if (!holder) {
    process.stderr.write(`no relay is running on ${p.root}: your input is queued and will be applied when it starts\n`);
    return 0;
  }
  process.stdout.write(`sent to the relay (pid ${holder.pid})\n`);
  const v = await waitForVerdict(results, id, SAY_WAIT_MS);
  if (!v) {
    process.stdout.write(`no verdict from the relay within ${SAY_WAIT_MS / 1000} s: it applies your input when it can\n`);
    return 0;
  }
  if (v.ok) {
    process.stdout.write(`${v.message}\n`);
    return 0;
  }
  process.stderr.write(`relay-tui say: refused: ${v.message}\n`);
  return 1;
}

/** The verdict file's appearance, by a directory watch; a check each second covers a missed event. */
function waitForVerdict(dir: string, id: string, ms: number): Promise<Verdict | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    let unwatch = () => {};
    const finish = (v: Verdict | undefined) => {
      if (settled) return;
      settled = true;
      unwatch();
      for (const t of timers) clearTimeout(t);
      resolve(v);
    };
    const look = () => {
      const v = readVerdict(dir, id);
      if (v) finish(v);
    };
    unwatch = watchDir(dir, (name) => {
      if (name === null || name === `${id}.json`) look();
    });
    for (let t = 1000; t < ms; t += 1000) timers.push(setTimeout(look, t));
    timers.push(setTimeout(() => finish(readVerdict(dir, id)), ms));
    look();
  });
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
