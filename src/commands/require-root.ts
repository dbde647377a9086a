import fs from 'node:fs';
import path from 'node:path';
import { resolveRoot, rootPaths, type RootPaths } from '../protocol/root.js';

/**
 * Only the relay creates a root. Every other command (send, recv, say, topic, status,
 * cost, hook, service) must find one already there: a typo in --root that silently
 * made a fresh root would swallow a message where no relay will ever read it.
 *
 * The marker is state/, a real directory: the relay makes it on its first start,
 * while config.yaml alone proves nothing (a checkout of relay-tui ships one).
 */

export type RootSource = '--root' | '$RELAY_ROOT' | 'the current directory';

export interface ChosenRoot {
  dir: string;
  source: RootSource;
}

/**
 * The same precedence as resolveRoot (root.ts), and which of the three decided. The
 * folder is resolveRoot's canonical one: a link on the way *to* the root is the user's
 * choice; inside it, confinement refuses links.
 */
export function chooseRoot(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ChosenRoot {
  if (flag !== undefined && flag !== '') return { dir: resolveRoot(path.resolve(cwd, flag), {}), source: '--root' };
  if (env.RELAY_ROOT) return { dir: resolveRoot(path.resolve(cwd, env.RELAY_ROOT), {}), source: '$RELAY_ROOT' };
  return { dir: resolveRoot(path.resolve(cwd), {}), source: 'the current directory' };
}

export class NotARootError extends Error {
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'not-a-root';
  constructor(
    readonly chosen: ChosenRoot,
    readonly why: string,
  ) {
    const from = chosen.source === 'the current directory' ? 'the current directory; no --root or $RELAY_ROOT given' : chosen.source;
    super(
      `not a relay root: ${chosen.dir} (from ${from}): ${why}; start the relay there once (relay-tui --no-ui --root ${chosen.dir}) or give the right --root`,
    );
  }
}

/** Why dir is not a relay root, or undefined when it is one. state/ must be a real directory, not a link. */
export function whyNotRoot(dir: string): string | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such directory' : `cannot read it: ${code ?? (err as Error).message}`;
  }
  if (!st.isDirectory()) return 'it is not a directory';
  let state: fs.Stats | undefined;
  try {
    state = fs.lstatSync(path.join(dir, 'state'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no state/ in it, the relay has never run there' : `cannot read its state/: ${code}`;
  }
  if (state.isSymbolicLink()) return 'its state/ is a symlink';
  if (!state.isDirectory()) return 'its state/ is not a directory';
  return undefined;
}

export function requireRoot(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): RootPaths {
  const chosen = chooseRoot(flag, env);
  const why = whyNotRoot(chosen.dir);
  if (why) throw new NotARootError(chosen, why);
  return rootPaths(chosen.dir);
}
