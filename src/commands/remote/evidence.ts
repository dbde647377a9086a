import { InputError } from '../../fs/confine.js';
import { EVIDENCE_MAX_BYTES_CAP, evidenceSchema, type Evidence } from '../../protocol/evidence.js';
import { parseInput, str } from '../hook/io.js';
import { frame, MAX_FRAME, readFrame } from './guard.js';

/**
 * Evidence for a session on another machine. Its transcript, its work tree and its
 * --evidence file are all on the session's machine, and the relay's config on the far one;
 * so the digest is built (or the file read) here, with this machine's secrets redacted and
 * bounded to the most any relay may keep, and carried over ssh inside what already travels:
 *
 *   hook stop  a field of ours in the Stop JSON (Claude Code never writes it), which the far
 *              hook takes only through the evidence schema: a bad or oversized one is a note
 *   send       stdin as two frames, the text then the evidence JSON (`send --evidence -` there)
 *
 * The far side then redacts again with the relay's own secrets and fits the digest to its
 * own hooks.evidence_max_bytes (hooks.evidence: off there drops a hook's digest).
 */

/** The Stop JSON's field that carries the session machine's digest to the far hook. */
export const EVIDENCE_FIELD = 'relay_tui_evidence';

/**
 * The bound here: the largest hooks.evidence_max_bytes a relay may set, so the far config
 * decides what is cut (fitting to the default here would cut a relay that allows more).
 */
export const CARRY_MAX_BYTES = EVIDENCE_MAX_BYTES_CAP;

/**
 * The client half of a remote Stop hook: the Stop JSON with this turn's digest added, built
 * here where the transcript and the cwd are (the same buildEvidence, bounded in time and bytes
 * as on one machine). Anything that is not a Stop event's JSON passes unchanged; a fault of the
 * digest's own becomes a note in it (buildEvidence never throws), and nothing here fails the hook.
 */
export async function withSessionEvidence(stdin: string, env: NodeJS.ProcessEnv): Promise<string> {
  const input = parseInput(stdin);
  if (!input) return stdin;
  const event = str(input.hook_event_name);
  if (event !== undefined && event !== 'Stop') return stdin;
  try {
    const [{ buildEvidence }, { secretValues }] = await Promise.all([
      import('../hook/evidence/digest.js'),
      import('../hook/evidence/redact.js'),
    ]);
    const evidence = await buildEvidence({
      transcriptPath: str(input.transcript_path),
      cwd: str(input.cwd),
      lastMessage: str(input.last_assistant_message),
      maxBytes: CARRY_MAX_BYTES,
      secrets: secretValues(env),
    });
    // The far hook never opens transcript_path (a path on this machine): a message Claude Code left
    // out is read here, where the transcript is.
    const transcript = str(input.transcript_path);
    const message =
      str(input.last_assistant_message)?.trim() ||
      (transcript ? (await import('../hook/text.js')).lastAssistantTextFromFile(transcript) : undefined);
    const out = JSON.stringify({ ...input, ...(message ? { last_assistant_message: message } : {}), [EVIDENCE_FIELD]: evidence });
    // The far guard refuses a frame past MAX_FRAME: the turn then goes without its digest.
    return Buffer.byteLength(out, 'utf8') <= MAX_FRAME - 16 ? out : stdin;
  } catch {
    return stdin;
  }
}

const HOST_NOTE = "the hook ran on the relay's host (--remote): the session's transcript stays on its machine";

const firstIssue = (err: { issues: Array<{ path: PropertyKey[]; message: string }> }) => {
  const i = err.issues[0];
  return `${i.path.map(String).join('.') || 'top level'}: ${i.message}`;
};

/**
 * The far half: the digest the session's machine put in the Stop JSON, checked against the
 * evidence schema, redacted with the relay's secrets and fitted to this relay's bound. With
 * none (an older relay-tui there) the note says the transcript stayed there; a bad or oversized
 * one is a note too, naming what was wrong, never a failed hook.
 */
export async function farEvidence(input: Record<string, unknown>, maxBytes: number, secrets: string[]): Promise<Evidence> {
  const carried = input[EVIDENCE_FIELD];
  if (carried === undefined) return { from: 'transcript', notes: [HOST_NOTE] };
  const parsed = evidenceSchema.safeParse(carried);
  if (!parsed.success)
    return {
      from: 'transcript',
      notes: [`the digest from the session's machine was left out: ${firstIssue(parsed.error).slice(0, 300)}`],
    };
  const [{ fitEvidence }, { createRedactor }] = await Promise.all([
    import('../hook/evidence/fit.js'),
    import('../hook/evidence/redact.js'),
  ]);
  const redact = createRedactor(secrets);
  // Every string of it, whatever its key: the relay's own key never leaves through a session's digest.
  const redacted = JSON.parse(JSON.stringify(parsed.data), (_k, v: unknown) => (typeof v === 'string' ? redact(v) : v)) as Evidence;
  const fitted = evidenceSchema.safeParse(fitEvidence(redacted, maxBytes));
  return fitted.success
    ? fitted.data
    : { from: 'transcript', notes: ["the digest from the session's machine did not fit its schema once redacted and was left out"] };
}

/** `send --remote --evidence FILE`'s stdin: the text, then the evidence (already read, redacted and bounded here). */
export function sendFrames(text: string, evidence: Evidence): string {
  return frame(text) + frame(JSON.stringify(evidence));
}

/**
 * The far `send --evidence -`: stdin holds exactly a text frame and an evidence frame, and the
 * evidence is the schema's JSON (relay-tui's own client wrote it); anything else is refused,
 * naming what is wrong.
 */
export function readSendFrames(buf: Buffer): { text: string; evidence: string } {
  const bad = (why: string) =>
    new InputError(
      `--evidence -: stdin is not relay-tui's framed text and evidence (${why}); it is send --remote's own framing — by hand, write the evidence to a file: --evidence FILE`,
    );
  let text;
  let evidence;
  try {
    text = readFrame(buf);
    evidence = text && readFrame(text.rest);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (!text || !evidence) throw bad('it ended before both frames');
  if (evidence.rest.length) throw bad(`${evidence.rest.length} bytes after the evidence`);
  let json: unknown;
  try {
    json = JSON.parse(evidence.payload.toString('utf8'));
  } catch {
    throw bad('the evidence frame is not JSON');
  }
  const parsed = evidenceSchema.safeParse(json);
  if (!parsed.success) throw bad(`the evidence frame is not the evidence shape: ${firstIssue(parsed.error)}`);
  return { text: text.payload.toString('utf8'), evidence: evidence.payload.toString('utf8') };
}
