import { z } from 'zod';
import { isBuiltinModel } from '../pricing/price-table.js';
import { priceOverride } from '../pricing/price-schema.js';
import { SESSION_ID_RE } from '../protocol/session-id.js';
import { checkKeys, DEFAULT_KEYS, type KeyAction } from './keys.js';
import { stopHookBlockCap } from './claude-code-cap.js';
import { EVIDENCE_MAX_BYTES_CAP } from '../protocol/evidence.js';

/**
 * The one source of truth for config.yaml: the TypeScript type, the validation and
 * the defaults all come from here. Every object is strict so a typo surfaces as an
 * `unrecognized_keys` issue, which load.ts turns into a warning rather than an error.
 */

const sessionId = z.string().regex(SESSION_ID_RE, 'must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');

export const DEFAULT_SYSTEM_PROMPT = `You are chat-Claude, the reviewer and coordinator for several Claude Code sessions.
Each user message starts with a label like [session-1] naming the session that speaks, or
[operator] when the human operator (JC) writes to you directly.
Answer the session that spoke with a clear, actionable next instruction; your reply is
delivered verbatim to that session as its next input.
When a decision needs the human operator (money, credentials, irreversible actions, unclear
requirements, or sessions that disagree), start your reply with [NEEDS-JC] followed by the
question; that session waits for the operator's answer. The question stays open while you
go on answering the other sessions: their messages keep arriving, and the operator's answer
comes later, labelled [operator].
A session's message may be followed by an <evidence> block: what its turn did (files changed,
commands and their exit status, test counts, tools denied), read from outside the session.
Check the session's account against it; when they disagree (passing tests claimed beside a
failing run, files changed outside the task), say so and ask the session before moving on.`;

export const DEFAULT_SUMMARIZATION_PROMPT = `Summarize the conversation so far for your own future use: for each session, what it
is working on, decisions made, open questions and the last instruction it was given. Keep
every fact needed to continue; drop pleasantries. Plain text, at most 800 words.`;

export const configSchema = z.strictObject({
  model: z.string().min(1).default('claude-opus-5-5'),
  max_tokens: z.number().int().positive().max(128_000).default(4096),
  system_prompt: z.string().min(1).default(DEFAULT_SYSTEM_PROMPT),
  sessions: z
    .array(z.strictObject({ id: sessionId, description: z.string().optional() }))
    .default([{ id: 'session-1', description: 'first session' }]),
  history: z
    .strictObject({
      cap_tokens: z.number().int().positive().default(60_000),
      keep_recent: z.number().int().nonnegative().default(4),
      summarization_prompt: z.string().min(1).default(DEFAULT_SUMMARIZATION_PROMPT),
    })
    .prefault({}),
  limits: z
    .strictObject({
      max_envelope_bytes: z.number().int().positive().default(262_144),
      // Operator input (prompt line, jc_input.txt, say, inbox): larger is set aside, never sent.
      max_operator_input_bytes: z.number().int().positive().default(262_144),
    })
    .prefault({}),
  strict_sessions: z.boolean().default(false),
  approval: z.enum(['auto', 'needs_jc', 'all']).default('needs_jc'),
  // A held reply holds its own session (the others flow); hold_all: the whole relay waits, as before issue 23.
  on_question: z.enum(['hold_session', 'hold_all']).default('hold_session'),
  guardrails: z
    .strictObject({
      budget_usd_per_day: z.number().nonnegative().default(20),
      budget_usd_per_session_per_day: z.number().nonnegative().default(5),
      max_turn_cost_usd: z.number().nonnegative().default(1),
      max_auto_turns: z.number().int().nonnegative().default(12),
      max_turns_per_hour: z.number().int().nonnegative().default(60),
      repeat_threshold: z.number().int().nonnegative().default(3),
      warn_at_fraction: z.number().min(0).max(1).default(0.8),
    })
    .prefault({}),
  ntfy: z
    .strictObject({
      away_after_s: z.number().nonnegative().default(120),
      always: z.boolean().default(false),
      accept_replies: z.boolean().default(false),
    })
    .prefault({}),
  hooks: z
    .strictObject({
      // Claude Code drops a Stop hook's reply past its own cap of consecutive blocks: stay below it.
      max_chain: z
        .number()
        .int()
        .nonnegative()
        .default(6)
        .refine((n) => n < stopHookBlockCap(), {
          error: (i) =>
            `must be below Claude Code's cap of ${stopHookBlockCap()} consecutive Stop-hook blocks (CLAUDE_CODE_STOP_HOOK_BLOCK_CAP), got ${String(i.input)}`,
        }),
      // What the Stop hook adds to each envelope: a digest of the turn's transcript (src/commands/hook/evidence/digest.ts), or nothing.
      evidence: z.enum(['off', 'digest']).default('digest'),
      // Its bound, as bytes of what chat-Claude reads; cut with a note past it.
      evidence_max_bytes: z.number().int().min(256).max(EVIDENCE_MAX_BYTES_CAP).default(2048),
    })
    .prefault({}),
  api: z
    .strictObject({
      // SDK-level retries per call, then the relay's own outer retries with longer backoff.
      max_retries: z.number().int().nonnegative().default(2),
      outer_retries: z.number().int().nonnegative().default(5),
      timeout_s: z.number().positive().default(600),
      // No byte of the stream for this long: abort and retry like a connection error.
      idle_timeout_s: z.number().positive().default(60),
    })
    .prefault({}),
  chat: z
    .strictObject({
      // Who answers as chat-Claude: the Messages API with ANTHROPIC_API_KEY, or the user's own Claude Code CLI.
      backend: z.enum(['api', 'claude-code']).default('api'),
      // The Claude Code CLI for backend claude-code: a path, or a name looked up on PATH.
      claude_path: z.string().min(1).default('claude'),
    })
    .prefault({}),
  // Several sessions waiting at the start of a turn: one call for all of them (src/engine/turn/batch.ts).
  // Off by default: cheaper on bursts, but chat-Claude writes the replies one after another, so most
  // sessions of a burst wait longer than one by one (BENCHMARKS.md rows 9-10, README).
  batch: z.union([z.literal('off'), z.strictObject({ max_sessions: z.number().int().min(2).max(16) })]).default('off'),
  cache: z
    .strictObject({
      // auto: 5-minute or 1-hour breakpoints per call, whichever the recent gaps between turns make cheaper (src/pricing/cache-lifetime.ts).
      ttl: z.enum(['auto', '5m', '1h']).default('auto'),
    })
    .prefault({}),
  prices: z
    .record(z.string(), priceOverride)
    .superRefine((prices, ctx) => {
      for (const [model, p] of Object.entries(prices)) {
        if (isBuiltinModel(model)) continue;
        for (const k of ['input', 'output'] as const) {
          if (p[k] === undefined)
            ctx.addIssue({
              code: 'custom',
              path: [model, k],
              message: `${model} is not in the built-in price table, so its ${k} price is required`,
            });
        }
      }
    })
    .default({}),
  // The TUI's keys (src/config/keys.ts). Not strict like the rest: an unknown action here is a
  // config error, since a mistyped binding would otherwise leave the operator without the key.
  keys: z
    .record(z.string(), z.unknown())
    .superRefine((rec, ctx) => {
      for (const p of checkKeys(rec)) ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
    })
    .transform((rec): Record<KeyAction, string> => ({ ...DEFAULT_KEYS, ...(rec as Record<string, string>) }))
    .default({ ...DEFAULT_KEYS }),
});

export type Config = z.infer<typeof configSchema>;
export type SessionConfig = Config['sessions'][number];

export { stopHookBlockCap };
