import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** What the bench reads of a process and of the machine from /proc and a few tools: CPU, memory, the setting a run was measured in. */

export function readFileOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS and VmHWM in MiB. */
export function memMiB(pid: number): { rss: number; hwm: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

export function machine(): { nproc: number; cpu: string; node: string; kernel: string; fs: string; load: string } {
  const cpuinfo = readFileOr('/proc/cpuinfo', '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let nproc = os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc').toString().trim()) || nproc;
  } catch {
    /* os.cpus() */
  }
  return {
    nproc,
    cpu: model,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    fs: fsOf(os.tmpdir()),
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

/** The filesystem type holding `dir`, from /proc/mounts (longest mount point that is a prefix). */
export function fsOf(dir: string): string {
  const real = fs.realpathSync(dir);
  let best = { mp: '', type: 'unknown', dev: '' };
  for (const line of readFileOr('/proc/mounts', '').split('\n')) {
    const [dev, mp, type] = line.split(' ');
    if (!mp) continue;
    if ((real === mp || real.startsWith(mp.endsWith('/') ? mp : `${mp}/`)) && mp.length >= best.mp.length) best = { mp, type, dev };
  }
  return `${best.type} (${best.dev} on ${best.mp})`;
}
