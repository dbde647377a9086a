import fs from 'node:fs';
import { stopHookBlockCap } from '../../config/claude-code-cap.js';
import type { Config } from '../../config/schema.js';
import { appendNotice, type HookNotice } from '../../protocol/hook-notices.js';
import { resolveRoot, rootPaths, type RootPaths } from '../../protocol/root.js';

/**
 * What every Claude Code hook command shares: its JSON input on stdin, the root and
 * config it reports to, the operator's notices, and the one thing it may print.
 *
 * Claude Code shows a hook's `{"systemMessage": ...}` to the user; stderr only
 * reaches its debug output. So what the user should read is collected here and
 * printed once, as one JSON object on stdout, when the hook ends.
 */

export class HookOutput {
  private lines: string[] = [];
  private fields: Record<string, unknown> = {};
  private flushed: boolean | undefined;

  /** A line the user sees in Claude Code (and stderr, for the debug log). */
  say(line: string): void {
    this.lines.push(line);
    process.stderr.write(`relay-tui hook: ${line}\n`);
  }

  set(fields: Record<string, unknown>): void {
    Object.assign(this.fields, fields);
  }

  /** The JSON Claude Code reads, or undefined when there is nothing to say. */
  json(): string | undefined {
    const out = { ...this.fields, ...(this.lines.length ? { systemMessage: `relay-tui: ${this.lines.join(' ')}` } : {}) };
    return Object.keys(out).length ? JSON.stringify(out) : undefined;
  }

  /** Writes it synchronously; false when stdout is gone (Claude Code died): nothing reached it. */
  flush(): boolean {
    // Once: Claude Code reads one JSON object; a later flush (the guard's) changes nothing.
    if (this.flushed !== undefined) return this.flushed;
    const text = this.json();
    this.flushed = true;
    if (text === undefined) return true;
    try {
      fs.writeSync(1, text + '\n');
    } catch {
      this.flushed = false;
    }
    return this.flushed;
  }
}

/**
 * Claude Code writes the hook's JSON on stdin and closes it. A TTY (someone trying it by hand)
 * reads nothing. `keepOpen` pauses stdin instead of destroying it: a remote hook keeps the
 * channel open after its input so the far side's guard sees the client die (remote-guard.ts).
 */
export async function readStdin(timeoutMs = 10_000, maxBytes = 16 * 1024 * 1024, o: { keepOpen?: boolean } = {}): Promise<string> {
  if (process.stdin.isTTY) return '';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      process.stdin.off('data', onData);
      if (o.keepOpen) process.stdin.pause();
      else process.stdin.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) chunks.push(c);
    };
    const timer = setTimeout(finish, timeoutMs);
    process.stdin.on('data', onData);
    process.stdin.once('end', finish);
    process.stdin.once('error', finish);
  });
}

export function parseInput(text: string): Record<string, unknown> | undefined {
  if (!text.trim()) return undefined;
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function openRoot(root: string | undefined): RootPaths {
  return rootPaths(resolveRoot(root));
}

/** What every hook command takes from its command line (hook.ts parses it, events.ts and the others read it). */
export interface HookOptions {
  root?: string;
  session?: string;
  timeoutS?: number;
  project?: string;
  print: boolean;
}

/**
 * The root's config, or the defaults when it cannot be read (a hook never fails on
 * config). Imported on demand: the config's schema costs most of a hook's start-up,
 * and the hooks that run on every prompt do not need it.
 */
export async function loadRootConfig(p: RootPaths, out?: HookOutput): Promise<Config> {
  const [{ loadConfig }, { configSchema }] = await Promise.all([import('../../config/load.js'), import('../../config/schema.js')]);
  try {
    return loadConfig(p.config, { seed: false }).config;
  } catch (err) {
    out?.say(`${(err as Error).message}; using the default hooks.max_chain and limits.`);
    return configSchema.parse({});
  }
}

/**
 * The chain cap the hook applies: hooks.max_chain, but always below Claude Code's own
 * cap of consecutive Stop-hook blocks, read from the environment Claude Code gave
 * the hook (past that cap Claude Code drops the reply the hook already consumed).
 */
export function effectiveMaxChain(
  configured: number,
  env: NodeJS.ProcessEnv = process.env,
): { max: number; cap: number; clamped: boolean } {
  const cap = stopHookBlockCap(env);
  const max = Math.min(configured, cap - 1);
  return { max: Math.max(0, max), cap, clamped: max < configured };
}

/**
 * Imported when a hook pings, not at start: the .env reader (dotenv, node:crypto) and the
 * ntfy client cost the late-reply waiter, which imports this file and idles for hours,
 * ~5 MB of its RSS (BENCHMARKS.md row 12).
 */
async function ntfyFor(p: RootPaths) {
  const [{ createPublisher }, { mergeEnv, readDotenv }] = await Promise.all([
    import('../../adapters/ntfy.js'),
    import('../../config/env.js'),
  ]);
  const env = mergeEnv(readDotenv(p.env), process.env);
  if (!env.NTFY_TOPIC) return null;
  return createPublisher({ server: env.NTFY_SERVER ?? 'https://ntfy.sh', topic: env.NTFY_TOPIC, token: env.NTFY_TOKEN, timeoutMs: 3000 });
}

const TAGS: Partial<Record<HookNotice['kind'], string>> = { chain_cap: 'octagonal_sign', stop_failure: 'warning' };

/** Shown in the relay (notice file + relay.log) and, with ping, sent to ntfy, best effort. */
export async function tellOperator(p: RootPaths, n: HookNotice, ping = true): Promise<void> {
  if (!appendNotice(p, n)) process.stderr.write(`relay-tui hook: could not record the notice in ${p.state}\n`);
  if (!ping) return;
  let publisher: Awaited<ReturnType<typeof ntfyFor>>;
  try {
    publisher = await ntfyFor(p);
  } catch {
    publisher = null;
  }
  if (!publisher) return;
  const r = await publisher.publish({
    title: `relay-tui: ${n.session}: ${n.title}`,
    message: n.message,
    priority: n.priority as 1 | 2 | 3 | 4 | 5,
    tags: [TAGS[n.kind] ?? 'bell'],
  });
  if (!r.ok) process.stderr.write(`relay-tui hook: ntfy: ${r.error ?? `status ${r.status}`}\n`);
}

/**
 * This hook runs on the relay's host for a session on another machine (--remote): both
 * ways there set RELAY_REMOTE empty (remote-shell for a restricted key, the ssh plan's
 * `env RELAY_REMOTE=` otherwise). Paths in Claude Code's JSON then name files on the
 * session's machine and must not be opened here: on this host they are someone else's
 * files (the operator's own transcripts), and reading them would hand them to the key.
 */
export function onRelayHost(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.RELAY_REMOTE === '';
}
