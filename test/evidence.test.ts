import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEvidence, digestEntries, evidenceFromFile, testCounts } from '../src/commands/hook/evidence/digest.js';
import { evidenceBytes, fitEvidence } from '../src/commands/hook/evidence/fit.js';
import { createRedactor, REDACTED, secretValues } from '../src/commands/hook/evidence/redact.js';
import { MAX_READ_BYTES, readTurn, waitForTurnEnd } from '../src/commands/hook/evidence/transcript.js';
import { envelopeSchema } from '../src/protocol/envelope.js';
import { EVIDENCE_LIMIT_BYTES, evidenceSchema, renderEvidence, summarizeEvidence, type Evidence } from '../src/protocol/evidence.js';

/**
 * The evidence digest's parts: the transcript reader's faults (missing, cut mid-line, 100 MB,
 * a link, a FIFO), redaction of planted secrets, the byte bound, the rendering chat-Claude
 * reads and the operator's one-line summary. The digest of real Claude Code transcripts is
 * in test/e2e/evidence.test.ts.
 */

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-evidence-'));
  dirs.push(d);
  return d;
}

const KEY = 'sk-ant-api03-PLANTED0relay0own0key0AAAAAAAAAAAAAAAAAAAAAAAA';
const line = (o: unknown) => JSON.stringify(o) + '\n';
const prompt = (text: string) => line({ type: 'user', isSidechain: false, message: { role: 'user', content: text } });
const use = (id: string, name: string, input: Record<string, unknown>) =>
  line({
    type: 'assistant',
    isSidechain: false,
    message: { id: `m-${id}`, role: 'assistant', content: [{ type: 'tool_use', id, name, input }] },
  });
const result = (id: string, content: string, isError: boolean, extra: Record<string, unknown> = {}) =>
  line({
    type: 'user',
    isSidechain: false,
    message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content, is_error: isError }] },
    ...extra,
  });
const say = (text: string) =>
  line({ type: 'assistant', isSidechain: false, message: { id: 'm-end', role: 'assistant', content: [{ type: 'text', text }] } });

/** A turn like the ones the real CLI writes: a failing test run, a passing command, and the closing claim. */
const TURN =
  prompt('Fix the calculator') +
  use('t1', 'Bash', { command: 'npm test' }) +
  result('t1', 'Exit code 1\nFAIL test/calc.test.js\nTests: 2 failed, 5 passed, 7 total', true) +
  use('t2', 'Bash', { command: 'echo ok' }) +
  result('t2', 'ok', false) +
  say('All tests pass. Awaiting review.');

function write(file: string, text: string): string {
  fs.writeFileSync(file, text);
  return file;
}

describe('the transcript reader', () => {
  it('reads only the last turn: from the last prompt (or Stop-hook feedback) to the end', () => {
    const d = tmp();
    const earlier = prompt('Earlier task') + use('t0', 'Bash', { command: 'rm -rf build' }) + result('t0', '', false) + say('Done.');
    const feedback = line({ type: 'user', isMeta: true, message: { role: 'user', content: 'Stop hook feedback:\nreview says go on' } });
    const file = write(
      path.join(d, 't.jsonl'),
      earlier + TURN + feedback + use('t9', 'Bash', { command: 'make' }) + result('t9', 'ok', false),
    );
    const e = digestEntries(readTurn(file).entries);
    expect(e.commands?.map((c) => c.command)).toEqual(['make']);
    const whole = digestEntries(readTurn(write(path.join(d, 'u.jsonl'), earlier + TURN)).entries);
    expect(whole.commands?.map((c) => c.command)).toEqual(['npm test', 'echo ok']);
  });

  it('a command without a result, or started in the background, has no exit status but says why; a failed tool is named', () => {
    const d = tmp();
    const file = write(
      path.join(d, 't.jsonl'),
      prompt('go') +
        use('a', 'Bash', { command: 'npm run dev', run_in_background: true }) +
        result('a', 'Command running in background with ID: b1', false) +
        use('b', 'Edit', { file_path: '/p/src/x.ts', old_string: 'a', new_string: 'b' }) +
        result('b', 'File has not been read yet. Read it first before writing to it.', true) +
        use('c', 'Bash', { command: 'sleep 100' }),
    );
    const e = digestEntries(readTurn(file).entries, '/p');
    expect(e.commands).toEqual([
      { command: 'npm run dev', note: 'started in the background' },
      { command: 'sleep 100', note: 'no result in the transcript' },
    ]);
    expect(e.tools).toEqual([
      { tool: 'Edit: /p/src/x.ts', outcome: 'failed', detail: 'File has not been read yet. Read it first before writing to it.' },
    ]);
    expect(e.files).toBeUndefined();
  });

  it('a missing transcript, a symlink and a FIFO give a digest that says so, without waiting on the FIFO', async () => {
    const d = tmp();
    const real = write(path.join(d, 'real.jsonl'), TURN);
    fs.symlinkSync(real, path.join(d, 'link.jsonl'));
    execFileSync('mkfifo', [path.join(d, 'fifo.jsonl')]);
    const notes = async (name: string) =>
      (await buildEvidence({ transcriptPath: path.join(d, name), lastMessage: 'All tests pass.', maxBytes: 2048 })).notes ?? [];
    expect((await notes('gone.jsonl')).join('\n')).toMatch(/no transcript at .*gone\.jsonl/);
    expect((await notes('link.jsonl')).join('\n')).toMatch(/transcript refused: .*link\.jsonl: is a symlink/);
    // No writer ever opens the FIFO: a blocking open or read would hang this test past its timeout.
    expect((await notes('fifo.jsonl')).join('\n')).toMatch(/transcript refused: .*fifo\.jsonl: is a FIFO/);
    expect(readTurn(path.join(d, 'fifo.jsonl')).entries).toEqual([]);
  });

  it('a last line cut mid-line is left out and named; the lines before it still count', () => {
    const d = tmp();
    const file = write(path.join(d, 't.jsonl'), TURN + '{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t3","na');
    const t = readTurn(file);
    expect(t.notes.join('\n')).toMatch(/last line is cut mid-line \(\d+ bytes, left out\)/);
    expect(digestEntries(t.entries).commands?.map((c) => c.exit)).toEqual([1, 0]);
  });

  it('a 100 MB transcript: the turn at its end is read from the end alone', () => {
    const d = tmp();
    const file = path.join(d, 'big.jsonl');
    const fd = fs.openSync(file, 'w');
    const pad = line({ type: 'progress', data: 'x'.repeat(1024 * 1024) });
    for (let i = 0; i < 100; i++) fs.writeSync(fd, pad);
    fs.writeSync(fd, TURN);
    fs.closeSync(fd);
    expect(fs.statSync(file).size).toBeGreaterThan(100 * 1024 * 1024);
    const t0 = performance.now();
    const e = digestEntries(readTurn(file).entries);
    console.log(
      `[measure] digest of the last turn of a ${fs.statSync(file).size} byte transcript: ${(performance.now() - t0).toFixed(1)} ms`,
    );
    expect(e.commands?.map((c) => [c.command, c.exit])).toEqual([
      ['npm test', 1],
      ['echo ok', 0],
    ]);
  });

  it('a turn that starts more than the read bound back: its end is digested, and the note says only its end was read', () => {
    const d = tmp();
    const file = path.join(d, 'long-turn.jsonl');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, prompt('A long task'));
    const big = use('b1', 'Bash', { command: 'cat huge.log' }) + result('b1', 'y'.repeat(1024 * 1024), false);
    for (let i = 0; i < MAX_READ_BYTES / 1024 / 1024 + 4; i++) fs.writeSync(fd, big.replaceAll('b1', `b${i}`));
    fs.writeSync(fd, use('z', 'Bash', { command: 'npm test' }) + result('z', 'Exit code 1\n3 failing', true) + say('Done.'));
    fs.closeSync(fd);
    const t = readTurn(file);
    expect(t.notes.join('\n')).toMatch(
      new RegExp(`the turn's start is not within the transcript's last ${MAX_READ_BYTES / 1024 / 1024} MiB: only its end was read`),
    );
    expect(digestEntries(t.entries).commands?.at(-1)).toMatchObject({ command: 'npm test', exit: 1, tests: { failed: 3 } });
  });

  it('lines of other types (2.1.332 api-request-blob: whole requests) never reach the digest', async () => {
    const d = tmp();
    const blob = line({
      type: 'api-request-blob',
      message: {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'bx', name: 'Bash', input: { command: 'echo BLOB-MARKER-7f3a' } },
          { type: 'text', text: 'BLOB-MARKER-7f3a' },
        ],
      },
      environment: 'BLOB-MARKER-7f3a',
    });
    const file = write(
      path.join(d, 't.jsonl'),
      prompt('go') + blob + use('t1', 'Bash', { command: 'ls' }) + result('t1', 'a', false) + blob + say('ok'),
    );
    const e = await buildEvidence({ transcriptPath: file, maxBytes: 2048 });
    expect(JSON.stringify(e)).not.toContain('BLOB-MARKER');
    expect(e.commands?.map((c) => c.command)).toEqual(['ls']);
  });

  it('waits for a transcript that does not yet hold the last message, on its change events, and stops waiting at the bound', async () => {
    const d = tmp();
    const file = write(path.join(d, 't.jsonl'), TURN.slice(0, TURN.lastIndexOf('{"type":"assistant"')));
    const waiting = waitForTurnEnd(file, 'All tests pass. Awaiting review.', 20_000);
    setTimeout(() => fs.appendFileSync(file, say('All tests pass. Awaiting review.')), 50);
    expect(await waiting).toBe(true);
    const never = await buildEvidence({
      transcriptPath: write(path.join(d, 'u.jsonl'), prompt('x')),
      lastMessage: 'Finished.',
      maxBytes: 2048,
      waitMs: 100,
    });
    expect(never.notes?.join('\n')).toMatch(/did not yet hold the turn's last message/);
  });
});

describe('the digest', () => {
  it('test counts as runners state them', () => {
    expect(testCounts('Tests:       2 failed, 5 passed, 7 total')).toEqual({ failed: 2, passed: 5 });
    expect(testCounts(' Test Files  1 failed | 3 passed (4)\n      Tests  2 failed | 40 passed | 1 skipped (43)')).toEqual({
      failed: 2,
      passed: 40,
      skipped: 1,
    });
    expect(testCounts('  12 passing (30ms)\n  1 pending\n  3 failing')).toEqual({ passed: 12, skipped: 1, failed: 3 });
    expect(testCounts('==== 1 failed, 9 passed in 0.12s ====')).toEqual({ failed: 1, passed: 9 });
    expect(testCounts('# tests 6\n# pass 5\n# fail 1')).toEqual({ passed: 5, failed: 1 });
    expect(testCounts('test result: FAILED. 7 passed; 2 failed; 0 ignored')).toEqual({ passed: 7, failed: 2 });
    expect(testCounts('compiled 3 files')).toBeUndefined();
  });

  it('planted secrets never reach the envelope: env assignments, key shapes, URL credentials, the relay key', async () => {
    const d = tmp();
    const file = write(
      path.join(d, 't.jsonl'),
      prompt('deploy') +
        use('a', 'Bash', { command: `ANTHROPIC_API_KEY=${KEY} ./deploy.sh --token tok-PLANTED-flag-value` }) +
        result(
          'a',
          `Exit code 2\nusing key ${KEY}\nexport DB_PASSWORD=PLANTED-db-pass\nGET https://bob:PLANTED-url-pass@example.test/x\nAuthorization: Bearer PLANTEDbearer0123456789`,
          true,
        ) +
        use('b', 'Bash', { command: 'curl -H "x-api-key: ghp_PLANTED0github0token0000000000000" http://127.0.0.1/' }) +
        result('b', 'Exit code 7\nAWS AKIAPLANTED000000000 relay=relay-own-PLANTED-literal', true) +
        say('Deployed.'),
    );
    const e = await buildEvidence({
      transcriptPath: file,
      maxBytes: 4096,
      secrets: secretValues({ ANTHROPIC_API_KEY: 'relay-own-PLANTED-literal', HOME: '/home/x' }),
    });
    const sent = JSON.stringify(envelopeSchema.parse({ session_id: 's', content: 'Deployed.', evidence: e })) + renderEvidence(e);
    expect(sent).not.toMatch(/PLANTED/);
    expect(sent).toContain('ANTHROPIC_API_KEY=[redacted]');
    expect(sent).toContain('./deploy.sh');
    expect(e.commands?.map((c) => c.exit)).toEqual([2, 7]);
  });

  it('redaction keeps what a reviewer needs: paths, test lines, ordinary flags', () => {
    const r = createRedactor();
    for (const ok of [
      'Tests: 2 failed, 5 passed, 7 total',
      'src/components/very/long/path/to_some_module_name.ts',
      'git diff --stat=120',
      'the token is invalid',
    ])
      expect(r(ok)).toBe(ok);
  });

  it('redaction reads adversarial runs in one pass, and still finds the secret at their end', () => {
    // A session (or a far digest) can send long runs of the characters a key name is made of. A
    // pattern that restarts at every word boundary inside such a run, or backtracks over it, takes
    // minutes on these; one that starts at the run's start, with the name bounded, takes milliseconds.
    const r = createRedactor();
    for (const unit of ['a-', 'a.', 'api_key', 'x1-', '--token-']) {
      const run = unit.repeat(Math.ceil(200_000 / unit.length));
      const out = r(`${run} api_key=hunter2hunter2 tail`);
      expect(out.endsWith(` api_key=${REDACTED} tail`), unit).toBe(true);
      expect(out).not.toContain('hunter2');
    }
  });

  it('is bounded by evidence_max_bytes with a note of what was left out; the last test run stays', () => {
    const big: Evidence = {
      from: 'transcript',
      files: Array.from({ length: 40 }, (_, i) => ({ path: `src/module-${i}.ts`, action: 'edited' as const, added: i, removed: 1 })),
      commands: [
        ...Array.from({ length: 30 }, (_, i) => ({
          command: `node step-${i}.js`,
          exit: i % 3 ? 0 : 1,
          tail: ['a'.repeat(150), 'b'.repeat(150), 'c'],
        })),
        { command: 'npm test', exit: 1, tests: { failed: 2, passed: 5 }, tail: ['FAIL x', 'Tests: 2 failed, 5 passed'] },
      ],
      diff_stat: [
        ...Array.from({ length: 40 }, (_, i) => `src/module-${i}.ts | 3 ++-`),
        '40 files changed, 80 insertions(+), 40 deletions(-)',
      ],
    };
    for (const max of [512, 2048, 8192]) {
      const f = fitEvidence(big, max);
      expect(evidenceBytes(f)).toBeLessThanOrEqual(max);
      expect(f.notes?.at(-1)).toMatch(new RegExp(`cut to hooks.evidence_max_bytes \\(${max}\\): left out .*command`));
      expect(f.commands?.at(-1)).toMatchObject({ command: 'npm test', exit: 1, tests: { failed: 2 } });
    }
    expect(fitEvidence(big, 8192).diff_stat?.at(-1)).toMatch(/40 files changed/);
    const small: Evidence = { from: 'transcript', commands: [{ command: 'ls', exit: 0 }] };
    expect(fitEvidence(small, 2048)).toBe(small);
  });

  it('an evidence file that redaction pushes past the schema becomes a note, so the envelope (and its message) is not refused', () => {
    const command = 'A=1 '.repeat(399) + 'A=1';
    const { evidence } = evidenceFromFile(JSON.stringify({ commands: [{ command, exit: 0 }] }), 32_768);
    expect(evidenceSchema.safeParse(evidence).success).toBe(true);
    expect(evidence.commands).toBeUndefined();
    expect(evidence.notes?.[0]).toMatch(
      /^the evidence file did not fit its schema once redacted and was left out \(commands\.0\.command: /,
    );
  });

  it('fitting ends at the smallest bound with text alone (it cut x… to x… forever), and cuts a huge digest in one pass', () => {
    const out256 = fitEvidence({ from: 'file', text: 'x'.repeat(3000) }, 256);
    expect(evidenceBytes(out256)).toBeLessThanOrEqual(256);
    expect(out256.notes?.at(-1)).toMatch(/^cut to hooks.evidence_max_bytes \(256\): left out \d+ characters of text$/);
    // 400 commands of 40 output lines each: the lines go first, as many as needed and no more.
    const commands = Array.from({ length: 400 }, (_, i) => ({
      command: `step ${i}`,
      exit: 0,
      tail: Array.from({ length: 40 }, (_, k) => `line ${k}`),
    }));
    const out = fitEvidence({ from: 'transcript', commands }, 32_768);
    expect(evidenceBytes(out)).toBeLessThanOrEqual(32_768);
    expect(out.commands!.length).toBeGreaterThan(0);
    expect(out.notes?.at(-1)).toMatch(/left out .*output line/);
  });

  it('renders in the fixed, labelled form and sums up in one line', () => {
    const e: Evidence = {
      from: 'transcript',
      files: [
        { path: 'src/a.ts', action: 'edited', added: 12, removed: 3 },
        { path: 'src/b.ts', action: 'created', added: 40 },
        { path: 'README.md', action: 'edited', added: 1, removed: 1 },
      ],
      commands: [
        { command: 'npm run build', exit: 0 },
        { command: 'npm test', exit: 1, tests: { failed: 2, passed: 5 }, tail: ['Tests: 2 failed, 5 passed'] },
      ],
      tools: [{ tool: 'WebFetch: https://example.test', outcome: 'denied' }],
      diff_stat: ['src/a.ts | 15 ++++++++++++---', '1 file changed, 12 insertions(+), 3 deletions(-)'],
    };
    expect(renderEvidence(e)).toBe(
      [
        '<evidence source="transcript">',
        "What the turn did, read by the Stop hook from Claude Code's transcript of this turn; not the session's own words.",
        'Files written or edited (3):',
        '  src/a.ts (edited) +12 -3',
        '  src/b.ts (created) +40',
        '  README.md (edited) +1 -1',
        'Commands run (2), in order:',
        '  exit 0: npm run build',
        '  exit 1: npm test [tests: 2 failed, 5 passed]',
        '    | Tests: 2 failed, 5 passed',
        'Tools denied or failed:',
        '  denied: WebFetch: https://example.test',
        'git diff --stat HEAD (the work tree now, not only this turn):',
        '  src/a.ts | 15 ++++++++++++---',
        '  1 file changed, 12 insertions(+), 3 deletions(-)',
        '</evidence>',
      ].join('\n'),
    );
    expect(summarizeEvidence(e)).toBe('⚙ 3 files · npm test ✗ 2 failed · 1 denied');
    expect(summarizeEvidence({ commands: [{ command: 'pytest -q', exit: 0, tests: { passed: 9 } }] })).toBe('⚙ pytest -q ✓ 9 passed');
    expect(
      summarizeEvidence({
        commands: [
          { command: 'make', exit: 2 },
          { command: 'ls', exit: 0 },
        ],
      }),
    ).toBe('⚙ 1 command failed');
    expect(summarizeEvidence({})).toBe('⚙ nothing run');
    expect(renderEvidence({ from: 'transcript' })).toContain('No files changed, no commands run, no tool denied in this turn.');
  });
});

describe('the envelope field', () => {
  it('is optional, and refused when malformed or over the hard ceiling, naming the key', () => {
    expect(envelopeSchema.parse({ session_id: 's', content: 'x' }).evidence).toBeUndefined();
    const bad = envelopeSchema.safeParse({ session_id: 's', content: 'x', evidence: { commands: [{ exit: 1 }] } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path.slice(0, 1)).toEqual(['evidence']);
    const huge = envelopeSchema.safeParse({ session_id: 's', content: 'x', evidence: { text: 'x'.repeat(EVIDENCE_LIMIT_BYTES) } });
    expect(huge.success).toBe(false);
  });

  it('send --evidence: the schema JSON or plain text, redacted and fitted; JSON of another shape goes as text, with a warning', () => {
    const json = evidenceFromFile(
      JSON.stringify({ commands: [{ command: 'cargo test', exit: 101, tests: { failed: 1, passed: 8 } }] }),
      2048,
    );
    expect(json).toEqual({ evidence: { from: 'file', commands: [{ command: 'cargo test', exit: 101, tests: { failed: 1, passed: 8 } }] } });
    const text = evidenceFromFile(`ran make; SECRET_TOKEN=PLANTEDvalue\n${'log line\n'.repeat(2000)}`, 1024).evidence;
    expect(text.from).toBe('file');
    expect(JSON.stringify(text)).not.toContain('PLANTED');
    expect(evidenceBytes(text)).toBeLessThanOrEqual(1024);
    expect(text.notes?.at(-1)).toMatch(/left out \d+ characters of text/);
    const other = evidenceFromFile(JSON.stringify({ commands: [{ command: 'make', exit: 'two' }] }), 2048);
    expect(other.evidence.text).toContain('"exit":"two"');
    expect(other.warning).toMatch(/not the evidence shape \(commands\.0\.exit: .*\); sent as plain text/);
  });
});
