import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomic } from '../../fs/atomic.js';
import { loadConfig } from '../../config/load.js';
import { resolveRoot } from '../../protocol/root.js';
import { checkSessionId } from '../../protocol/session-id.js';
import { WAITER_TIMEOUT_S } from './wait.js';

/**
 * `relay-tui hook install`: puts the relay-tui hook entries (Stop, the late-reply
 * waiter, UserPromptSubmit, StopFailure, Notification) into a project's
 * .claude/settings.json. Merges: every other key and every other hook is
 * kept as it is; an entry of ours already there is left alone when it is the same
 * and updated in place when it differs (another session id, a moved checkout), so a
 * second run changes nothing and never adds a duplicate.
 */

/** Claude Code's default limit for a command hook; the Stop hook's window ends 60 s before it. */
export const STOP_HOOK_TIMEOUT_S = 600;
export const SHORT_HOOK_TIMEOUT_S = 30;

export type HookEvent = 'Stop' | 'UserPromptSubmit' | 'StopFailure' | 'Notification';
export type HookKind = 'stop' | 'wait' | 'prompt' | 'stop-failure' | 'notify';

export interface HookSpec {
  event: HookEvent;
  command: string;
  timeout: number;
  /** The late-reply waiter runs in the background and wakes the idle session (Claude Code's asyncRewake). */
  async?: boolean;
  asyncRewake?: boolean;
  /** Recognises an entry of ours in that event, whatever its session or paths. */
  ours: RegExp;
}

export class SettingsError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** POSIX shell quoting, only where needed (Claude Code runs a hook command through a shell). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function cliBinPath(): string {
  return fileURLToPath(new URL('../../../bin/relay-tui.js', import.meta.url));
}

export interface HookTarget {
  bin: string;
  session: string;
  root: string;
  /** The Stop hook's window in seconds (--timeout), when not the default. */
  windowS?: number;
}

/**
 * The one place a hook's command line is built. The hooks run from entry points next to
 * the CLI's: bin/relay-tui-hook.js (no main-CLI start-up; they run on every turn), and
 * the waiter's bin/relay-tui-hook-wait.js, where nothing but a deliberate hand-over exits
 * 2, which for an asyncRewake hook wakes the session.
 */
export function hookCommandLine(kind: HookKind, t: HookTarget): string {
  const tail = `--session ${shellQuote(t.session)} --root ${shellQuote(t.root)}`;
  if (kind === 'wait') return `node ${shellQuote(path.join(path.dirname(t.bin), 'relay-tui-hook-wait.js'))} ${tail}`;
  const window = kind === 'stop' && t.windowS !== undefined ? ` --timeout ${t.windowS}` : '';
  // The hooks' own entry point: without the main CLI's start-up, and exit 0 on every path.
  return `node ${shellQuote(path.join(path.dirname(t.bin), 'relay-tui-hook.js'))} ${kind} ${tail}${window}`;
}

/** The late-reply waiter's command, as hookCommandLine writes it (quoted or not): hook install and doctor find it by this. */
export const WAITER_COMMAND = /relay-tui-hook-wait(\.js)?'?(\s|$)/;

export function hookSpecs(t: HookTarget): HookSpec[] {
  // Ours, in the current form (relay-tui-hook.js SUB) or the older one (relay-tui.js hook SUB).
  const mine = (sub: string) => new RegExp(`relay-tui(\\.js)?'?\\s+hook\\s+${sub}(\\s|$)|relay-tui-hook(\\.js)?'?\\s+${sub}(\\s|$)`);
  return [
    { event: 'Stop', command: hookCommandLine('stop', t), timeout: STOP_HOOK_TIMEOUT_S, ours: mine('stop') },
    {
      event: 'Stop',
      command: hookCommandLine('wait', t),
      timeout: WAITER_TIMEOUT_S,
      async: true,
      asyncRewake: true,
      ours: WAITER_COMMAND,
    },
    { event: 'UserPromptSubmit', command: hookCommandLine('prompt', t), timeout: SHORT_HOOK_TIMEOUT_S, ours: mine('prompt') },
    { event: 'StopFailure', command: hookCommandLine('stop-failure', t), timeout: SHORT_HOOK_TIMEOUT_S, ours: mine('stop-failure') },
    { event: 'Notification', command: hookCommandLine('notify', t), timeout: SHORT_HOOK_TIMEOUT_S, ours: mine('notify') },
  ];
}

// ---- remote sessions (issue 15; src/commands/remote/remote.ts calls installCommand with `remote`)
/**
 * The same two hooks for a session whose relay is on another machine: they run this
 * machine's relay-tui with --remote, which does the work over ssh. RELAY_SSH and
 * RELAY_REMOTE_BIN as they were at install time go into the command, so the hook
 * reaches the relay the way the install just did, whatever Claude Code's environment.
 */
export function remoteHookSpecs(o: {
  bin: string;
  session: string;
  target: string;
  env: Record<string, string>;
  /** The Stop hook's window (--timeout), when not the default: the far `hook stop` waits this long. */
  windowS?: number;
}): HookSpec[] {
  const vars = Object.entries(o.env)
    .map(([k, v]) => `${k}=${shellQuote(v)} `)
    .join('');
  const tail = `--session ${shellQuote(o.session)} --remote ${shellQuote(o.target)}`;
  const window = o.windowS !== undefined ? ` --timeout ${o.windowS}` : '';
  // The hooks that act on the relay's files go over ssh (remote-shell allows exactly these):
  // the Stop hook, the late-reply waiter (one channel held open; remote/waiter.ts), the
  // typed-prompt hook (the waiter stands down when the user types) and Notification.
  // StopFailure only tells the operator why a turn failed; it stays local-only.
  const local = hookSpecs({ bin: o.bin, session: o.session, root: '' });
  const sub: Partial<Record<string, string>> = { Stop: 'stop', UserPromptSubmit: 'prompt', Notification: 'notify' };
  return local.flatMap((spec) => {
    if (spec.asyncRewake)
      return [{ ...spec, command: `${vars}node ${shellQuote(path.join(path.dirname(o.bin), 'relay-tui-hook-wait.js'))} ${tail}` }];
    const name = sub[spec.event];
    return name ? [{ ...spec, command: `${vars}node ${shellQuote(o.bin)} hook ${name} ${tail}${name === 'stop' ? window : ''}` }] : [];
  });
}
// ---- end remote sessions

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Returns the merged settings and what changed (empty: nothing to write). Never
 * mutates `existing`. Throws SettingsError when the file's shape is not one Claude
 * Code would accept, rather than guess.
 */
export function mergeHookSettings(
  existing: unknown,
  specs: HookSpec[],
  file: string,
): { settings: Record<string, unknown>; changes: string[] } {
  if (existing !== undefined && !isObject(existing)) throw new SettingsError(file, 'expected a JSON object at the top level');
  const settings: Record<string, unknown> = existing === undefined ? {} : structuredClone(existing);
  if (settings.hooks !== undefined && !isObject(settings.hooks)) throw new SettingsError(file, '"hooks" must be an object');
  const hooks = (settings.hooks ?? (settings.hooks = {})) as Record<string, unknown>;
  const changes: string[] = [];
  for (const spec of specs) {
    const groups = hooks[spec.event];
    if (groups !== undefined && !Array.isArray(groups)) throw new SettingsError(file, `"hooks.${spec.event}" must be an array`);
    const list = (groups ?? []) as unknown[];
    let found: Record<string, unknown> | undefined;
    let duplicates = 0;
    for (const g of list) {
      if (!isObject(g) || !Array.isArray(g.hooks)) continue;
      g.hooks = g.hooks.filter((h) => {
        if (!isObject(h) || typeof h.command !== 'string' || !spec.ours.test(h.command)) return true;
        if (!found) {
          found = h;
          return true;
        }
        duplicates++;
        return false;
      });
    }
    // A group that held only a removed duplicate would be an empty shell: drop it.
    const kept = duplicates ? list.filter((g) => !isObject(g) || !Array.isArray(g.hooks) || g.hooks.length > 0) : list;
    const want: Record<string, unknown> = {
      type: 'command',
      command: spec.command,
      timeout: spec.timeout,
      ...(spec.async ? { async: true } : {}),
      ...(spec.asyncRewake ? { asyncRewake: true } : {}),
    };
    const label = spec.asyncRewake ? `${spec.event} (late-reply waiter)` : spec.event;
    if (!found) {
      kept.push({ hooks: [want] });
      changes.push(`added the ${label} hook`);
    } else if (
      Object.entries(want).some(([k, v]) => found![k] !== v) ||
      (!spec.async && 'async' in found) ||
      (!spec.asyncRewake && 'asyncRewake' in found)
    ) {
      if (!spec.async) delete found.async;
      if (!spec.asyncRewake) delete found.asyncRewake;
      Object.assign(found, want);
      changes.push(`updated the ${label} hook`);
    }
    if (duplicates) changes.push(`removed ${duplicates} duplicate ${label} hook(s)`);
    hooks[spec.event] = kept;
  }
  return { settings, changes };
}

/** Keeps the file's own indentation (two spaces when new). */
function indentOf(text: string | undefined): string | number {
  const m = text?.match(/^[{[][^\S\n]*\n([ \t]+)\S/);
  return m ? m[1] : 2;
}

export interface InstallOptions {
  root?: string;
  /** The Stop hook's window (s): how long it waits for a reply before the waiter takes over. */
  timeoutS?: number;
  session?: string;
  project?: string;
  print: boolean;
  /** Issue 15: the relay is on another machine (remoteHookSpecs); `root` is then unused, `timeoutS` goes into its Stop hook. */
  remote?: { target: string; env: Record<string, string> };
}

export function installCommand(
  o: InstallOptions,
  io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
): number {
  if (!o.session) {
    io.err('relay-tui hook install: needs --session ID (the name this Claude Code session has at the relay)\n');
    return 2;
  }
  try {
    checkSessionId(o.session);
  } catch (err) {
    io.err(`relay-tui hook install: ${(err as Error).message}\n`);
    return 2;
  }
  const project = path.resolve(o.project ?? process.cwd());
  if (!fs.statSync(project, { throwIfNoEntry: false })?.isDirectory()) {
    io.err(`relay-tui hook install: ${project} is not a directory (--project DIR: the Claude Code project to connect)\n`);
    return 2;
  }
  const root = o.remote ? o.remote.target : resolveRoot(o.root);
  const file = path.join(project, '.claude', 'settings.json');
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      io.err(`relay-tui hook install: cannot read ${file}: ${(err as Error).message}\n`);
      return 4;
    }
  }
  let existing: unknown;
  if (text !== undefined && text.trim()) {
    try {
      existing = JSON.parse(text);
    } catch (err) {
      io.err(
        `relay-tui hook install: ${file} is not valid JSON (${(err as Error).message}); fix it and run this again. Nothing was written.\n`,
      );
      return 4;
    }
  }
  let merged: ReturnType<typeof mergeHookSettings>;
  try {
    const specs = o.remote
      ? remoteHookSpecs({
          bin: cliBinPath(),
          session: o.session,
          ...o.remote,
          ...(o.timeoutS !== undefined ? { windowS: o.timeoutS } : {}),
        })
      : hookSpecs({ bin: cliBinPath(), session: o.session, root, ...(o.timeoutS !== undefined ? { windowS: o.timeoutS } : {}) });
    merged = mergeHookSettings(existing, specs, file);
  } catch (err) {
    io.err(`relay-tui hook install: ${(err as Error).message}; fix it and run this again. Nothing was written.\n`);
    return 4;
  }
  const body = JSON.stringify(merged.settings, null, indentOf(text)) + '\n';
  const what = merged.changes.join(', ');
  if (o.print) {
    io.out(body);
    io.err(
      merged.changes.length
        ? `relay-tui hook install: would write ${file} (${what}); nothing was written\n`
        : `relay-tui hook install: ${file} already has these hooks; nothing would change\n`,
    );
    return 0;
  }
  if (!merged.changes.length) {
    io.out(`${file}: the relay-tui hooks for ${o.session} are already installed; nothing changed\n`);
    return 0;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const mode = text === undefined ? 0o644 : fs.statSync(file).mode & 0o777;
  writeAtomic(file, body, mode);
  io.out(`wrote ${file}: ${what}\n`);
  io.out(`  session ${o.session}, relay root ${root}\n`);
  const configFile = path.join(root, 'config.yaml');
  if (o.remote) {
    /* remote.ts checks the far root over ssh */
  } else if (!fs.existsSync(configFile)) {
    io.err(
      `relay-tui hook install: note: ${root} has no config.yaml yet; start the relay there (relay-tui --root ${shellQuote(root)}) or the hook will let every turn end unrelayed\n`,
    );
  } else {
    try {
      const { config } = loadConfig(configFile, { seed: false });
      if (!config.sessions.some((s) => s.id === o.session)) {
        const what = config.strict_sessions ? 'its messages will be rejected (strict_sessions: true)' : 'it will show as unregistered';
        io.err(`relay-tui hook install: note: ${o.session} is not listed under sessions: in ${configFile}; ${what} until you add it\n`);
      }
    } catch {
      /* the relay reports config errors itself when it starts */
    }
  }
  io.out(`  Claude Code reads hooks when a session starts: restart it in ${project} (or review them in /hooks)\n`);
  return 0;
}
