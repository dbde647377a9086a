import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * What the hooks and the lock need to know about another process: its parent, its name,
 * whether it is a zombie, when it started, its command line. Linux has all of it in
 * /proc; macOS has no /proc, so there it comes from `ps`, which both systems have and
 * which prints the same columns on both (procps on Linux, BSD ps on macOS).
 *
 * RELAY_TUI_PROC_SOURCE=ps makes a Linux machine take the `ps` path, so the suite runs
 * the macOS path on Linux with the real `ps` instead of a mock of it.
 */

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** The executable's short name, as a shell check needs it ("sh", "node"). */
  comm: string;
  zombie: boolean;
  /**
   * When it started, comparable only with another reading from the same source: clock
   * ticks since boot from /proc, seconds since the epoch from `ps` (whole seconds, so a
   * pid reused within the same second goes unnoticed there). 0 when unknown.
   */
  start: number;
}

export type ProcSource = 'proc' | 'ps';

export function procSource(): ProcSource {
  if (process.env.RELAY_TUI_PROC_SOURCE === 'ps') return 'ps';
  return fs.existsSync('/proc/self/stat') ? 'proc' : 'ps';
}

function fromProc(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may hold spaces or parentheses itself: split after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state), rest[1] field 4 (ppid), rest[19] field 22 (starttime).
  return { pid, ppid: Number(rest[1]) || 0, comm, zombie: rest[0] === 'Z' || rest[0] === 'X', start: Number(rest[19]) || 0 };
}

/** `ps` in the C locale and UTC, so its dates read the same whoever runs it. */
function ps(columns: string, pid: number): string | undefined {
  try {
    return execFileSync('ps', ['-o', columns, '-p', String(pid)], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
  } catch {
    return undefined; // exit 1: no such process (or no ps at all)
  }
}

const PS_LINE = /^\s*(\d+)\s+(\S+)\s+\S{3}\s+(\S{3})\s+(\d{1,2})\s+(\d{1,2}:\d{2}:\d{2})\s+(\d{4})\s+(.*)$/;

/**
 * One line of `ps -o ppid=,stat=,lstart=,comm=`: "  4242 Ss   Mon Dec  7 04:58:36 2026 bash".
 * lstart is always five words; comm is the rest (macOS prints the full path, a login shell
 * as "-zsh"). Undefined for a line that is not that shape.
 */
export function parsePsLine(pid: number, line: string): ProcInfo | undefined {
  const m = PS_LINE.exec(line.replace(/\n+$/, ''));
  if (!m) return undefined;
  const [, ppid, stat, mon, day, time, year, comm] = m;
  const ms = Date.parse(`${mon} ${day} ${year} ${time} UTC`);
  return {
    pid,
    ppid: Number(ppid),
    comm: path.basename(comm.trim()).replace(/^-/, ''),
    zombie: stat.startsWith('Z'),
    start: Number.isFinite(ms) ? ms / 1000 : 0,
  };
}

function fromPs(pid: number): ProcInfo | undefined {
  const out = ps('ppid=,stat=,lstart=,comm=', pid);
  if (out !== undefined) {
    const line = out.split('\n').find((l) => l.trim() !== '');
    return line === undefined ? undefined : parsePsLine(pid, line);
  }
  // No answer from ps: signal 0 still tells whether the pid exists (pid reuse goes unnoticed).
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, ppid: 0, comm: '', zombie: false, start: 0 };
}

export function readProc(pid: number): ProcInfo | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return procSource() === 'proc' ? fromProc(pid) : fromPs(pid);
}

/**
 * The process's arguments; [] when they cannot be read. From `ps` they come as one line
 * split on spaces, so an argument that holds a space is seen as two: good enough for the
 * flag checks that use it (`-p`, `--input-format`, "is this node").
 */
export function commandLine(pid: number): string[] {
  if (procSource() === 'proc') {
    try {
      return fs
        .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((s, i, a) => s !== '' || i < a.length - 1);
    } catch {
      return [];
    }
  }
  const out = ps('command=', pid);
  return out === undefined ? [] : out.trim().split(/\s+/).filter(Boolean);
}
