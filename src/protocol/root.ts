import fs from 'node:fs';
import path from 'node:path';
import { checkDir, ensureDir, within } from '../fs/confine.js';
import { checkSessionId } from './session-id.js';

/** The relay root's layout (SPEC.md "The relay root"), in one place. */
export interface RootPaths {
  root: string;
  config: string;
  env: string;
  queue: string;
  rejected: string;
  dispatch: string;
  state: string;
  status: string;
  jcInput: string;
  /** Operator input claimed from jc_input.txt or written by `say`, processed in name order. */
  operatorInbox: string;
  /** Replies waiting behind an unconsumed input.txt, per session. */
  outbox: string;
  conversation: string;
  ledger: string;
  audit: string;
  control: string;
  lock: string;
  logs: string;
  log: string;
  replies: string;
}

/**
 * The root, canonical: links in the path *to* the root are the user's choice and are
 * resolved once here, so that inside it every link can be refused (see adapters/confine).
 */
export function resolveRoot(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = path.resolve(flag ?? env.RELAY_ROOT ?? process.cwd());
  try {
    return fs.realpathSync(chosen);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(chosen)), path.basename(chosen));
    } catch {
      return chosen;
    }
  }
}

export function rootPaths(root: string): RootPaths {
  const state = path.join(root, 'state');
  return {
    root,
    config: path.join(root, 'config.yaml'),
    env: path.join(root, '.env'),
    queue: path.join(root, 'queue'),
    rejected: path.join(root, 'queue', '.rejected'),
    dispatch: path.join(root, 'dispatch'),
    state,
    status: path.join(state, 'status.json'),
    jcInput: path.join(state, 'jc_input.txt'),
    operatorInbox: path.join(state, 'inbox'),
    outbox: path.join(state, 'outbox'),
    conversation: path.join(state, 'conversation.jsonl'),
    ledger: path.join(state, 'ledger.jsonl'),
    audit: path.join(state, 'audit.jsonl'),
    control: path.join(state, 'control.json'),
    lock: path.join(state, 'relay.lock'),
    logs: path.join(root, 'logs'),
    log: path.join(root, 'logs', 'relay.log'),
    replies: path.join(state, 'replies'),
  };
}

/**
 * Creates the layout on first run; state/ is private (0700) since it holds the
 * conversation. Each directory is created or checked one level at a time, so a link
 * planted as queue/, state/ or dispatch/ is refused (ConfinementError) instead of
 * carrying everything the relay writes out of the root.
 */
export function ensureLayout(p: RootPaths): void {
  fs.mkdirSync(p.root, { recursive: true });
  checkDir(p.root);
  for (const dir of [p.queue, p.rejected, p.dispatch, p.logs]) ensureDir(dir);
  ensureDir(p.state, 0o700);
  fs.chmodSync(p.state, 0o700);
  for (const dir of [p.operatorInbox, p.outbox, p.replies]) ensureDir(dir, 0o700);
}

/**
 * Operator input refused (too large, not a regular file), kept for a human:
 * state/rejected-input/, created when first needed. Beside the inbox, not in it, so
 * the inbox holds only input waiting to be applied.
 */
export function inputRejectedDir(p: RootPaths): string {
  return path.join(p.state, 'rejected-input');
}

/** The one reply waiting for a session, in its dispatch folder; the session deleting it is the ack. */
export const INPUT_FILE = 'input.txt';

/**
 * dispatch/<session>/, the per-session layout every reader and writer uses (the relay's
 * Dispatcher, send/recv, the hooks): the id is checked, so the folder stays in dispatch/.
 */
export function sessionDispatchDir(p: Pick<RootPaths, 'dispatch'>, session: string): string {
  return within(p.dispatch, checkSessionId(session));
}

export function sessionInputFile(p: Pick<RootPaths, 'dispatch'>, session: string): string {
  return path.join(sessionDispatchDir(p, session), INPUT_FILE);
}

/** state/outbox/<session>/: the replies waiting behind an unconsumed input.txt, in order. */
export function sessionOutboxDir(p: Pick<RootPaths, 'outbox'>, session: string): string {
  return within(p.outbox, checkSessionId(session));
}
