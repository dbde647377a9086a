/** The help texts: the general one, and one per command (`relay-tui COMMAND --help`). */

export const GENERAL_HELP = `relay-tui: relay between Claude Code sessions and one chat-Claude conversation

Usage:
  relay-tui [--root DIR] [--config FILE]      the TUI: relay loop in-process, panes, prompt line
  relay-tui --no-ui [--root DIR] [--log-json] the same loop headless: logs to stdout and logs/relay.log
  relay-tui --demo [--root DIR] [--no-ui]     try it with no API key: simulated chat-Claude and sessions
  relay-tui status [--json]                   read state/status.json (works with the relay down)
  relay-tui cost [--days N] [--json]          spend by day and by session, from the ledger
  relay-tui topic                             print the ntfy subscription URL
  relay-tui say TEXT...                       operator input from another shell
  relay-tui send --session ID [TEXT|-]        a session's side: enqueue an envelope atomically
  relay-tui recv --session ID [--wait] [--timeout S]   print and consume the session's reply
  relay-tui hook install|stop|prompt|stop-failure|notify ...   Claude Code hooks (README: Connect a Claude Code session)
  relay-tui doctor [--project DIR]...         check a set-up: ok/warn/fail per line, with the fix
  relay-tui service install [--user] [--print]   a systemd unit for --no-ui on this root
  relay-tui COMMAND --help                    help for one command

Options:
  --root DIR      the relay root (default: $RELAY_ROOT, else the current directory)
  --config FILE   config file (default: ROOT/config.yaml)
  --backend api|claude-code   who answers as chat-Claude: the Messages API (ANTHROPIC_API_KEY)
                  or your own Claude Code and its sign-in (default: chat.backend in config.yaml)
  -h, --help      this help
  -v, --version   the version

The relay (relay-tui, --no-ui, --demo) creates a root on its first run; every other
command needs an existing root and says so when the folder is not one.

Operator input (prompt line, state/jc_input.txt, relay-tui say):
  @session-1: text   send text straight to a session (no API call); it supersedes what
                     waited for that session (held reply, paused envelopes: never sent)
  plain text         a turn from you to chat-Claude; answers the (oldest) asking session
  /approve [SESSION] dispatch or discard that session's held reply; bare: the only one
  /drop [SESSION]    (with several waiting, a bare command is refused with the list)
  /pause /resume [SESSION]  stop and restart taking envelopes; SESSION: its pause only
  /budget USD        raise today's budget      /allow SESSION N   N more automatic turns
  /quit              leave the TUI
`;

const ROOT = `  --root DIR    the relay root (default: $RELAY_ROOT, else the current directory); it must
                already exist: the relay creates it on its first run`;

export const COMMAND_HELP: Record<string, string> = {
  status: `Usage: relay-tui status [--root DIR] [--json]

Prints the relay's last snapshot (state/status.json): whether a relay holds the root,
its state and pause reason, a call being retried and the last error, queue, cost, and
one line per session. Works with the relay down (it says so).

Options:
${ROOT}
  --json        the whole snapshot as JSON, plus "running"

Exit: 0 with a snapshot, 1 when the relay never wrote one, 2 when the folder is not a root.
`,
  cost: `Usage: relay-tui cost [--root DIR] [--days N] [--json]

Spend by day and by session, read from the ledger (state/ledger.jsonl).

Options:
${ROOT}
  --days N      how many days back (default 14)
  --json        machine-readable
`,
  topic: `Usage: relay-tui topic [--root DIR]

Prints the ntfy URL to subscribe to for pings (stdout), and on stderr the reply topic
for answering from the phone. Keep both secret.

Options:
${ROOT}
`,
  say: `Usage: relay-tui say [--root DIR] TEXT...

Operator input from another shell, the same grammar as the TUI's prompt line:
  @session-1: text   straight to that session      plain text   a turn to chat-Claude
  /approve [SESSION] /drop [SESSION] /pause /resume [SESSION] /budget USD /allow SESSION N
Queued durably; a relay that is not running applies it when it starts. A running relay's
verdict is printed; exit 1 when it refused the command (unknown session, nothing to
approve, several candidates: name one).
Text that starts with a dash goes after --:  relay-tui say -- -1 is fine

Options:
${ROOT}
`,
  send: `Usage: relay-tui send --session ID [--root DIR] [--evidence FILE] [TEXT|-]

A session's side: enqueues an envelope in queue/ atomically (temp file, rename) and
prints its name. Without TEXT, or with -, the content is read from stdin.

Options:
  --session ID      the session speaking (letters, digits, _ and -)
  --evidence FILE   what the turn did, shown to chat-Claude beside the message: plain text,
                    or the envelope's evidence JSON (README); redacted, cut to
                    hooks.evidence_max_bytes. With --remote the file is read on this
                    machine and carried over ssh (--evidence - is that framed stdin)
${ROOT}
`,
  recv: `Usage: relay-tui recv --session ID [--root DIR] [--wait] [--timeout S]

A session's side: prints the reply waiting in dispatch/ID/input.txt and consumes it.

Options:
  --session ID  the session whose reply to take
  --wait        wait for a reply instead of exiting at once
  --timeout S   with --wait: give up after S seconds (exit 1)
${ROOT}

Exit: 0 with a reply, 1 with none (or none before the timeout).
`,
  hook: `Usage: relay-tui hook stop --session ID [--root DIR] [--timeout S]    Claude Code Stop hook (JSON on stdin)
       relay-tui hook prompt --session ID [--root DIR]                Claude Code UserPromptSubmit hook
       relay-tui hook stop-failure --session ID [--root DIR]          Claude Code StopFailure hook
       relay-tui hook notify --session ID [--root DIR]                Claude Code Notification hook
       relay-tui hook install --session ID [--project DIR] [--root DIR] [--print]

install writes all of them into PROJECT/.claude/settings.json (merging with what is
there), with the Stop hook's background waiter that wakes an idle session when a late
reply lands, each pointing at this root by its absolute path; the root must exist.
prompt tells the relay you typed (the session's automatic-turn count starts again);
stop-failure pings you when a turn ended on an API error. No hook ever blocks Claude
Code: every failure is one line on stderr and exit 0.

Options:
  --session ID   the name this Claude Code session has at the relay
  --project DIR  install: the Claude Code project (default: the current directory)
  --print        install: show the merged settings.json, write nothing
  --timeout S    stop: how long to wait for the reply (default 540)
${ROOT}
`,
  doctor: `Usage: relay-tui doctor [--root DIR] [--project DIR]... [--config FILE] [--timeout S] [--remote [USER@]HOST[:ROOT]]

Checks a set-up before you trust it, one line each, ok / warn / fail with the fix:
Node's version; the root's layout and modes (state/ 0700, .env 0600, no symlinks);
the API key present and accepted and the model known (the free count_tokens call:
nothing is spent); ntfy reachable and the topic long enough; the inotify limits;
for each --project, that the hooks are installed and point at this root; the
installed Claude Code's version against the ones the hooks were tested with; with
--remote (or $RELAY_REMOTE), the relay on that host as the hooks reach it over ssh.
Every check is bounded in time (a few seconds at most).

Options:
  --root DIR     the relay root to check (default: $RELAY_ROOT, else the current directory)
  --project DIR  a Claude Code project whose hooks to check (repeatable)
  --config FILE  the config to check (default: ROOT/config.yaml)
  --timeout S    each network check gives up after S seconds (default 8)
  --remote [USER@]HOST[:ROOT]
                 also check the relay on that host over ssh, as the hooks will use it
                 (default: $RELAY_REMOTE; its ssh round trips allow 30 s each)

Exit: 0 when nothing fails (warnings allowed), 1 otherwise.
`,
  service: `Usage: relay-tui service install [--root DIR] [--user] [--print]

Writes a systemd unit that runs \`relay-tui --no-ui\` on this root: restarted on
failure, the root's .env as its environment, logs to the journal and logs/relay.log.
Prints the systemctl commands to enable and start it.

Options:
  --user        a user unit (~/.config/systemd/user/), no root privileges needed;
                without it, a system unit in /etc/systemd/system/ running as you
  --print       show the unit and the commands, write nothing
${ROOT}
`,
  help: `Usage: relay-tui help [COMMAND]

The general help, or one command's (the same as relay-tui COMMAND --help).
`,
};
