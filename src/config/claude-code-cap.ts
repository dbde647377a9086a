/**
 * Claude Code's cap of consecutive Stop-hook blocks: CLAUDE_CODE_STOP_HOOK_BLOCK_CAP when
 * set, else 8. Its own module (no zod) because the hooks read it on every turn.
 */
export function stopHookBlockCap(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.CLAUDE_CODE_STOP_HOOK_BLOCK_CAP);
  return Number.isInteger(n) && n > 0 ? n : 8;
}
