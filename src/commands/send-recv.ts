import fs from 'node:fs';
import path from 'node:path';
import { readDotenv } from '../config/env.js';
import { InputError, readFileConfined } from '../fs/confine.js';
import { enqueueEnvelope } from '../protocol/envelope.js';
import type { Evidence } from '../protocol/evidence.js';
import { takeReply, waitForReply } from '../protocol/session-io.js';
import { checkSessionId } from '../protocol/session-id.js';
import type { RootPaths } from '../protocol/root.js';
import { MAX_FRAME } from './remote/guard.js';

/**
 * A session's side. The id is checked before anything is read or touched, so a bad
 * one (`../x`, `bad id`) is an InputError (exit 2, one line) and never names a path.
 */
export async function sendCommand(p: RootPaths, session: string, text: string | undefined, evidenceFile?: string): Promise<number> {
  checkSessionId(session);
  let content: string;
  let evidence: Evidence | undefined;
  if (evidenceFile === '-') {
    // `send --remote --evidence FILE` on the far side: the text and the evidence came framed on stdin.
    if (text !== undefined && text !== '-')
      throw new InputError(
        "--evidence - is send --remote's own framing of text and evidence on stdin, not for use by hand; to attach evidence, write it to a file: --evidence FILE",
      );
    const { readSendFrames } = await import('./remote/evidence.js');
    const framed = readSendFrames(readStdinBounded('--evidence -'));
    content = framed.text;
    evidence = await evidenceOf(p, Buffer.from(framed.evidence, 'utf8'), '-');
  } else {
    evidence = evidenceFile === undefined ? undefined : await evidenceOf(p, readEvidenceFile(evidenceFile), evidenceFile);
    content = text === undefined || text === '-' ? readStdinBounded('send -').toString('utf8') : text;
  }
  const name = enqueueEnvelope(p, session, content, evidence ? { evidence } : {});
  process.stdout.write(`queue/${name}\n`);
  return 0;
}

/**
 * What `send` reads from stdin at most: two frames at their own limit (remote/guard.ts). The
 * restricted key lets a session machine pipe anything into `send`; read whole, 600 MB of it
 * took the relay's host to 1.25 GB before the frames were even looked at.
 */
export const MAX_STDIN_BYTES = 2 * MAX_FRAME + 64;

function readStdinBounded(what: string): Buffer {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  let total = 0;
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EOF') break;
      if (code !== 'EAGAIN') throw err;
      // A non-blocking stdin with nothing yet: wait a moment, not a busy loop.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      continue;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_STDIN_BYTES) throw new InputError(`${what}: stdin is over ${MAX_STDIN_BYTES} bytes; nothing was queued`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

/** The largest evidence file read: it is cut to hooks.evidence_max_bytes anyway. */
const MAX_EVIDENCE_FILE_BYTES = 1024 * 1024;

/**
 * `send --evidence FILE`, for sessions that are not Claude Code: the file is the evidence
 * schema's JSON or plain text, redacted and cut like the Stop hook's digest. A link, a FIFO or
 * a file over 1 MiB is refused (never read through, never waited on). Also read by
 * `send --remote --evidence FILE` on the session's machine, so a bad file gets the same words there.
 */
export function readEvidenceFile(file: string): Buffer {
  let buf: Buffer | undefined;
  try {
    buf = readFileConfined(path.resolve(file), { maxBytes: MAX_EVIDENCE_FILE_BYTES, limitName: 'the 1 MiB an evidence file may have' });
  } catch (err) {
    throw new InputError(`--evidence: ${(err as Error).message}`);
  }
  if (buf === undefined) throw new InputError(`--evidence: ${file}: no such file`);
  return buf;
}

/** The file's evidence, redacted with this root's secrets and fitted to its hooks.evidence_max_bytes. */
async function evidenceOf(p: RootPaths, buf: Buffer, file: string): Promise<Evidence> {
  const [{ loadRootConfig }, { evidenceFromFile }, { secretValues }] = await Promise.all([
    import('./hook/io.js'),
    import('./hook/evidence/digest.js'),
    import('./hook/evidence/redact.js'),
  ]);
  const config = await loadRootConfig(p);
  let dotenv: Record<string, string> = {};
  try {
    dotenv = readDotenv(p.env);
  } catch {
    /* an unreadable .env: the environment's own secrets are still removed */
  }
  const { evidence, warning } = evidenceFromFile(buf.toString('utf8'), config.hooks.evidence_max_bytes, secretValues(dotenv, process.env));
  if (warning) process.stderr.write(`relay-tui send: --evidence ${file}: ${warning}\n`);
  return evidence;
}

/** Prints and consumes the session's reply. Exit 1 when there is none (or none before the timeout). */
export async function recvCommand(p: RootPaths, session: string, wait: boolean, timeoutS: number | undefined): Promise<number> {
  checkSessionId(session);
  let text: string | undefined;
  if (wait) {
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      text = await waitForReply(p, session, (timeoutS ?? 24 * 3600) * 1000, ac.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  } else {
    text = takeReply(p, session);
  }
  if (text === undefined) {
    process.stderr.write(wait ? `no reply for ${session} within ${timeoutS} s\n` : `no reply waiting for ${session}\n`);
    return 1;
  }
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}
