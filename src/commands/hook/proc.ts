import fs from 'node:fs';

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
  /** Start time in clock ticks since boot (/proc/PID/stat field 22); 0 where /proc is missing. */
  start: number;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox', 'fish']);

function statFields(pid: number): string[] | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces or parentheses itself: split after the last ')'.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    return [
      String(pid),
      comm,
      ...text
        .slice(close + 2)
        .trim()
        .split(' '),
    ];
  } catch {
    return undefined;
  }
}

export function procId(pid: number): ProcId | undefined {
  const f = statFields(pid);
  if (f) {
    // A zombie is dead for our purposes.
    if (f[2] === 'Z' || f[2] === 'X') return undefined;
    return { pid, start: Number(f[21]) || 0 };
  }
  if (fs.existsSync('/proc/self/stat')) return undefined;
  // No /proc (macOS): signal 0 tells whether the pid exists; pid reuse goes unnoticed.
  try {
    process.kill(pid, 0);
    return { pid, start: 0 };
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? { pid, start: 0 } : undefined;
  }
}

export function isLive(id: ProcId | undefined): boolean {
  if (!id || !Number.isInteger(id.pid) || id.pid <= 1) return false;
  const now = procId(id.pid);
  return !!now && (id.start === 0 || now.start === 0 || now.start === id.start);
}

function parentOf(pid: number): number | undefined {
  const f = statFields(pid);
  const ppid = f ? Number(f[3]) : NaN;
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

function commOf(pid: number): string | undefined {
  return statFields(pid)?.[1];
}

/**
 * The Claude Code process this hook runs under: the first ancestor that is not a
 * shell. Undefined when the hook was started by init (already orphaned) or the
 * ancestry cannot be read.
 */
export function findClaudeCode(startPid = process.ppid): ProcId | undefined {
  let pid: number | undefined = startPid;
  for (let depth = 0; pid !== undefined && pid > 1 && depth < 6; depth++) {
    const comm = commOf(pid);
    if (comm === undefined) return fs.existsSync('/proc/self/stat') ? undefined : procId(pid);
    if (!SHELLS.has(comm)) return procId(pid);
    pid = parentOf(pid);
  }
  return undefined;
}

export function cmdline(pid: number): string[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((s, i, a) => s !== '' || i < a.length - 1);
  } catch {
    return [];
  }
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
