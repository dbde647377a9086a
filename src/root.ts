import fs from 'node:fs';
import path from 'node:path';

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

export function resolveRoot(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env.RELAY_ROOT ?? process.cwd());
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

/** Creates the layout on first run; state/ is private (0700) since it holds the conversation. */
export function ensureLayout(p: RootPaths): void {
  fs.mkdirSync(p.root, { recursive: true });
  for (const dir of [p.queue, p.rejected, p.dispatch, p.logs]) fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(p.state, { recursive: true, mode: 0o700 });
  fs.chmodSync(p.state, 0o700);
  for (const dir of [p.operatorInbox, p.outbox, p.replies]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function sessionDispatchDir(p: RootPaths, session: string): string {
  return path.join(p.dispatch, session);
}

export function sessionInputFile(p: RootPaths, session: string): string {
  return path.join(p.dispatch, session, 'input.txt');
}
