/**
 * The errors a start-up can end with, in a module that loads nothing: the CLI tells them
 * apart (exit codes 4) without importing the config loader or the engine, so the TUI's
 * view thread never loads what only its engine thread runs.
 */

/** A config problem the user must fix: names the file, the key and what is wrong. */
export class ConfigError extends Error {
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'config';
  constructor(
    readonly file: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${file}: ${key ? `${key}: ` : ''}${reason}`);
  }
}

export class MissingKeyError extends Error {
  /** Its row in the error table (src/cli/exit-codes.ts): exit code and message. */
  readonly kind = 'missing-key';
  /**
   * `created`: this run made the root (a first run in an empty folder): the message says
   * so, where, and what to edit next, so the first thing a new user reads is not only the key.
   */
  constructor(
    readonly envFile: string,
    readonly created?: { root: string; configFile: string },
  ) {
    const first = created
      ? `Created a new relay root in ${created.root} (config.yaml, queue/, dispatch/, state/, logs/).\n` +
        `  Next: list your Claude Code sessions under sessions: in ${created.configFile}.\n`
      : '';
    super(
      `${first}ANTHROPIC_API_KEY is not set.\n` +
        `  Put it in ${envFile} (ANTHROPIC_API_KEY=sk-ant-...) or export it in your shell.\n` +
        `  To try relay-tui without a key: relay-tui --demo`,
    );
  }
}
