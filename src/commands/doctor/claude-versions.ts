/**
 * The Claude Code versions the hooks (hook stop / notify / install) were tested with,
 * oldest first. `relay-tui doctor` compares the installed `claude --version` with
 * these. .ci/claude-code-versions pins the same list for the real-CLI tests (a test keeps
 * the two equal): whoever re-tests against a newer Claude Code appends it to both.
 */
export const TESTED_CLAUDE_CODE_VERSIONS: readonly string[] = ['2.1.197', '2.1.332'];
