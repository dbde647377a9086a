import path from 'node:path';
import { lockHolder } from '../../fs/lock.js';
import { clipLine } from '../../text.js';
import { markWakeTurn, startNewChain } from './chain.js';
import { ackClaim, deliveryState, queuedWake, releaseClaim, revokeClaim, wasDelivered } from './claim.js';
import { findClaudeCode } from './proc.js';
import { describeToolUse, lastToolUseFromFile } from './text.js';
import { checkSessionId, isSessionId } from '../../protocol/session-id.js';
import { HookOutput, type HookOptions, onRelayHost, openRoot, parseInput, readStdin, str, tellOperator } from './io.js';
import { deliveryNonce } from './wait.js';

/**
 * UserPromptSubmit: every turn starts here, whether the user typed the prompt or the
 * background waiter woke the session with a reply (its prompt is the notification
 * text, which carries the delivery's nonce).
 *
 *   woken  -> the reply reached the session: ack it (input.txt deleted), and the chain
 *             of hook-delivered turns goes on.
 *   typed  -> the operator spoke: the chain starts again, and the relay is told
 *             (notice prompt_typed) so it resets the session's automatic-turn leash.
 *             A wake queued in this Claude Code and not yet run is revoked (claim.ts
 *             queuedWake): its reply goes to this turn's Stop hook instead.
 *   a woken prompt whose delivery was revoked or taken back by the relay is blocked
 *             ({"decision":"block"}): the reply went to the session another way, or was
 *             superseded, and must not reach the model (again).
 *
 * It prints nothing else: whatever a UserPromptSubmit hook prints is added to the prompt.
 */
export async function promptHook(o: HookOptions, out: HookOutput): Promise<void> {
  const input = parseInput(await readStdin());
  const session = o.session;
  if (!session || !input) return;
  checkSessionId(session);
  const prompt = str(input.prompt) ?? '';
  const p = openRoot(o.root);
  const nonce = deliveryNonce(prompt);
  if (nonce !== undefined) {
    if (deliveryState(p, session, nonce) === 'withdrawn') {
      releaseClaim(p, session, nonce);
      out.set({
        decision: 'block',
        reason: `relay-tui: this late delivery (${nonce}) was set aside: the session already had that reply another way, or the operator superseded it. Nothing to do.`,
      });
      return;
    }
    // A remote waiter's far half has already acked what it handed over (wait-far.ts): nothing to say.
    if (!ackClaim(p, session, nonce) && !wasDelivered(p, session, nonce))
      process.stderr.write(`relay-tui hook: delivery ${nonce} was already confirmed or is unknown\n`);
    markWakeTurn(p, session);
    return;
  }
  const queued = queuedWake(p, session, findClaudeCode());
  if (queued) revokeClaim(p, session, queued.nonce);
  await startNewChain(p, session, 'typed');
  await tellOperator(
    p,
    {
      at: new Date().toISOString(),
      kind: 'prompt_typed',
      session,
      title: 'prompt typed in Claude Code',
      message: clipLine(prompt, 200) || '(empty prompt)',
      priority: 1,
    },
    false,
  );
}

/** What Claude Code's StopFailure `error` values mean to the operator, and how loud to be. */
const FAILURES: Record<string, { why: string; priority: number }> = {
  rate_limit: { why: 'rate limited by the API', priority: 4 },
  billing_error: { why: 'a billing error (out of credits or over a spend limit)', priority: 5 },
  authentication_failed: { why: 'the API key was refused', priority: 5 },
  overloaded: { why: 'the API is overloaded', priority: 4 },
  server_error: { why: 'an API server error', priority: 4 },
  invalid_request: { why: 'the API refused the request', priority: 4 },
  max_output_tokens: { why: 'the reply hit the output token limit', priority: 3 },
};

/** StopFailure: the turn ended on an API error and the session sits idle; the operator hears why. */
export async function stopFailureHook(o: HookOptions, out: HookOutput): Promise<void> {
  const input = parseInput(await readStdin());
  if (!input) return out.say('no StopFailure-hook JSON on stdin.');
  const session = o.session && isSessionId(o.session) ? o.session : 'claude-code';
  const error = str(input.error) ?? str((input.error as { type?: unknown } | null | undefined)?.type) ?? 'unknown';
  const details = str(input.error_details);
  const last = str(input.last_assistant_message);
  const f = FAILURES[error] ?? { why: `an API error (${error})`, priority: 4 };
  const p = openRoot(o.root);
  // A running relay shows the notice and pings it itself; with none, the hook pings.
  const relayUp = !!lockHolder(p.lock);
  await tellOperator(
    p,
    {
      at: new Date().toISOString(),
      kind: 'stop_failure',
      session,
      title: `stopped: ${f.why}`,
      message: `Claude Code's turn ended on ${f.why} [${error}]${details ? `: ${clipLine(details, 300)}` : ''}. The session is idle until someone types into it.${last ? ` Its last message: ${clipLine(last, 200)}` : ''}`,
      priority: f.priority,
    },
    !relayUp,
  );
  out.say(`this turn ended on ${f.why}; the operator was told.`);
}

// ------------------------------------------------------------------ hook notify

const NOTIFY_PRIORITY: Record<string, number> = { permission_prompt: 4, elicitation_dialog: 4, idle_prompt: 3 };

/** Notification: "needs your permission", "waiting for input" — shown, and pinged to the operator. */
export async function notifyHook(o: HookOptions, out: HookOutput): Promise<void> {
  const input = parseInput(await readStdin());
  if (!input) return out.say('no Notification-hook JSON on stdin.');
  let message = str(input.message)?.trim();
  if (!message) return out.say('the notification had no message.');
  const session = o.session && isSessionId(o.session) ? o.session : path.basename(str(input.cwd) ?? process.cwd()) || 'claude-code';
  const type = str(input.notification_type);
  // Not something waiting on the operator.
  if (type === 'auth_success') return;
  // Claude Code's message names no tool: the transcript's last tool call does (not on the relay's host: not its file).
  if (type === 'permission_prompt' && str(input.transcript_path) && !onRelayHost()) {
    const tool = lastToolUseFromFile(str(input.transcript_path)!);
    if (tool) message = `${message}: ${describeToolUse(tool)}`;
  }
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
  if (!lockHolder(p.lock)) out.say(`no relay is running on ${p.root}; the notification went to ntfy only.`);
}
