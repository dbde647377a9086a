import fs from 'node:fs';
import { readDotenv } from '../../config/env.js';
import type { Config } from '../../config/schema.js';
import { lockHolder } from '../../fs/lock.js';
import type { Evidence } from '../../protocol/evidence.js';
import type { RootPaths } from '../../protocol/root.js';
import { checkSessionId } from '../../protocol/session-id.js';
import { chainCount, markContinued, readRecord, readRelayChain, writeRecord } from './chain.js';
import { ackClaim, claimReply, markStopWaiting, queuedWake, releaseClaim, revokeClaim, sessionDir, type Claimed } from './claim.js';
import { decidedNothingComing, heldNote, readSessionView, type SessionView } from './decision.js';
import { notifyHook, promptHook, stopFailureHook } from './events.js';
import {
  effectiveMaxChain,
  HookOutput,
  type HookOptions,
  loadRootConfig,
  onRelayHost,
  openRoot,
  parseInput,
  readStdin,
  str,
  tellOperator,
} from './io.js';
import { findClaudeCode, isLive, procId, type ProcId } from './proc.js';
import { fitEnvelopeContent, lastAssistantTextFromFile, replyReason } from './text.js';
import { recordWait } from './waits.js';
import { waitUntil } from './watch.js';

/**
 * Claude Code hooks (README: "Claude Code").
 *
 *   hook stop          Stop: the session's last message goes to the relay as an envelope;
 *                      the hook waits (its window) for the reply and returns it as
 *                      {"decision":"block","reason":...}, so Claude Code goes on with it.
 *   hook wait          Stop, async with asyncRewake (bin/relay-tui-hook-wait.js): a reply
 *                      that comes after the window wakes the idle session (hook-wait.ts).
 *   hook prompt        UserPromptSubmit: confirms a woken turn, or tells the relay the
 *                      user typed a prompt (the session's leash starts again).
 *   hook stop-failure  StopFailure: the turn ended on an API error; shown and pinged.
 *   hook notify        Notification: "needs your permission", "waiting for input".
 *   hook install       writes all of them into a project's .claude/settings.json.
 *
 * A hook must never wedge a session: these exit 0 on every path (relay down, bad
 * input, internal error), saying why as {"systemMessage": ...}, which Claude Code shows.
 */

/** A little under Claude Code's 600 s limit for a command hook, so the hook ends it, not a kill. */
export const DEFAULT_STOP_TIMEOUT_S = 540;
/** While waiting, a relay that has been gone this long means: give up and let the session stop. */
const RELAY_DOWN_GRACE_MS = 10_000;
const LIVENESS_CHECK_MS = 1000;
/** The operator decided and nothing of the session is on its way: looked at twice this far apart before standing down. */
const DECIDED_GRACE_MS = 1500;

const USAGE = `usage: relay-tui hook stop --session ID [--root DIR] [--timeout S]      (Claude Code Stop hook; JSON on stdin)
       relay-tui hook prompt --session ID [--root DIR]                  (UserPromptSubmit hook)
       relay-tui hook stop-failure --session ID [--root DIR]            (StopFailure hook)
       relay-tui hook notify --session ID [--root DIR]                  (Notification hook)
       relay-tui hook install --session ID [--project DIR] [--root DIR] [--timeout S] [--print]
       (the late-reply waiter runs as: node bin/relay-tui-hook-wait.js --session ID --root DIR)
`;

export async function hookCommand(rest: string[], o: HookOptions): Promise<number> {
  const [sub, ...extra] = rest;
  if (extra.length) {
    process.stderr.write(`relay-tui hook: unexpected argument ${extra[0]}\n${USAGE}`);
    return sub === 'install' ? 2 : 0;
  }
  switch (sub) {
    case 'stop':
      return guarded('stop', (out) => stopHook(o, out));
    case 'prompt':
      return guarded('prompt', (out) => promptHook(o, out));
    case 'stop-failure':
      return guarded('stop-failure', (out) => stopFailureHook(o, out));
    case 'notify':
      return guarded('notify', (out) => notifyHook(o, out));
    case 'install':
      return (await import('./install.js')).installCommand(o);
    default:
      process.stderr.write(`relay-tui hook: ${sub ? `unknown hook command ${sub}` : 'which hook?'}\n${USAGE}`);
      return 2;
  }
}

/** Any failure is one systemMessage and exit 0, so Claude Code simply goes on. */
async function guarded(name: string, fn: (out: HookOutput) => Promise<void>): Promise<number> {
  const out = new HookOutput();
  try {
    await fn(out);
  } catch (err) {
    out.say(`${name} hook failed, letting Claude Code go on: ${(err as Error)?.message ?? err}`);
  }
  out.flush();
  return 0;
}

// ------------------------------------------------------------------ hook stop

async function stopHook(o: HookOptions, out: HookOutput): Promise<void> {
  const input = parseInput(await readStdin());
  const session = o.session;
  if (!session) return out.say('hook stop needs --session ID (see relay-tui hook install); letting Claude Code stop.');
  checkSessionId(session);
  if (!input) return out.say('no Stop-hook JSON on stdin; letting Claude Code stop.');
  const event = str(input.hook_event_name);
  if (event && event !== 'Stop') return out.say(`hook stop got a ${event} event; it only handles Stop.`);

  const p = openRoot(o.root);
  if (!lockHolder(p.lock))
    return out.say(
      `no relay is running on ${p.root}; this turn was not sent for review (start it with: relay-tui --no-ui --root ${p.root}).`,
    );
  const me = procId(process.pid) ?? { pid: process.pid, start: 0 };
  const cc = findClaudeCode();
  // Read before the marker goes up: a decision seen after that is one made while this hook waits.
  const before = await readSessionView(p, session);
  // Up from the start, not only while waiting: the late-reply waiter of this same Stop leaves
  // input.txt to this hook, where it would otherwise claim a reply already there (wait.ts).
  const unmark = markStopWaiting(p, session, { owner: me, ...(cc ? { cc } : {}), at: new Date().toISOString() });
  try {
    await stopTurn(o, out, input, p, session, { me, cc, before });
  } finally {
    unmark();
  }
}

async function stopTurn(
  o: HookOptions,
  out: HookOutput,
  input: Record<string, unknown>,
  p: RootPaths,
  session: string,
  { me, cc, before }: { me: ProcId; cc: ProcId | undefined; before: SessionView | undefined },
): Promise<void> {
  const config = await loadRootConfig(p, out);
  const { enqueueEnvelope } = await import('../../protocol/envelope.js');
  const chainCap = effectiveMaxChain(config.hooks.max_chain);
  if (chainCap.clamped)
    out.say(
      `hooks.max_chain ${config.hooks.max_chain} is not below Claude Code's cap of ${chainCap.cap} consecutive Stop-hook blocks; using ${chainCap.max}.`,
    );
  const active = input.stop_hook_active === true;
  const rec = readRecord(p, session);
  const relayChain = await readRelayChain(p, session);
  // On the relay's host the transcript is the session machine's path: its client filled the message in.
  const message =
    str(input.last_assistant_message)?.trim() ||
    (str(input.transcript_path) && !onRelayHost() ? lastAssistantTextFromFile(str(input.transcript_path)!) : undefined);

  // A turn the background waiter started goes on counting, though Claude Code reports it as not hook-continued.
  const chained = active || rec.last_prompt === 'wake';
  if (!chained) {
    // This turn began with the human's own prompt: count hook turns from here.
    if (rec.chain_base !== relayChain) writeRecord(p, session, { ...rec, chain_base: relayChain });
    // Without the UserPromptSubmit hook (an older install) this is where a typed prompt shows.
    if (rec.last_prompt === undefined)
      await tellOperator(
        p,
        {
          at: new Date().toISOString(),
          kind: 'prompt_typed',
          session,
          title: 'prompt typed in Claude Code',
          message: 'a turn the user started ended (seen by the Stop hook)',
          priority: 1,
        },
        false,
      );
  } else {
    const { count, base } = chainCount(relayChain, rec.chain_base);
    if (base !== rec.chain_base) writeRecord(p, session, { ...rec, chain_base: base });
    if (count >= chainCap.max) {
      const why = `${count} hook-delivered turns in a row with no operator input (hooks.max_chain: ${chainCap.max})`;
      out.say(`${why}; this session stops here and its last message was not sent for review. Type a prompt here to start a new chain.`);
      await tellOperator(p, {
        at: new Date().toISOString(),
        kind: 'chain_cap',
        session,
        title: 'stopped by the hook chain cap',
        message: `${why}; ${session} stops here. Its last message (not sent to chat-Claude): ${message ? message.slice(0, 400) : '(none)'}`,
        priority: 4,
      });
      return;
    }
  }

  if (!message) return out.say('the turn ended without any assistant text to send; letting Claude Code stop.');

  const who = { owner: me, ...(cc ? { cc } : {}), via: 'stop' as const };
  // A wake the waiter handed to this Claude Code while it was busy, still queued there: this
  // turn takes the reply now, and the queued prompt is blocked when it comes (claim.ts queuedWake).
  const queued = queuedWake(p, session, cc);
  if (queued) revokeClaim(p, session, queued.nonce);
  // A reply that came after an earlier window closed and that no waiter handed over (none
  // installed, or it died). The relay writes the next reply only once this one is acked,
  // so it goes to the session now, and the review of this message follows it.
  const earlier = claimReply(p, session, who);
  const evidence = await turnEvidence(p, input, message, config);
  // The digest shares the envelope's limit with the message: the message gives way.
  const overhead = 1024 + (evidence ? Buffer.byteLength(JSON.stringify(evidence), 'utf8') : 0);
  let sendError: unknown;
  try {
    enqueueEnvelope(p, session, fitEnvelopeContent(message, config.limits.max_envelope_bytes, overhead), {
      source: 'hook',
      stop_hook_active: active,
      ...(evidence ? { evidence } : {}),
      ...(str(input.session_id) ? { claude_session_id: str(input.session_id) } : {}),
      ...(str(input.cwd) ? { cwd: str(input.cwd) } : {}),
    });
  } catch (err) {
    sendError = err;
  }
  if (earlier) {
    recordWait(p, session, { at: new Date().toISOString(), waited_ms: 0, outcome: 'earlier-reply', pid: process.pid });
    out.say(
      sendError
        ? `this message could not be sent for review: ${(sendError as Error).message}.`
        : 'This message went for review too; that reply comes when it is ready.',
    );
    return deliver(p, session, out, [earlier], true);
  }
  if (sendError) throw sendError;

  const timeoutS = o.timeoutS ?? DEFAULT_STOP_TIMEOUT_S;
  const startedAt = Date.now();
  const outcome = await waitForReview(p, session, timeoutS * 1000, who, cc, before);
  recordWait(p, session, {
    at: new Date(startedAt).toISOString(),
    waited_ms: Date.now() - startedAt,
    outcome: outcome.claimed ? 'reply' : (outcome.why ?? 'timeout'),
    pid: process.pid,
    ...(outcome.revoked ? { revoked_wakes: outcome.revoked } : {}),
  });
  const where = `dispatch/${session}/input.txt`;
  if (!outcome.claimed) {
    if (outcome.why === 'relay-down')
      out.say(
        `the relay on ${p.root} stopped while this session waited; letting Claude Code stop. The message stays queued; its reply waits in ${where}.`,
      );
    else if (outcome.why === 'claude-gone') out.say('Claude Code went away while the hook waited; the reply stays for the next session.');
    else if (outcome.why === 'signal') out.say(`interrupted; the reply will wait in ${where}.`);
    else if (outcome.why === 'decided')
      out.say('the operator decided about this session and no reply to this message is coming; letting Claude Code stop.');
    else {
      const held = heldNote(outcome.view, session);
      out.say(
        held
          ? `no review within ${timeoutS} s: ${held} Letting Claude Code stop; the reply will wake this session when it comes.`
          : `no review within ${timeoutS} s; letting Claude Code stop. The reply will wake this session when it comes (or: relay-tui recv --session ${session}).`,
      );
    }
  }
  if (outcome.claimed) deliver(p, session, out, [outcome.claimed]);
}

/**
 * What the turn did, from its transcript (hooks.evidence: digest): bounded in time (a short
 * wait for Claude Code to finish writing the turn, a git with a timeout) and in bytes, with the
 * relay's own key and the session's secret-named variables removed. Undefined when off; a fault
 * of its own becomes a note in the digest, never a failed hook. Over --remote, the digest the
 * session's machine built (remote/evidence.ts), checked and fitted here.
 */
async function turnEvidence(p: RootPaths, input: Record<string, unknown>, message: string, config: Config): Promise<Evidence | undefined> {
  if (config.hooks.evidence === 'off') return undefined;
  const [{ buildEvidence }, { secretValues }] = await Promise.all([import('./evidence/digest.js'), import('./evidence/redact.js')]);
  let secrets: string[];
  try {
    secrets = secretValues(readDotenv(p.env), process.env);
  } catch {
    secrets = secretValues(process.env);
  }
  // Run over --remote, this is the relay's host: the transcript and cwd name the session's machine.
  if (onRelayHost()) return (await import('../remote/evidence.js')).farEvidence(input, config.hooks.evidence_max_bytes, secrets);
  return buildEvidence({
    transcriptPath: str(input.transcript_path),
    cwd: str(input.cwd),
    lastMessage: message,
    maxBytes: config.hooks.evidence_max_bytes,
    secrets,
  });
}

/**
 * Prints the block decision and acks what it carried; when Claude Code is gone
 * (stdout closed), the claims are released and the replies stay in dispatch/.
 */
function deliver(p: RootPaths, session: string, out: HookOutput, claims: Claimed[], late = false): void {
  const reply = claims.map((c) => c.text).join('\n\n');
  const { reason, file } = replyReason(reply, { session, root: p.root, repliesDir: p.replies, late });
  out.set({ decision: 'block', reason });
  // The turn goes on: a late-reply waiter started at this Stop has no idle time to serve (wait.ts).
  markContinued(p, session);
  const what = late ? 'an earlier reply from the reviewer relay was waiting' : 'the reviewer relay replied';
  out.say(
    file
      ? `${what} (${reply.length} characters, in full in ${file}); Claude Code continues with it.`
      : `${what}; Claude Code continues with it.`,
  );
  const ok = out.flush();
  for (const c of claims) (ok ? ackClaim : releaseClaim)(p, session, c.record.nonce);
}

type WaitEnd = 'timeout' | 'relay-down' | 'signal' | 'claude-gone' | 'decided';

/**
 * Waits for the reply and claims it; gives up when the relay has been gone for
 * RELAY_DOWN_GRACE_MS (a restart within the grace is fine), when Claude Code died
 * (the hook outlived it: the reply must stay for whoever comes next), on a signal, or
 * when the operator decided about the session and nothing of it is on its way (a drop:
 * the reply will never come). Never behind a wake queued in its own Claude Code: that
 * claim is revoked and the reply taken (claim.ts queuedWake).
 */
async function waitForReview(
  p: RootPaths,
  session: string,
  timeoutMs: number,
  who: Parameters<typeof claimReply>[2],
  cc: ProcId | undefined,
  before: SessionView | undefined,
): Promise<{ claimed?: Claimed; why?: WaitEnd; view?: SessionView; revoked?: number }> {
  const ac = new AbortController();
  let why: WaitEnd | undefined;
  let downSince: number | undefined;
  let view = before;
  const baseSeq = view?.decisionSeq;
  let decidedSince: number | undefined;
  let revoked = 0;
  let looking = false;
  const lookAtRelay = async () => {
    if (looking) return;
    looking = true;
    try {
      view = (await readSessionView(p, session)) ?? view;
      if (!decidedNothingComing(view, baseSeq)) decidedSince = undefined;
      else if (decidedSince === undefined) decidedSince = Date.now();
      else if (Date.now() - decidedSince >= DECIDED_GRACE_MS && !ac.signal.aborted) {
        why = 'decided';
        ac.abort();
      }
    } finally {
      looking = false;
    }
  };
  const check = setInterval(() => {
    if (cc && !isLive(cc)) {
      why = 'claude-gone';
      return ac.abort();
    }
    if (lockHolder(p.lock)) {
      downSince = undefined;
      void lookAtRelay();
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
  process.once('SIGHUP', onSignal);
  try {
    fs.mkdirSync(sessionDir(p, session), { recursive: true });
    const look = () => {
      if (cc && !isLive(cc)) return undefined;
      const queued = queuedWake(p, session, cc);
      if (queued) {
        revokeClaim(p, session, queued.nonce);
        revoked++;
      }
      return claimReply(p, session, who);
    };
    const claimed = await waitUntil([sessionDir(p, session)], look, { timeoutMs, tickMs: 5000, signal: ac.signal });
    const extra = { ...(view ? { view } : {}), ...(revoked ? { revoked } : {}) };
    return claimed ? { claimed, ...extra } : { why: why ?? 'timeout', ...extra };
  } finally {
    clearInterval(check);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}
