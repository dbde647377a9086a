import { z } from 'zod';

/**
 * The envelope's `evidence`: what a session's turn did, as read from outside its own account
 * (files written, commands and their exit status, test counts, tools denied), so the reviewer can
 * check the account against it. Written by the Stop hook from Claude Code's transcript, or by
 * `relay-tui send --evidence FILE`; the relay shows it to chat-Claude in the fixed form of
 * renderEvidence and to the operator as the one line of summarizeEvidence.
 *
 * Bounded twice: the writer fits it to hooks.evidence_max_bytes (a few KiB); this schema refuses
 * anything past EVIDENCE_LIMIT_BYTES whoever wrote it, so a hand-made envelope cannot smuggle a
 * whole file into every turn.
 */

/** The hard ceiling of an envelope's evidence (its JSON), whatever the config says. */
export const EVIDENCE_LIMIT_BYTES = 65_536;
/** The largest hooks.evidence_max_bytes: half the ceiling, as the JSON of a digest can outgrow its rendering. */
export const EVIDENCE_MAX_BYTES_CAP = 32_768;

const line = (max: number) => z.string().max(max);
const count = z.number().int().nonnegative();

const fileChange = z.strictObject({
  path: line(1024),
  action: z.enum(['created', 'edited']).optional(),
  added: count.optional(),
  removed: count.optional(),
});

const testCounts = z.strictObject({ passed: count.optional(), failed: count.optional(), skipped: count.optional() });

const command = z.strictObject({
  command: line(2000),
  /** The exit status; absent when the transcript does not say (no result yet, interrupted). */
  exit: z.number().int().optional(),
  /** Why there is no exit status: "interrupted", "timed out", "no result in the transcript". */
  note: line(200).optional(),
  tests: testCounts.optional(),
  /** The last lines of a failing command's output. */
  tail: z.array(line(1000)).max(40).optional(),
});

const tool = z.strictObject({ tool: line(200), outcome: z.enum(['denied', 'failed']), detail: line(1000).optional() });

export const evidenceSchema = z
  .strictObject({
    /** Who wrote it: the Stop hook from the transcript, or a session's own file (send --evidence). */
    from: z.enum(['transcript', 'file']).optional(),
    files: z.array(fileChange).max(500).optional(),
    commands: z.array(command).max(500).optional(),
    tools: z.array(tool).max(200).optional(),
    /** `git diff --stat HEAD` in the session's work tree, its summary line last. */
    diff_stat: z.array(line(1000)).max(200).optional(),
    /** Free text, for a session that is not Claude Code (send --evidence with a plain-text file). */
    text: z.string().max(EVIDENCE_LIMIT_BYTES).optional(),
    /** What the digest could not see or left out, said plainly. */
    notes: z.array(line(1000)).max(40).optional(),
  })
  .refine((e) => Buffer.byteLength(JSON.stringify(e), 'utf8') <= EVIDENCE_LIMIT_BYTES, {
    message: `must be at most ${EVIDENCE_LIMIT_BYTES} bytes as JSON`,
  });

export type Evidence = z.infer<typeof evidenceSchema>;
export type EvidenceCommand = z.infer<typeof command>;
export type EvidenceFile = z.infer<typeof fileChange>;
export type TestCounts = z.infer<typeof testCounts>;

const lines = (n: number | undefined, one: string, many: string) => (n === 1 ? `1 ${one}` : `${n} ${many}`);

export function describeTests(t: TestCounts): string {
  const parts: string[] = [];
  if (t.failed !== undefined) parts.push(`${t.failed} failed`);
  if (t.passed !== undefined) parts.push(`${t.passed} passed`);
  if (t.skipped !== undefined) parts.push(`${t.skipped} skipped`);
  return parts.join(', ');
}

function status(c: EvidenceCommand): string {
  if (c.exit !== undefined) return `exit ${c.exit}`;
  return c.note ?? 'no exit status';
}

function fileLine(f: EvidenceFile): string {
  const counts = [f.added !== undefined ? `+${f.added}` : '', f.removed !== undefined ? `-${f.removed}` : ''].filter(Boolean).join(' ');
  return `  ${f.path}${f.action ? ` (${f.action})` : ''}${counts ? ` ${counts}` : ''}`;
}

/**
 * The digest as chat-Claude reads it beside the session's message: one fixed, labelled block,
 * each section present only when it has something, so the reviewer learns the shape once.
 */
export function renderEvidence(e: Evidence): string {
  const source =
    e.from === 'file' ? 'supplied by the session with its message' : "read by the Stop hook from Claude Code's transcript of this turn";
  const out: string[] = [`<evidence source="${e.from ?? 'transcript'}">`, `What the turn did, ${source}; not the session's own words.`];
  if (e.files?.length) {
    out.push(`Files written or edited (${e.files.length}):`);
    for (const f of e.files) out.push(fileLine(f));
  }
  if (e.commands?.length) {
    out.push(`Commands run (${e.commands.length}), in order:`);
    for (const c of e.commands) {
      const tests = c.tests ? ` [tests: ${describeTests(c.tests)}]` : '';
      out.push(`  ${status(c)}: ${c.command}${tests}`);
      for (const t of c.tail ?? []) out.push(`    | ${t}`);
    }
  }
  if (e.tools?.length) {
    out.push('Tools denied or failed:');
    for (const t of e.tools) out.push(`  ${t.outcome}: ${t.tool}${t.detail ? ` (${t.detail})` : ''}`);
  }
  if (e.diff_stat?.length) {
    out.push('git diff --stat HEAD (the work tree now, not only this turn):');
    for (const l of e.diff_stat) out.push(`  ${l}`);
  }
  if (e.text) out.push('Notes from the session:', e.text);
  if (e.notes?.length) {
    out.push('Left out or not seen:');
    for (const n of e.notes) out.push(`  ${n}`);
  }
  const empty = !e.files?.length && !e.commands?.length && !e.tools?.length && !e.diff_stat?.length && !e.text;
  if (empty) out.push('No files changed, no commands run, no tool denied in this turn.');
  out.push('</evidence>');
  return out.join('\n');
}

const short = (s: string, n: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

/** A command that runs tests: it printed counts, or it is named like a test runner. */
export function isTestCommand(c: EvidenceCommand): boolean {
  return !!c.tests || /\b(test|tests|jest|vitest|pytest|mocha|ava|tap|rspec|phpunit)\b/.test(c.command);
}

/**
 * One line for the operator's conversation pane, e.g. "⚙ 3 files · npm test ✗ 2 failed · 1 denied":
 * files changed, the last test run and how it ended, other failing commands, tools denied or failed.
 */
export function summarizeEvidence(e: Evidence): string {
  const parts: string[] = [];
  if (e.files?.length) parts.push(lines(e.files.length, 'file', 'files'));
  const cmds = e.commands ?? [];
  const lastTest = [...cmds].reverse().find(isTestCommand);
  if (lastTest) {
    const failed = (lastTest.tests?.failed ?? 0) > 0 || (lastTest.exit !== undefined && lastTest.exit !== 0);
    const counts = lastTest.tests
      ? failed && lastTest.tests.failed !== undefined
        ? `${lastTest.tests.failed} failed`
        : lastTest.tests.passed !== undefined
          ? `${lastTest.tests.passed} passed`
          : status(lastTest)
      : status(lastTest);
    parts.push(`${short(lastTest.command, 28)} ${failed ? '✗' : '✓'} ${counts}`);
  }
  const otherFailed = cmds.filter((c) => c !== lastTest && c.exit !== undefined && c.exit !== 0).length;
  if (otherFailed) parts.push(`${lines(otherFailed, 'command', 'commands')} failed`);
  else if (!lastTest && cmds.length) parts.push(lines(cmds.length, 'command', 'commands'));
  const denied = e.tools?.filter((t) => t.outcome === 'denied').length ?? 0;
  const toolFailed = (e.tools?.length ?? 0) - denied;
  if (denied) parts.push(`${denied} denied`);
  if (toolFailed) parts.push(`${lines(toolFailed, 'tool', 'tools')} failed`);
  if (!parts.length) parts.push(e.text ? short(e.text, 60) : 'nothing run');
  return `⚙ ${parts.join(' · ')}`;
}
