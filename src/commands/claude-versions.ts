/**
 * The Claude Code versions the hooks (hook stop / notify / install) were tested with,
 * oldest first. `relay-tui doctor` compares the installed `claude --version` with
 * these. Whoever re-tests the hooks against a newer Claude Code appends it here.
 */
export const TESTED_CLAUDE_CODE_VERSIONS: readonly string[] = ['2.1.197'];
