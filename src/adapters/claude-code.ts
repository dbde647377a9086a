import { ChatError, type ChatCallOptions, type ChatClient, type ChatRequest, type ChatResult } from './anthropic.js';
import { authStatus, type CcAccount } from './claude-code-account.js';
import { ClaudeProcess, TurnCut, type CcEvent } from './claude-code-process.js';
import { answered, planRequest, SessionStore, type Plan, type SessionRecord } from './claude-code-session.js';
import { turnUsage } from './claude-code-usage.js';
import { assistantText, rateLimited, resultError, sessionMissing, turnCost } from './claude-code-events.js';

export { ClaudeCodeError, resultError, sessionMissing } from './claude-code-events.js';

/**
 * chat-Claude on the user's own Claude Code (chat.backend: claude-code). The engine's
 * ChatClient, backed by one long-lived `claude -p` in stream-json mode:
 * - no tools, none of the user's settings, hooks, plugins, CLAUDE.md or MCP servers
 *   (--tools "", --setting-sources "", --strict-mcp-config, a private working directory);
 * - only what is new is sent when a request extends what the session holds; otherwise a
 *   fresh session is seeded with the request's messages (claude-code-session.ts);
 * - after a restart, a cut call or an error the session is resumed at its last answered
 *   turn (--resume ID --resume-session-at UUID), which drops an unanswered message, so
 *   chat-Claude never sees one twice; a session Claude Code cannot find (its transcript
 *   never written) is started over, seeded, the message still sent once;
 * - Claude Code's own auto-compaction is off (the relay summarizes), and its retries are
 *   api.max_retries; a 429 is never retried here (no retry storm against a subscription).
 */

export interface ClaudeCodeChatOptions {
  /** chat.claude_path: a path or a name looked up on PATH. */
  claudePath: string;
  /** A directory of the relay's state the client owns (the engine's choice, e.g. state/claude-code). */
  stateDir: string;
  /** api.idle_timeout_s: no output from Claude Code for this long kills the turn. */
  idleTimeoutMs: number;
  /** api.timeout_s: the whole turn. */
  timeoutMs: number;
  /** api.max_retries: Claude Code's own retries of 5xx/overloaded answers. */
  maxRetries: number;
  /** The environment Claude Code runs in: the user's, so it finds its own sign-in. */
  env?: NodeJS.ProcessEnv;
  /** Where the client says what it did (a fresh session and why, a resume): the relay's log. */
  onNotice?: (text: string) => void;
  /** The first restart after a crash waits this long, doubling to 30 s. Default 1 s. */
  restartBackoffMs?: number;
}

/** ChatResult plus what the relay shows on this backend. */
export interface ClaudeCodeResult extends ChatResult {
  backend: 'claude-code';
  /** The account does not pay per token (a subscription): show cost as `≈ $x at API prices`. */
  notional: boolean;
  account?: CcAccount;
  /** Claude Code's own figure for this turn (its total_cost_usd is per process: this is the difference). */
  reportedCostUsd?: number;
  sessionId: string;
  /** This call started a new supervisor session (and why), e.g. after a summary. */
  freshSession?: string;
}

export interface ClaudeCodeChatClient extends ChatClient {
  readonly backend: 'claude-code';
  complete(req: ChatRequest, opts?: ChatCallOptions): Promise<ClaudeCodeResult>;
  /** The account Claude Code is signed into, once `claude auth status` answered. */
  account(): CcAccount | undefined;
  describe(): { backend: 'claude-code'; account: string | null; notional: boolean };
  /** The running process's pid (for the bench's memory figure), if one runs. */
  pid(): number | undefined;
  close(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

export function claudeArgs(req: ChatRequest, resume?: { sessionId: string; anchor: string }): string[] {
  const args = ['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose', '--include-partial-messages'];
  args.push('--tools', '', '--setting-sources', '', '--strict-mcp-config', '--system-prompt', req.system, '--model', req.model);
  if (resume) args.push('--resume', resume.sessionId, '--resume-session-at', resume.anchor);
  return args;
}

export function claudeEnv(base: NodeJS.ProcessEnv, req: ChatRequest, maxRetries: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  // Started from inside a Claude Code session, the child would believe it is nested in it.
  delete env.CLAUDECODE;
  delete env.CLAUDE_CODE_ENTRYPOINT;
  return {
    ...env,
    DISABLE_AUTO_COMPACT: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: String(maxRetries),
    CLAUDE_CODE_MAX_OUTPUT_TOKENS: String(req.max_tokens),
  };
}

interface Live {
  proc: ClaudeProcess;
  key: string;
  /** The session holds an unanswered message (a failed or cut turn): resume before the next one. */
  dirty: boolean;
  /**
   * total_cost_usd after the previous result of this process: 0 for a fresh session,
   * unknown for a resumed one (2.1.332 restores the session's earlier total on --resume).
   */
  costSoFar?: number;
}

const procKey = (req: ChatRequest) => `${req.model}\u0000${req.max_tokens}`;

export function createClaudeCodeChat(o: ClaudeCodeChatOptions): ClaudeCodeChatClient {
  const store = new SessionStore(o.stateDir);
  const baseEnv = o.env ?? process.env;
  const backoffBase = o.restartBackoffMs ?? 1000;
  let live: Live | undefined;
  let account: CcAccount | undefined;
  let accountAsked: Promise<void> | undefined;
  let failures = 0;
  let notBefore = 0;
  const notice = (t: string) => o.onNotice?.(`claude-code: ${t}`);

  /** Asked once, beside the first start-up (it takes about as long), and awaited by the first result. */
  function askAccount(cwd: string): void {
    accountAsked ??= authStatus(o.claudePath, baseEnv, 10_000, cwd).then((s) => {
      if (s.ok) account = s.account;
      else notice(`cannot tell the account kind: ${s.error}`);
    });
  }

  async function waitBackoff(signal?: AbortSignal): Promise<void> {
    const ms = notBefore - Date.now();
    if (ms <= 0) return;
    notice(`restarting Claude Code in ${(ms / 1000).toFixed(1)} s (it failed ${failures} time${failures === 1 ? '' : 's'} in a row)`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
    if (signal?.aborted) throw new ChatError('request aborted before it was sent', false, undefined, 'aborted', undefined, false);
  }

  async function stopLive(): Promise<void> {
    const l = live;
    live = undefined;
    await l?.proc.stop();
  }

  function start(req: ChatRequest, resume?: { sessionId: string; anchor: string }): Live {
    const cwd = store.ensureWorkdir();
    askAccount(cwd);
    const proc = new ClaudeProcess({ bin: o.claudePath, args: claudeArgs(req, resume), cwd, env: claudeEnv(baseEnv, req, o.maxRetries) });
    live = { proc, key: procKey(req), dirty: false, ...(resume ? {} : { costSoFar: 0 }) };
    return live;
  }

  /** The process for this plan: the live one when it can take the message, else a new (resumed or fresh) one. */
  async function processFor(req: ChatRequest, plan: Plan, rec: SessionRecord | undefined): Promise<Live> {
    if (plan.kind === 'extend' && !plan.at && rec && live && !live.dirty && live.proc.alive && live.key === procKey(req)) return live;
    await stopLive();
    if (plan.kind === 'extend' && plan.at) {
      notice('the last turn is asked again (its answer never reached the relay): resuming the session before it');
      return start(req, { sessionId: rec!.session_id, anchor: plan.at.anchor });
    }
    if (plan.kind === 'extend' && rec?.anchor) return start(req, { sessionId: rec.session_id, anchor: rec.anchor });
    return start(req);
  }

  async function turn(req: ChatRequest, plan: Plan, rec: SessionRecord | undefined, callOpts: ChatCallOptions): Promise<ClaudeCodeResult> {
    const before = live;
    const l = await processFor(req, plan, rec);
    const resumedHere = plan.kind === 'extend' && l !== before;
    if (plan.kind === 'fresh') {
      notice(`fresh supervisor session: ${plan.reason}`);
      store.clear();
    } else {
      // From here the session holds up to `from`, whatever it held before (a rewind drops the last turn).
      const from = plan.at ?? { anchor: rec!.anchor!, held: rec!.held, hash: rec!.hash };
      store.save({ ...rec!, ...from, before: rec!.before, in_flight: { since: new Date().toISOString(), held: from.held } });
    }
    let streamed = false;
    let lastAssistant: CcEvent | undefined;
    const texts: string[] = [];
    let retry429: CcEvent | undefined;
    let limit: Record<string, unknown> | undefined;
    const ctl = new AbortController();
    const onOuter = () => ctl.abort();
    callOpts.signal?.addEventListener('abort', onOuter, { once: true });
    if (callOpts.signal?.aborted) ctl.abort();
    let result: CcEvent;
    try {
      result = await l.proc.send(
        plan.text,
        {
          onEvent(ev) {
            if (ev.type === 'stream_event') {
              const e = ev.event as { type?: string; delta?: { type?: string; text?: string } } | undefined;
              if (e?.type === 'content_block_delta' && e.delta?.type === 'text_delta' && e.delta.text) {
                streamed = true;
                callOpts.onText?.(e.delta.text);
              }
            } else if (ev.type === 'assistant') {
              lastAssistant = ev;
              texts.push(assistantText(ev));
            } else if (ev.type === 'rate_limit_event') limit = ev.rate_limit_info as Record<string, unknown> | undefined;
            else if (ev.type === 'system' && ev.subtype === 'api_retry' && ev.error_status === 429) {
              // Claude Code would retry a 429 on its own: cut it here, the relay decides when to try again.
              retry429 = ev;
              ctl.abort();
            }
          },
        },
        { idleMs: o.idleTimeoutMs, deadlineMs: o.timeoutMs, signal: ctl.signal },
      );
    } catch (err) {
      l.dirty = true;
      if (retry429) throw rateLimited(retry429, limit);
      if (err instanceof TurnCut) throw cutError(err, resumedHere && !l.proc.init);
      throw err;
    } finally {
      callOpts.signal?.removeEventListener('abort', onOuter);
    }
    if (result.is_error === true || result.subtype !== 'success') {
      l.dirty = true;
      // The resumed session is not on disk (Claude Code answers at once, before any API call): start over, seeded.
      const missing = resumedHere ? sessionMissing(result, l.proc.stderr) : undefined;
      if (missing) throw resumeFailedError(missing);
      if (rec && plan.kind === 'extend') store.save({ ...store.load()!, in_flight: null });
      throw resultError(result, limit);
    }
    failures = 0;
    notBefore = 0;
    await accountAsked;
    // A reply cut at max_tokens is continued by Claude Code in a second call, and `result` holds only the last part.
    const text = texts.join('') || (typeof result.result === 'string' ? result.result : '');
    if (!streamed && text && callOpts.onText) callOpts.onText(text);
    const sessionId = String(result.session_id ?? l.proc.init?.session_id ?? '');
    const from = plan.kind === 'extend' ? (plan.at ?? { anchor: rec!.anchor!, held: rec!.held, hash: rec!.hash }) : undefined;
    store.save(answered(req, text, sessionId, lastAssistant?.uuid ?? null, from));
    const total = typeof result.total_cost_usd === 'number' ? result.total_cost_usd : undefined;
    const reportedCostUsd = turnCost(result) ?? (total !== undefined && l.costSoFar !== undefined ? total - l.costSoFar : undefined);
    l.costSoFar = total;
    const usage = turnUsage(result);
    const msg = (lastAssistant?.message ?? {}) as { model?: string };
    return {
      text,
      usage,
      stopReason: typeof result.stop_reason === 'string' ? result.stop_reason : null,
      model: msg.model ?? req.model,
      requestId: typeof lastAssistant?.request_id === 'string' ? lastAssistant.request_id : null,
      backend: 'claude-code',
      notional: account?.notional ?? true,
      ...(account ? { account } : {}),
      ...(reportedCostUsd !== undefined ? { reportedCostUsd: Number(reportedCostUsd.toFixed(6)) } : {}),
      sessionId,
      ...(plan.kind === 'fresh' ? { freshSession: plan.reason } : {}),
    };
  }

  /** The session cannot be resumed: the record is dropped and serialised() asks again in a fresh session, seeded. */
  function resumeFailedError(why: string): ChatError {
    notice(`resuming the supervisor session failed (${why}); starting a fresh one`);
    store.clear();
    return new ChatError(why, true, undefined, 'resume_failed');
  }

  function cutError(err: TurnCut, resumeFailed: boolean): ChatError {
    if (err.why === 'aborted') return new ChatError('request aborted', false, undefined, 'aborted');
    if (err.why === 'spawn') {
      failures++;
      notBefore = Date.now() + Math.min(MAX_BACKOFF_MS, backoffBase * 2 ** (failures - 1));
      const missing = err.errno === 'ENOENT';
      return new ChatError(
        missing
          ? `Claude Code not found: ${o.claudePath} (chat.claude_path); install it or set chat.claude_path to its full path`
          : err.message,
        !missing,
        undefined,
        'claude_code_missing',
        undefined,
        false,
      );
    }
    if (err.why === 'exit') {
      failures++;
      notBefore = Date.now() + Math.min(MAX_BACKOFF_MS, backoffBase * 2 ** (failures - 1));
      // A resume that dies before its first event: the session is gone from Claude Code's store.
      if (resumeFailed) return resumeFailedError(err.message);
      return new ChatError(err.message, true, undefined, 'claude_code_exit');
    }
    const what = err.why === 'idle' ? '(api.idle_timeout_s)' : err.why === 'deadline' ? '(api.timeout_s)' : '';
    return new ChatError(`${err.message} ${what}; Claude Code was stopped`.replace('  ', ' '), true, undefined, 'timeout');
  }

  async function serialised(req: ChatRequest, callOpts: ChatCallOptions): Promise<ClaudeCodeResult> {
    if (callOpts.signal?.aborted) throw new ChatError('request aborted before it was sent', false, undefined, 'aborted', undefined, false);
    await waitBackoff(callOpts.signal);
    const rec = store.load((m) => notice(m));
    if (rec?.in_flight && !live)
      notice(`a call was cut (out since ${rec.in_flight.since}); resuming the supervisor session at its last answered turn`);
    try {
      return await turn(req, planRequest(req, rec), rec, callOpts);
    } catch (err) {
      if (!(err instanceof ChatError) || err.type !== 'resume_failed') throw err;
      failures = 0;
      notBefore = 0;
      return turn(req, planRequest(req, undefined), undefined, callOpts);
    }
  }

  // One turn at a time: the session is one conversation, and a message sent mid-turn would be merged into it.
  let tail: Promise<void> = Promise.resolve();
  return {
    backend: 'claude-code',
    async complete(req, callOpts = {}) {
      const before = tail;
      let release!: () => void;
      tail = new Promise<void>((r) => (release = r));
      try {
        await before;
        return await serialised(req, callOpts);
      } finally {
        release();
      }
    },
    account: () => account,
    // Until `claude auth status` answered the account is unknown: notional is the safe label (it never claims a real bill).
    describe: () => ({ backend: 'claude-code', account: account?.label ?? null, notional: account?.notional ?? true }),
    pid: () => (live?.proc.alive ? live.proc.pid : undefined),
    close: () => stopLive(),
  };
}
