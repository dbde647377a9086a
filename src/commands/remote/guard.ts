import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { procId } from '../hook/proc.js';

/**
 * `relay-tui remote-guard hook stop|wait ...`: the far end of a remote Stop hook. ssh gives a
 * far command no signal when the client goes away (Claude Code killed the hook at its
 * timeout, the laptop slept): the far `hook stop` would go on waiting and consume the
 * reply with no one left to read it. So the client sends the Stop JSON framed as
 * "<bytes>\n<json>" and keeps its end of stdin open while it waits; this guard hands the
 * JSON to the real hook and ends it (SIGTERM: the hook then leaves the reply in
 * dispatch/) the moment stdin closes, which is the moment the ssh channel is gone.
 */

export const MAX_FRAME = 16 * 1024 * 1024;

/** "<n>\n" then n bytes; undefined until all of it is there. Throws on a malformed header. */
export function readFrame(buf: Buffer): { payload: Buffer; rest: Buffer } | undefined {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) {
    if (buf.length > 12) throw new Error('no frame header');
    return undefined;
  }
  const header = buf.subarray(0, nl).toString('latin1');
  if (!/^\d{1,9}$/.test(header) || Number(header) > MAX_FRAME) throw new Error(`bad frame header ${JSON.stringify(header.slice(0, 20))}`);
  const n = Number(header);
  if (buf.length < nl + 1 + n) return undefined;
  return { payload: buf.subarray(nl + 1, nl + 1 + n), rest: buf.subarray(nl + 1 + n) };
}

export function frame(payload: string): string {
  return `${Buffer.byteLength(payload)}\n${payload}`;
}

export function remoteGuard(argv: string[], env: NodeJS.ProcessEnv, err: (s: string) => void): Promise<number> {
  if (argv[0] === 'hook' && argv[1] === 'wait') return guardWaiter(argv.slice(2), err);
  const bin = fileURLToPath(new URL('../../../bin/relay-tui.js', import.meta.url));
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let child: ReturnType<typeof spawn> | undefined;
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      process.stdin.destroy();
      resolve(code);
    };
    const gone = () => {
      // The client is gone: before the JSON came, nothing to do; after, stop the waiting hook.
      if (!child) return finish(0);
      // Once: stdin's 'end' and 'close' both come here.
      if (child.exitCode === null && !child.killed) child.kill('SIGTERM');
    };
    process.stdin.on('data', (d: Buffer) => {
      if (child) return;
      buf = Buffer.concat([buf, d]);
      let f;
      try {
        f = readFrame(buf);
      } catch (e) {
        err(`relay-tui hook: remote-guard: ${(e as Error).message}; letting Claude Code go on\n`);
        return finish(0);
      }
      if (!f) return;
      child = spawn(process.execPath, [bin, ...argv], { stdio: ['pipe', 'inherit', 'inherit'], env });
      child.stdin!.on('error', () => {});
      child.stdin!.end(f.payload);
      child.once('error', (e) => {
        err(`relay-tui hook: remote-guard: cannot start relay-tui: ${e.message}\n`);
        finish(0);
      });
      child.once('exit', (code) => finish(code ?? 0));
    });
    process.stdin.once('end', gone);
    process.stdin.once('close', gone);
    process.stdin.once('error', gone);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, gone);
  });
}

/**
 * `remote-guard hook wait ...`: the far half of a remote session's late-reply waiter
 * (hook/wait-far.ts), in this process: the channel stays open for hours, and a second
 * Node process per remote session would cost the relay's host ~45 MB each for nothing.
 * The channel's end (the session's machine went away, its Claude Code exited) ends the
 * waiter, which then releases a claim it holds. Exit 0 whatever happens: the client
 * reads the outcome from the channel, not from the exit code.
 */
async function guardWaiter(args: string[], err: (s: string) => void): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: { session: { type: 'string' }, since: { type: 'string' }, root: { type: 'string' }, timeout: { type: 'string' } },
    }));
  } catch (e) {
    err(`relay-tui hook wait: remote-guard: ${(e as Error).message}\n`);
    return 0;
  }
  const { FarChannel } = await import('../hook/wait-far.js');
  const { runWaiter, note, timeoutSeconds } = await import('../hook/wait.js');
  const me = procId(process.pid) ?? { pid: process.pid, start: 0 };
  const since = values.since !== undefined && /^\d{1,15}$/.test(values.since) ? Number(values.since) : undefined;
  const timeoutS = timeoutSeconds(values.timeout);
  const channel = new FarChannel(process.stdin);
  try {
    return await runWaiter({
      session: values.session ?? '',
      root: values.root,
      // Bound to the channel, not to a process: this one lives exactly as long as the channel.
      cc: me,
      // A reconnect carries the first channel's start (the far clock's): activity since then still counts.
      ...(since !== undefined && since <= Date.now() ? { startedAt: since } : {}),
      ...(timeoutS !== undefined ? { timeoutS } : {}),
      far: { channel, write: (s) => process.stdout.write(s) },
    });
  } catch (e) {
    return note(`the waiter failed: ${(e as Error)?.message ?? e}`);
  } finally {
    channel.close();
  }
}
