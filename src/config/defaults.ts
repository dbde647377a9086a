import { DEFAULT_SUMMARIZATION_PROMPT, DEFAULT_SYSTEM_PROMPT } from './schema.js';

function block(text: string, indent: string): string {
  return text
    .split('\n')
    .map((l) => indent + l)
    .join('\n');
}

/**
 * The config.yaml seeded into a new root, and committed at the repo's top level
 * (a test keeps the two identical). Values here must equal the schema defaults.
 */
export const DEFAULT_CONFIG_YAML = `# relay-tui configuration. Every key is optional; the values below are the defaults.
# Reference: README.md#configuration. An unknown key is reported as a warning.

# Any Messages API model id. Prices for it come from the built-in table (every current model and
# the legacy ones, each with its source and the date it was checked: README.md#prices) or from
# 'prices' below. An id in neither warns at start and is priced at the dearest figures of its family.
model: claude-opus-5-5
max_tokens: 4096

# chat-Claude's standing instructions. Marked cacheable once the prompt passes the model's
# minimum cacheable length (512 tokens on Opus 5.5): then billed at the cache-read rate.
system_prompt: |-
${block(DEFAULT_SYSTEM_PROMPT, '  ')}

# Registered sessions. The first is where an operator-started turn's reply goes when no
# paused turn names a session. Unlisted ids are accepted unless strict_sessions is true.
sessions:
  - id: session-1
    description: first session

history:
  cap_tokens: 60000           # summarize when the conversation (per the API's usage figures) passes this
  keep_recent: 4              # turns kept verbatim after a summary
  summarization_prompt: |-
${block(DEFAULT_SUMMARIZATION_PROMPT, '    ')}

limits:
  max_envelope_bytes: 262144  # larger envelopes are rejected to queue/.rejected/

strict_sessions: false        # true: reject envelopes from sessions not listed above

# Who approves replies before they are dispatched:
#   auto      every reply goes straight to its session
#   needs_jc  only replies starting with [NEEDS-JC] wait for the operator
#   all       every reply waits for /approve (or the approve key)
approval: needs_jc

# What a held reply ([NEEDS-JC], or any reply under approval: all) holds:
#   hold_session  that session only: its envelopes wait, every other session keeps flowing
#   hold_all      the whole relay waits until the operator approves, drops or answers
on_question: hold_session

# Hard limits. Each pauses the relay (or just the session concerned) BEFORE the API call
# that would cross it. /resume continues once; /budget N and /allow SESSION N raise them.
guardrails:
  budget_usd_per_day: 20      # across all sessions, by the local calendar day
  budget_usd_per_session_per_day: 5
  max_turn_cost_usd: 1.00     # projected before the call, from the prompt size and the price table
  max_auto_turns: 12          # consecutive turns for one session with no operator input in between
  max_turns_per_hour: 60      # per session, sliding window
  repeat_threshold: 3         # a loop: the same exchange (message AND reply), a cycle or an echo, this many times
  warn_at_fraction: 0.8       # ping once per budget per day when this share is spent

ntfy:
  away_after_s: 120           # TUI: pause pings go out only after this long without a keystroke
  always: false               # true: ping on every pause even while you are at the keyboard
  accept_replies: false       # true: act on Approve/Drop/answers sent from the phone (reply topic)

# The TUI's keys: ctrl+LETTER, alt+LETTER, pageup, pagedown, home, end, esc, or one character
# (a character acts on an empty prompt only). Ctrl+A and Ctrl+B are left free: they are the
# usual tmux prefixes, and tmux keeps its prefix from the program in the pane.
keys:
  approve: ctrl+y             # dispatch the held reply as it is (= /approve)
  drop: ctrl+x                # discard the held reply (= /drop)
  reply: ctrl+t               # fill "@session: " to answer the asking session directly
  pause: ctrl+p               # /pause or /resume
  clear: ctrl+u               # clear the prompt line
  help: "?"
  quit: ctrl+c
  scroll_up: pageup
  scroll_down: pagedown
  newest: escape              # back to the newest turn; closes help; dismisses a warning

hooks:
  max_chain: 6                # Stop-hook turns in a row with no operator input before a session may stop
  evidence: digest            # digest: each envelope carries what the turn did (files, commands, tests); off: nothing
  evidence_max_bytes: 2048    # the digest's bound (256 to 32768), cut with a note of what was left out

api:
  max_retries: 2              # retries inside the SDK for 429/5xx/529/connection errors
  outer_retries: 5            # then the relay's own retries, with longer backoff, shown in the UI
  timeout_s: 600

# Who answers as chat-Claude: api (the Messages API, ANTHROPIC_API_KEY, billed per token) or
# claude-code (your own Claude Code CLI and whatever account it is signed into; README#backends).
chat:
  backend: api
  claude_path: claude         # backend claude-code: the CLI, a path or a name on PATH

# {max_sessions: 8}: sessions waiting at the start of a turn go to chat-Claude in one call, one
# envelope each, each answered in its own section; cheaper on bursts, slower for most of a burst's
# sessions (the replies are written one after another). off: one envelope a call.
batch: off

# Prompt-cache lifetime of the breakpoints: auto (per call, whichever of 5 minutes and 1 hour
# the recent gaps between turns make cheaper), 5m, or 1h.
cache:
  ttl: auto

# USD per million tokens; overrides any figure of the built-in table, or adds a model. cache_write is
# the 5-minute write, cache_write_1h the 1-hour one; tiers price a request by its prompt size.
prices: {}
#  claude-opus-5-5: {input: 4, output: 20, cache_write: 5, cache_write_1h: 8, cache_read: 0.2}
#  claude-haiku-5-5: {input: 0.1, output: 0.5, cache_write: 0.125, cache_write_1h: 0.2, cache_read: 0.01,
#    tiers: [{above_tokens: 100000, input: 0.5, output: 2.5, cache_write: 0.625, cache_write_1h: 1, cache_read: 0.05}]}
#  my-proxy-model: {input: 1, output: 5}       # cache figures then default to 1.25x / 2x / 0.1x of input
`;
