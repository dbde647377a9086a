import { execFile } from 'node:child_process';
import path from 'node:path';
import { evidenceSchema, type Evidence, type EvidenceCommand, type EvidenceFile, type TestCounts } from '../../../protocol/evidence.js';
import { fitEvidence } from './fit.js';
import { createRedactor, type Redactor } from './redact.js';
import { blocks, readTurn, waitForTurnEnd, type Block, type Entry } from './transcript.js';

/**
 * The evidence digest of the turn that just ended: what Claude Code's transcript shows it did
 * (files written or edited with their line counts, commands with their exit status, the last
 * lines of a failing one, test counts where the output states them, tools denied or failed)
 * and `git diff --stat HEAD` when the session's directory is a git work tree. Never file
 * contents: a Write is counted in lines, an Edit in its patch's +/- lines. Every string is
 * redacted, and the whole is fitted to hooks.evidence_max_bytes with a note of what was cut.
 */

/** Lines of a failing command's output kept (its end: where the error and the counts are). */
const TAIL_LINES = 6;
const TAIL_LINE_CHARS = 200;
const COMMAND_CHARS = 300;
/** How long the hook waits for Claude Code to finish writing the turn (2.1.197 writes behind). */
export const TURN_END_WAIT_MS = 1500;
const GIT_TIMEOUT_MS = 3000;

const oneLine = (s: string, n: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

function resultText(b: Block): string {
  if (typeof b.content === 'string') return b.content;
  if (Array.isArray(b.content))
    return b.content
      .filter((c): c is { type: string; text: string } => !!c && typeof c === 'object' && c.type === 'text' && typeof c.text === 'string')
      .map((c) => c.text)
      .join('\n');
  return '';
}

/** Pass/fail counts as a test runner's summary states them (jest, vitest, mocha, pytest, node --test, cargo). */
export function testCounts(output: string): TestCounts | undefined {
  const t: TestCounts = {};
  for (const raw of output.split('\n')) {
    const l = raw.trim();
    // Suites and files are counted too by some runners; the tests' own line comes after them and wins.
    if (/^(Test Suites|Test Files|Suites)\b/i.test(l)) continue;
    for (const m of l.matchAll(/(\d+)\s+(passed|passing|failed|failing|skipped|pending|todo)\b/gi)) {
      const n = Number(m[1]);
      const k = m[2].toLowerCase();
      if (k === 'passed' || k === 'passing') t.passed = n;
      else if (k === 'failed' || k === 'failing') t.failed = n;
      else t.skipped = n;
    }
    const tap = /^#\s*(pass|fail|skipped)\s+(\d+)$/i.exec(l);
    if (tap) {
      const n = Number(tap[2]);
      if (tap[1].toLowerCase() === 'pass') t.passed = n;
      else if (tap[1].toLowerCase() === 'fail') t.failed = n;
      else t.skipped = n;
    }
  }
  return t.passed !== undefined || t.failed !== undefined ? t : undefined;
}

/** The last lines of a command's output, without npm's update notices. */
function tailOf(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() && !/^npm notice\b/.test(l) && !/^Exit code \d+$/.test(l))
    .slice(-TAIL_LINES)
    .map((l) => (l.length > TAIL_LINE_CHARS ? `${l.slice(0, TAIL_LINE_CHARS - 1)}…` : l));
}

const DENIED =
  /requested permissions to use|haven't granted|doesn't want to proceed|was rejected|permission (?:to use .* )?(?:was )?denied|blocked by (?:a )?(?:hook|policy)/i;

function lineCount(s: unknown): number {
  if (typeof s !== 'string' || !s) return 0;
  return s.split('\n').length - (s.endsWith('\n') ? 1 : 0);
}

/** +/- lines of Claude Code's structuredPatch (Edit, MultiEdit, Write over a file). */
function patchCounts(r: Record<string, unknown>): { added: number; removed: number } | undefined {
  if (!Array.isArray(r.structuredPatch) || !r.structuredPatch.length) return undefined;
  let added = 0;
  let removed = 0;
  for (const h of r.structuredPatch)
    for (const l of Array.isArray(h?.lines) ? h.lines : []) {
      if (typeof l !== 'string') continue;
      if (l.startsWith('+')) added++;
      else if (l.startsWith('-')) removed++;
    }
  return { added, removed };
}

function fileChange(use: Block, result: Record<string, unknown> | undefined, cwd: string | undefined): EvidenceFile | undefined {
  const input = (use.input && typeof use.input === 'object' ? use.input : {}) as Record<string, unknown>;
  const file = [input.file_path, input.notebook_path, result?.filePath].find((v): v is string => typeof v === 'string' && !!v);
  if (!file) return undefined;
  const rel = cwd && path.isAbsolute(file) && !path.relative(cwd, file).startsWith('..') ? path.relative(cwd, file) : file;
  const created = result?.type === 'create' || (use.name === 'Write' && result?.originalFile === null);
  const counts = result ? patchCounts(result) : undefined;
  if (counts) return { path: rel, action: created ? 'created' : 'edited', ...counts };
  if (use.name === 'Write') return { path: rel, action: created ? 'created' : 'edited', added: lineCount(input.content) };
  if (use.name === 'Edit') return { path: rel, action: 'edited', added: lineCount(input.new_string), removed: lineCount(input.old_string) };
  return { path: rel, action: 'edited' };
}

const FILE_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit']);

function describeUse(use: Block): string {
  const input = (use.input && typeof use.input === 'object' ? use.input : {}) as Record<string, unknown>;
  const arg = ['command', 'file_path', 'notebook_path', 'path', 'url', 'pattern'].map((k) => input[k]).find((v) => typeof v === 'string');
  return typeof arg === 'string' ? `${String(use.name)}: ${oneLine(arg, 160)}` : String(use.name);
}

/** The digest of a turn's transcript lines (not yet redacted nor fitted). */
export function digestEntries(entries: Entry[], cwd?: string): Evidence {
  const uses = new Map<string, Block>();
  const order: string[] = [];
  const results = new Map<string, { block: Block; entry: Entry }>();
  for (const e of entries) {
    for (const b of blocks(e)) {
      if (e.type === 'assistant' && b.type === 'tool_use' && typeof b.id === 'string' && typeof b.name === 'string') {
        if (!uses.has(b.id)) order.push(b.id);
        uses.set(b.id, b);
      } else if (e.type === 'user' && b.type === 'tool_result' && typeof b.tool_use_id === 'string') {
        results.set(b.tool_use_id, { block: b, entry: e });
      }
    }
  }
  const files = new Map<string, EvidenceFile>();
  const commands: EvidenceCommand[] = [];
  const tools: NonNullable<Evidence['tools']> = [];
  for (const id of order) {
    const use = uses.get(id)!;
    const res = results.get(id);
    const output = res ? resultText(res.block) : '';
    const isError = res?.block.is_error === true;
    const denied = isError && (res?.entry.toolDenialKind !== undefined || DENIED.test(output));
    if (denied) {
      tools.push({ tool: describeUse(use), outcome: 'denied', detail: oneLine(output, 200) });
      continue;
    }
    if (use.name === 'Bash') {
      const input = (use.input ?? {}) as Record<string, unknown>;
      const c: EvidenceCommand = { command: oneLine(String(input.command ?? ''), COMMAND_CHARS) };
      const tur = res?.entry.toolUseResult as Record<string, unknown> | undefined;
      if (!res) c.note = 'no result in the transcript';
      // Its result is only "running in the background": no exit status to report yet.
      else if (input.run_in_background === true && !isError) c.note = 'started in the background';
      else if (tur && typeof tur === 'object' && tur.interrupted === true) c.note = 'interrupted';
      else if (isError) {
        const code = /^(?:Error: )?Exit code (\d+)/.exec(output);
        if (code) c.exit = Number(code[1]);
        else c.note = oneLine(output.split('\n')[0] ?? 'failed', 100) || 'failed';
      } else c.exit = 0;
      const tests = testCounts(output);
      if (tests) c.tests = tests;
      if (isError && output) c.tail = tailOf(output);
      commands.push(c);
      continue;
    }
    if (isError) {
      tools.push({ tool: describeUse(use), outcome: 'failed', detail: oneLine(output, 200) });
      continue;
    }
    if (FILE_TOOLS.has(String(use.name)) && res) {
      const tur = res.entry.toolUseResult;
      const f = fileChange(use, tur && typeof tur === 'object' ? (tur as Record<string, unknown>) : undefined, cwd);
      if (!f) continue;
      const prev = files.get(f.path);
      files.set(
        f.path,
        prev
          ? {
              path: f.path,
              action: prev.action === 'created' ? 'created' : f.action,
              added: (prev.added ?? 0) + (f.added ?? 0),
              removed: (prev.removed ?? 0) + (f.removed ?? 0),
            }
          : f,
      );
    }
  }
  return {
    from: 'transcript',
    ...(files.size ? { files: [...files.values()] } : {}),
    ...(commands.length ? { commands } : {}),
    ...(tools.length ? { tools } : {}),
  };
}

/** `git diff --stat HEAD` in `cwd`; undefined when it is not a work tree with a commit (or git is slow or absent). */
export function gitDiffStat(cwd: string): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-C', cwd, '--no-optional-locks', 'diff', '--stat=120', '--no-color', 'HEAD', '--'],
      {
        timeout: GIT_TIMEOUT_MS,
        maxBuffer: 1024 * 1024,
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      },
      (err, stdout) => {
        if (err) return resolve(undefined);
        const lines = String(stdout)
          .split('\n')
          .map((l) => l.trimEnd())
          .filter((l) => l.trim());
        resolve(lines.map((l) => l.trim()));
      },
    );
  });
}

function redactAll(e: Evidence, redact: Redactor): Evidence {
  const r = (s: string) => redact(s);
  return {
    ...e,
    ...(e.files ? { files: e.files.map((f) => ({ ...f, path: r(f.path) })) } : {}),
    ...(e.commands
      ? {
          commands: e.commands.map((c) => ({
            ...c,
            command: r(c.command),
            ...(c.note ? { note: r(c.note) } : {}),
            ...(c.tail ? { tail: c.tail.map(r) } : {}),
          })),
        }
      : {}),
    ...(e.tools ? { tools: e.tools.map((t) => ({ ...t, tool: r(t.tool), ...(t.detail ? { detail: r(t.detail) } : {}) })) } : {}),
    ...(e.diff_stat ? { diff_stat: e.diff_stat.map(r) } : {}),
    ...(e.text !== undefined ? { text: r(e.text) } : {}),
    ...(e.notes ? { notes: e.notes.map(r) } : {}),
  };
}

export interface DigestInput {
  transcriptPath?: string;
  cwd?: string;
  lastMessage?: string;
  maxBytes: number;
  /** Literal values to remove (the relay's ANTHROPIC_API_KEY, the session's secrets). */
  secrets?: string[];
  waitMs?: number;
}

/** The digest for the Stop hook: never throws, always bounded, every string redacted. */
export async function buildEvidence(o: DigestInput): Promise<Evidence> {
  const notes: string[] = [];
  let digest: Evidence = { from: 'transcript' };
  if (!o.transcriptPath) notes.push('the Stop hook was given no transcript_path');
  else {
    if (!(await waitForTurnEnd(o.transcriptPath, o.lastMessage, o.waitMs ?? TURN_END_WAIT_MS)))
      notes.push("the transcript did not yet hold the turn's last message: its last steps may be missing");
    const turn = readTurn(o.transcriptPath);
    digest = digestEntries(turn.entries, o.cwd);
    notes.push(...turn.notes);
  }
  if (o.cwd) {
    const stat = await gitDiffStat(o.cwd);
    if (stat?.length) digest.diff_stat = stat;
  }
  if (notes.length) digest.notes = notes;
  const fitted = fitEvidence(redactAll(digest, createRedactor(o.secrets)), o.maxBytes);
  const parsed = evidenceSchema.safeParse(fitted);
  return parsed.success ? parsed.data : { from: 'transcript', notes: ['the digest did not fit its schema and was left out'] };
}

/**
 * Evidence a session supplies itself (send --evidence FILE): the schema's JSON, or plain text.
 * JSON that is not the schema's shape goes as text, with a warning naming the first problem.
 */
export function evidenceFromFile(text: string, maxBytes: number, secrets: string[] = []): { evidence: Evidence; warning?: string } {
  let e: Evidence = { from: 'file', text };
  let warning: string | undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    /* plain text */
  }
  if (json !== undefined && typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const parsed = evidenceSchema.safeParse(json);
    if (parsed.success) e = { ...parsed.data, from: 'file' };
    else {
      const issue = parsed.error.issues[0];
      warning = `it is JSON but not the evidence shape (${issue.path.join('.') || 'top level'}: ${issue.message}); sent as plain text`;
    }
  }
  // Redaction can lengthen a string past the schema's bound (A=1 A=1 … becomes A=[redacted] …): an
  // envelope carrying that would be refused whole by the relay, losing the message with it.
  const fitted = evidenceSchema.safeParse(fitEvidence(redactAll(e, createRedactor(secrets)), maxBytes));
  const evidence: Evidence = fitted.success
    ? fitted.data
    : {
        from: 'file',
        notes: [
          `the evidence file did not fit its schema once redacted and was left out (${fitted.error.issues[0]?.path.join('.') || 'top level'}: ${fitted.error.issues[0]?.message ?? ''})`.slice(
            0,
            900,
          ),
        ],
      };
  return { evidence, ...(warning ? { warning } : {}) };
}
