import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { procId, type ProcId } from '../../src/commands/hook/proc.js';

/** This test process, as a hook would name a live process (pid and start time). */
export const me = (): ProcId => procId(process.pid)!;

/** A process that has exited: its pid and start time, now dead. */
export async function deadProc(): Promise<ProcId> {
  const child = execa('sleep', ['30']);
  const id = procId(child.pid!)!;
  child.kill('SIGKILL');
  await child.catch(() => undefined);
  return id;
}

/** A reply written the way the dispatcher does: a rename onto input.txt, so every reply is a new inode. */
export function writeReply(dispatchDir: string, session: string, text: string): void {
  const dir = path.join(dispatchDir, session);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.tmp-${process.pid}-${Math.random()}`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, path.join(dir, 'input.txt'));
}

/** Whether a tmux binary is here, for the tests that drive a real pane. */
export const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();
