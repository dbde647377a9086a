import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeAtomic } from '../adapters/fs-atomic.js';
import { lockHolder } from '../adapters/lock.js';
import { createPublisher } from '../adapters/ntfy.js';
import { mergeEnv, readDotenv } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import { configSchema } from '../config/schema.js';
import { resolveRoot, rootPaths, type RootPaths } from '../root.js';
import { checkSessionId, enqueueEnvelope, takeReply, waitForReply } from '../session-io.js';
import { installCommand } from './hook-install.js';
import { appendNotice, type HookNotice } from '../engine/hook-notices.js';
import { combineReplies, fitEnvelopeContent, lastAssistantTextFromFile, replyReason } from './hook-text.js';

/**
 * Claude Code hooks (README: "Connect a Claude Code session").
 *
 *   hook stop     the Stop hook: the session's last message goes to the relay as an
 *                 envelope, the hook waits for the reply and returns it as
 *                 {"decision":"block","reason":...}, so Claude Code goes on with it.
 *   hook notify   the Notification hook: Claude Code's "needs your permission" and
 *                 "waiting for input" messages reach the operator (ntfy + the relay).
 *   hook install  writes both entries into a project's .claude/settings.json.
 *
 * A hook must never wedge a session: stop and notify exit 0 on every path (relay down,
 * bad input, internal error), saying why in one line on stderr, which Claude Code
 * shows in its transcript view.
 */

export interface HookOptions {
  root?: string;
  session?: string;
  timeoutS?: number;
  project?: string;
  print: boolean;
}

/** A little under Claude Code's 600 s limit for a command hook, so the hook ends it, not a kill. */
export const DEFAULT_STOP_TIMEOUT_S = 540;
/** While waiting, a relay that has been gone this long means: give up and let the session stop. */
const RELAY_DOWN_GRACE_MS = 10_000;
const LIVENESS_CHECK_MS = 1000;
const NTFY_TIMEOUT_MS = 3000;

const USAGE = `usage: relay-tui hook stop --session ID [--root DIR] [--timeout S]      (Claude Code Stop hook; JSON on stdin)
       relay-tui hook notify --session ID [--root DIR]                  (Claude Code Notification hook)
       relay-tui hook install --session ID [--project DIR] [--root DIR] [--print]
`;

export async function hookCommand(rest: string[], o: HookOptions): Promise<number> {
  const [sub, ...extra] = rest;
  if (extra.length) {
    process.stderr.write(`relay-tui hook: unexpected argument ${extra[0]}\n${USAGE}`);
    return sub === 'install' ? 2 : 0;
  }
  switch (sub) {
    case 'stop':
      return guarded('stop', () => stopHook(o));
    case 'notify':
      return guarded('notify', () => notifyHook(o));
    case 'install':
      return installCommand(o);
    default:
      process.stderr.write(`relay-tui hook: ${sub ? `unknown hook command ${sub}` : 'which hook?'}\n${USAGE}`);
      return 2;
  }
}

/** stop and notify: any failure is one stderr line and exit 0, so Claude Code simply goes on. */
async function guarded(name: string, fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
  } catch (err) {
    say(`${name} failed, letting Claude Code go on: ${(err as Error)?.message ?? err}`);
  }
  return 0;
}

function say(line: string): void {
  process.stderr.write(`relay-tui hook: ${line}\n`);
}

// ------------------------------------------------------------------ input

/** Claude Code writes the hook's JSON on stdin and closes it. A TTY (someone trying it by hand) reads nothing. */
async function readStdin(timeoutMs = 10_000, maxBytes = 16 * 1024 * 1024): Promise<string> {
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
      process.stdin.destroy();
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

function parseInput(text: string): Record<string, unknown> | undefined {
  if (!text.trim()) return undefined;
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function openRoot(root: string | undefined): RootPaths {
  return rootPaths(resolveRoot(root));
}

/** The root's config, or the defaults when it cannot be read (a hook never fails on config). */
function loadRootConfig(p: RootPaths) {
  try {
    return loadConfig(p.config, { seed: false }).config;
  } catch (err) {
    say(`${(err as Error).message}; using the default hooks.max_chain and limits`);
    return configSchema.parse({});
  }
}

function ntfyFor(p: RootPaths) {
  const env = mergeEnv(readDotenv(p.env), process.env);
  if (!env.NTFY_TOPIC) return null;
  return createPublisher({ server: env.NTFY_SERVER ?? 'https://ntfy.sh', topic: env.NTFY_TOPIC, token: env.NTFY_TOKEN, timeoutMs: NTFY_TIMEOUT_MS });
}

/** Shown in the relay (notice file + relay.log) and pinged by ntfy, best effort. */
async function tellOperator(p: RootPaths, n: HookNotice): Promise<void> {
  if (!appendNotice(p, n)) say(`could not record the notice in ${p.state}`);
  let publisher: ReturnType<typeof ntfyFor>;
  try {
    publisher = ntfyFor(p);
  } catch {
    publisher = null;
  }
  if (!publisher) return;
  const r = await publisher.publish({ title: `relay-tui: ${n.session}: ${n.title}`, message: n.message, priority: n.priority as 1 | 2 | 3 | 4 | 5, tags: [n.kind === 'chain_cap' ? 'octagonal_sign' : 'bell'] });
  if (!r.ok) say(`ntfy: ${r.error ?? `status ${r.status}`}`);
}

// ------------------------------------------------------------------ hook stop

/**
 * The chain cap. The relay counts a session's hook-delivered turns (status.json
 * sessions[ID].hook_chain) and resets the count on operator input at the relay. A
 * human prompt typed into Claude Code is operator input too, and the hook knows it:
 * that turn's Stop comes with stop_hook_active false. The relay cannot see it, so
 * the hook keeps a baseline, state/hooks/<session>.json, and counts from there.
 */
function chainBaseFile(p: RootPaths, session: string): string {
  return path.join(p.state, 'hooks', `${session}.json`);
}

export function chainCount(relayChain: number, base: number): { count: number; base: number } {
  // The relay's count went down: operator input at the relay reset it.
  if (relayChain < base) return { count: relayChain, base: 0 };
  return { count: relayChain - base, base };
}

function readChain(p: RootPaths, session: string): number {
  const status = readJson<{ sessions?: Record<string, { hook_chain?: unknown }> }>(p.status);
  const n = status?.sessions?.[session]?.hook_chain;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

function writeBase(p: RootPaths, session: string, base: number): void {
  try {
    const file = chainBaseFile(p, session);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeAtomic(file, JSON.stringify({ chain_base: base, at: new Date().toISOString() }) + '\n', 0o600);
  } catch {
    /* without a baseline the count is the relay's own: stricter, never looser */
  }
}

async function stopHook(o: HookOptions): Promise<void> {
  const input = parseInput(await readStdin());
  const session = o.session;
  if (!session) return say('hook stop needs --session ID (see relay-tui hook install); letting Claude Code stop');
  checkSessionId(session);
  if (!input) return say('no Stop-hook JSON on stdin; letting Claude Code stop');
  const event = str(input.hook_event_name);
  if (event && event !== 'Stop') return say(`hook stop got a ${event} event; it only handles Stop`);

  const p = openRoot(o.root);
  const holder = lockHolder(p.lock);
  if (!holder) return say(`no relay is running on ${p.root}; letting Claude Code stop (start it with: relay-tui --no-ui --root ${p.root})`);

  const config = loadRootConfig(p);
  const active = input.stop_hook_active === true;
  const relayChain = readChain(p, session);
  const baseFile = readJson<{ chain_base?: unknown }>(chainBaseFile(p, session));
  const storedBase = typeof baseFile?.chain_base === 'number' ? baseFile.chain_base : 0;
  const message = str(input.last_assistant_message)?.trim() || (str(input.transcript_path) ? lastAssistantTextFromFile(str(input.transcript_path)!) : undefined);

  if (!active) {
    // This turn began with the human's own prompt: count hook turns from here.
    if (storedBase !== relayChain) writeBase(p, session, relayChain);
  } else {
    const { count, base } = chainCount(relayChain, storedBase);
    if (base !== storedBase) writeBase(p, session, base);
    if (count >= config.hooks.max_chain) {
      const why = `${count} hook-delivered turns in a row with no operator input (hooks.max_chain: ${config.hooks.max_chain}); ${session} stops here`;
      say(`${why}. Its last message was not sent to chat-Claude. To go on, type in this Claude Code session: that starts a new chain.`);
      await tellOperator(p, {
        at: new Date().toISOString(),
        kind: 'chain_cap',
        session,
        title: 'stopped by the hook chain cap',
        message: `${why}. Its last message (not sent to chat-Claude): ${message ? message.slice(0, 400) : '(none)'}`,
        priority: 4,
      });
      return;
    }
  }

  if (!message) return say('the turn ended without any assistant text to send; letting Claude Code stop');

  // A reply that came after an earlier hook had given up is delivered now, with the new one.
  const earlier = takeReply(p, session);
  try {
    enqueueEnvelope(p, session, fitEnvelopeContent(message, config.limits.max_envelope_bytes), {
      source: 'hook',
      stop_hook_active: active,
      ...(str(input.session_id) ? { claude_session_id: str(input.session_id) } : {}),
      ...(str(input.cwd) ? { cwd: str(input.cwd) } : {}),
    });
  } catch (err) {
    // Taken from dispatch/ already: it must reach the session, whatever else fails.
    if (earlier !== undefined) printDecision(p, session, combineReplies(earlier, undefined)!);
    throw err;
  }

  const timeoutS = o.timeoutS ?? DEFAULT_STOP_TIMEOUT_S;
  const outcome = await waitWhileRelayLives(p, session, timeoutS * 1000);
  const reply = combineReplies(earlier, outcome.reply);
  if (outcome.reply === undefined) {
    const where = `dispatch/${session}/input.txt`;
    if (outcome.why === 'relay-down') say(`the relay on ${p.root} stopped while ${session} waited; letting Claude Code stop. The message stays queued; its reply will wait in ${where}.`);
    else if (outcome.why === 'signal') say(`interrupted; the reply will wait in ${where}`);
    else say(`no reply for ${session} within ${timeoutS} s; letting Claude Code stop. The reply will wait in ${where} and comes with this session's next turn (or: relay-tui recv --session ${session}).`);
  }
  if (reply !== undefined) printDecision(p, session, reply);
}

/** {"decision":"block","reason":...}: Claude Code goes on with the reason as its next instruction. */
function printDecision(p: RootPaths, session: string, reply: string): void {
  const { reason, file } = replyReason(reply, { session, repliesDir: p.replies });
  if (file) say(`the reply is ${reply.length} characters; the whole of it is in ${file}`);
  process.stdout.write(JSON.stringify({ decision: 'block', reason }) + '\n');
}

/**
 * waitForReply, given up early when the relay has been gone for RELAY_DOWN_GRACE_MS
 * (a restart within the grace is fine) or on SIGINT/SIGTERM. A reply that arrives
 * after that stays in dispatch/, unconsumed.
 */
async function waitWhileRelayLives(p: RootPaths, session: string, timeoutMs: number): Promise<{ reply?: string; why?: 'timeout' | 'relay-down' | 'signal' }> {
  const ac = new AbortController();
  let why: 'relay-down' | 'signal' | undefined;
  let downSince: number | undefined;
  const check = setInterval(() => {
    if (lockHolder(p.lock)) {
      downSince = undefined;
      return;
    }
    downSince ??= Date.now();
    if (Date.now() - downSince >= RELAY_DOWN_GRACE_MS) {
      why = 'relay-down';
      ac.abort();
    }
  }, LIVENESS_CHECK_MS);
  const onSignal = () => {
    why = 'signal';
    ac.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const reply = await waitForReply(p, session, timeoutMs, ac.signal);
    return reply !== undefined ? { reply } : { why: why ?? 'timeout' };
  } finally {
    clearInterval(check);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// ------------------------------------------------------------------ hook notify

const NOTIFY_PRIORITY: Record<string, number> = { permission_prompt: 4, elicitation_dialog: 4, idle_prompt: 3 };

async function notifyHook(o: HookOptions): Promise<void> {
  const input = parseInput(await readStdin());
  if (!input) return say('no Notification-hook JSON on stdin');
  const message = str(input.message)?.trim();
  if (!message) return say('the notification had no message');
  const session = o.session && /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(o.session) ? o.session : path.basename(str(input.cwd) ?? process.cwd()) || 'claude-code';
  const type = str(input.notification_type);
  // Not something waiting on the operator.
  if (type === 'auth_success') return;
  const title = str(input.title)?.trim() || 'Claude Code';
  const p = openRoot(o.root);
  await tellOperator(p, {
    at: new Date().toISOString(),
    kind: 'notification',
    session,
    title,
    message: type ? `${message} (${type})` : message,
    priority: NOTIFY_PRIORITY[type ?? ''] ?? 3,
  });
  if (!lockHolder(p.lock)) say(`no relay is running on ${p.root}; the notification went to ntfy only`);
}
