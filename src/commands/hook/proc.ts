import { commandLine, readProc } from '../../fs/process-table.js';

/**
 * Which Claude Code a hook belongs to, and whether it is still there.
 *
 * Claude Code runs a hook command through a shell (`/bin/sh -c CMD`), so the hook's
 * parent may be that shell, not Claude Code. When Claude Code dies, the shell and the
 * hook live on, re-parented to init (2.1.197 does that on /exit and SIGHUP): a hook
 * that only watched its parent would go on and consume a reply nobody receives. So a
 * hook walks up past shells to the first process that is not one, and remembers its
 * pid together with its start time, which tells a live Claude Code from a new process
 * that got the same pid.
 */

export interface ProcId {
  pid: number;
  /** Start time (src/fs/process-table.ts: /proc's clock ticks, or `ps`'s seconds); 0 where unknown. */
  start: number;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox', 'fish']);

export function procId(pid: number): ProcId | undefined {
  const info = readProc(pid);
  // A zombie is dead for our purposes.
  return info && !info.zombie ? { pid, start: info.start } : undefined;
}

export function isLive(id: ProcId | undefined): boolean {
  if (!id || !Number.isInteger(id.pid) || id.pid <= 1) return false;
  const now = procId(id.pid);
  return !!now && (id.start === 0 || now.start === 0 || now.start === id.start);
}

/**
 * The Claude Code process this hook runs under: the first ancestor that is not a
 * shell. Undefined when the hook was started by init (already orphaned) or the
 * ancestry cannot be read. Where nothing names the processes (no /proc and no ps),
 * the parent is taken as it is.
 */
export function findClaudeCode(startPid = process.ppid): ProcId | undefined {
  let pid: number | undefined = startPid;
  for (let depth = 0; pid !== undefined && pid > 1 && depth < 6; depth++) {
    const info = readProc(pid);
    if (!info || info.zombie) return undefined;
    if (info.comm === '') return { pid, start: info.start };
    if (!SHELLS.has(info.comm)) return { pid, start: info.start };
    pid = info.ppid > 0 ? info.ppid : undefined;
  }
  return undefined;
}

export function cmdline(pid: number): string[] {
  return commandLine(pid);
}

/**
 * Claude Code in plain `-p` mode waits for a background hook up to its timeout and
 * never wakes the session from it; with `--input-format stream-json` it does. A
 * waiter in plain -p mode would only hold `claude -p` open, so it does not start.
 */
export function isPrintModeWithoutStreamInput(args: string[]): boolean {
  const print = args.some((a) => a === '-p' || a === '--print');
  if (!print) return false;
  const i = args.findIndex((a) => a === '--input-format' || a.startsWith('--input-format='));
  const format = i < 0 ? undefined : args[i].includes('=') ? args[i].split('=')[1] : args[i + 1];
  return format !== 'stream-json';
}
