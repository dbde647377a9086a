import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEvidence } from '../../src/commands/hook/evidence/digest.js';
import { evidenceBytes } from '../../src/commands/hook/evidence/fit.js';
import { countTokens } from '../../src/demo/fake-api.js';
import type { FakeReply, FakeRequest } from '../../src/demo/fake-api.js';
import { envelopeSchema } from '../../src/protocol/envelope.js';
import { renderEvidence, summarizeEvidence } from '../../src/protocol/evidence.js';
import {
  CC_KEY,
  CC_VERSIONS,
  ccBinary,
  ccEnv,
  fromClaudeCode,
  haveClaudeCode,
  isClaudeCode,
  seedClaudeJson,
  waitHooksGone,
} from '../helpers/claude-code.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * The evidence digest from transcripts the real Claude Code CLI writes (each pinned version):
 * the fake model makes the tool calls of a typical turn (Write, Edit, a Bash command that
 * fails, one that passes, a failing test run, a tool -p mode denies) and ends with a claim the
 * transcript contradicts. The hooks are installed by `relay-tui hook install`; the relay is
 * paused so the envelope the Stop hook wrote stays in queue/ to be read, then resumed to show
 * its intake takes it.
 */

let h: Harness | undefined;
const temps: string[] = [];
afterEach(async () => {
  if (h) await waitHooksGone(h.paths.state);
  await h?.close();
  h = undefined;
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

function tempDir(prefix: string): string {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  temps.push(d);
  return d;
}

/** Planted in the command lines and the output; none may reach the envelope. */
const PLANTED_SHAPED = 'sk-ant-api03-PLANTEDshapedKEY000000000000000000000000000000';
const PLANTED_RELAY_KEY = 'relay-own-PLANTED-literal-key';

const CLAIM = 'All tests pass. Awaiting review.';

function steps(project: string): FakeReply[] {
  return [
    {
      toolUse: {
        name: 'Write',
        input: { file_path: path.join(project, 'src/extra.js'), content: 'export const one = 1;\nexport const two = 2;\n' },
      },
    },
    // 2.1.197 refuses to Edit a file not Read in this session: a session reads first.
    { toolUse: { name: 'Read', input: { file_path: path.join(project, 'src/calc.js') } } },
    {
      toolUse: {
        name: 'Edit',
        input: {
          file_path: path.join(project, 'src/calc.js'),
          old_string: 'export const add = (a, b) => a - b;',
          new_string: '// fixed\nexport const add = (a, b) => a + b;',
        },
      },
    },
    {
      toolUse: {
        name: 'Bash',
        input: {
          command: `ANTHROPIC_API_KEY=${PLANTED_SHAPED} node -e "console.log(process.argv[1]); console.error('boom: it broke'); process.exit(3)" ${PLANTED_RELAY_KEY}`,
          description: 'A command that fails',
        },
      },
    },
    { toolUse: { name: 'Bash', input: { command: 'export DB_PASSWORD=PLANTEDhunter2; echo ok', description: 'One that passes' } } },
    { toolUse: { name: 'Bash', input: { command: 'npm test', description: 'Run the tests' } } },
    { toolUse: { name: 'WebFetch', input: { url: 'http://127.0.0.1:9/docs', prompt: 'read it' } } },
    { text: CLAIM },
  ];
}

/** A git work tree with one commit, whose test script fails as a test runner would. */
async function makeProject(): Promise<string> {
  const project = tempDir('relay-ev-project-');
  fs.mkdirSync(path.join(project, 'src'));
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'calc', private: true, scripts: { test: 'node run-tests.js' } }),
  );
  fs.writeFileSync(
    path.join(project, 'run-tests.js'),
    "console.log('FAIL test/calc.test.js > add');\nconsole.log('AssertionError: expected -1 to be 3');\nconsole.log('Tests: 2 failed, 5 passed, 7 total');\nprocess.exit(1);\n",
  );
  fs.writeFileSync(path.join(project, 'src/calc.js'), 'export const add = (a, b) => a - b;\nexport const sub = (a, b) => a - b;\n');
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { cwd: project });
  await git('init', '-q');
  await git('add', '.');
  await git('commit', '-qm', 'calc');
  return project;
}

function transcriptOf(home: string): string {
  const dir = path.join(home, '.claude', 'projects');
  const files = fs.readdirSync(dir).flatMap((d) =>
    fs.existsSync(path.join(dir, d)) && fs.statSync(path.join(dir, d)).isDirectory()
      ? fs
          .readdirSync(path.join(dir, d))
          .filter((f) => f.endsWith('.jsonl'))
          .map((f) => path.join(dir, d, f))
      : [],
  );
  expect(files).toHaveLength(1);
  return files[0];
}

for (const version of CC_VERSIONS) {
  const bin = ccBinary(version);
  describe(`Claude Code ${version}`, () => {
    if (!haveClaudeCode(version, bin)) return;

    it('-p: the Stop hook sends what the turn did beside its claim: files, exit statuses, the failing test counts, the denial; no secret', async () => {
      const project = await makeProject();
      const script = steps(project);
      const harness = await createHarness({
        config: { guardrails: { repeat_threshold: 0 } },
        api: {
          respond: (r: FakeRequest) => {
            if (fromClaudeCode(r) && !isClaudeCode(r)) return { text: 'Calculator fix' };
            if (isClaudeCode(r))
              return script[Math.min(r.body.messages.filter((m: any) => m.role === 'assistant').length, script.length - 1)];
            return { text: 'Review: the tests fail; fix add() before you claim they pass.' };
          },
        },
      });
      h = harness;
      await harness.startRelay();
      // The relay's own key, as a user keeps it: in the root's .env (the relay here runs on the harness's key).
      fs.appendFileSync(harness.paths.env, `\nANTHROPIC_API_KEY=${PLANTED_RELAY_KEY}\n`);
      expect((await harness.cli(['say', '/pause'])).exitCode).toBe(0);
      await harness.waitStatus((s) => s.state === 'paused');
      const home = tempDir('relay-ev-home-');
      seedClaudeJson(home, project, version);
      const installed = await harness.cli([
        'hook',
        'install',
        '--session',
        'session-1',
        '--project',
        project,
        '--root',
        harness.root,
        '--timeout',
        '3',
      ]);
      expect(installed.exitCode, installed.stderr).toBe(0);

      const cc = await execa(
        bin,
        ['-p', 'Fix the calculator', '--allowedTools', 'Write', 'Edit', 'Bash', '--output-format', 'stream-json', '--verbose'],
        {
          cwd: project,
          // npm's update check would reach the registry: tests talk to loopback only.
          env: ccEnv(home, harness.api.url, { npm_config_update_notifier: 'false' }),
          extendEnv: false,
          reject: false,
          timeout: 120_000,
          stdin: 'ignore',
        },
      );
      expect(cc.exitCode, String(cc.stderr)).toBe(0);

      const queued = fs.readdirSync(harness.paths.queue).filter((n) => n.endsWith('.json'));
      expect(queued).toHaveLength(1);
      const raw = fs.readFileSync(path.join(harness.paths.queue, queued[0]), 'utf8');
      expect(raw).not.toMatch(/PLANTED/);
      expect(raw).not.toContain(CC_KEY);
      const env = envelopeSchema.parse(JSON.parse(raw));
      expect(env.content).toBe(CLAIM);
      const e = env.evidence!;
      expect(e.from).toBe('transcript');
      expect(e.files).toEqual([
        { path: 'src/extra.js', action: 'created', added: 2 },
        { path: 'src/calc.js', action: 'edited', added: 2, removed: 1 },
      ]);
      expect(e.commands?.map((c) => [c.command.split(' ')[0], c.exit])).toEqual([
        ['ANTHROPIC_API_KEY=[redacted]', 3],
        ['export', 0],
        ['npm', 1],
      ]);
      expect(e.commands?.[0].tail).toContain('boom: it broke');
      expect(e.commands?.[2]).toMatchObject({ command: 'npm test', exit: 1, tests: { failed: 2, passed: 5 } });
      expect(e.commands?.[2].tail?.at(-1)).toBe('Tests: 2 failed, 5 passed, 7 total');
      expect(e.tools).toEqual([expect.objectContaining({ tool: 'WebFetch: http://127.0.0.1:9/docs', outcome: 'denied' })]);
      expect(e.diff_stat?.join('\n')).toMatch(/src\/calc\.js \| 3 \+\+-/);
      expect(e.diff_stat?.at(-1)).toMatch(/1 file changed, 2 insertions\(\+\), 1 deletion\(-\)/);
      expect(e.notes ?? []).toEqual([]);
      expect(evidenceBytes(e)).toBeLessThanOrEqual(2048);
      expect(summarizeEvidence(e)).toBe('⚙ 2 files · npm test ✗ 2 failed · 1 command failed · 1 denied');

      // The same transcript, digested again here: what it costs, in bytes, tokens and time.
      const transcript = transcriptOf(home);
      const t0 = performance.now();
      const again = await buildEvidence({ transcriptPath: transcript, cwd: project, lastMessage: CLAIM, maxBytes: 2048 });
      const ms = performance.now() - t0;
      const shown = renderEvidence(again);
      console.log(
        `[measure] Claude Code ${version}: evidence digest of a 6-tool turn: ${Buffer.byteLength(shown)} bytes rendered (${JSON.stringify(again).length} as JSON), ~${countTokens(shown)} tokens (chars/4), built in ${ms.toFixed(1)} ms (transcript ${fs.statSync(transcript).size} bytes)`,
      );

      // The relay's intake takes the envelope with its evidence (nothing rejected), and the turn goes out.
      expect((await harness.cli(['say', '/resume'])).exitCode).toBe(0);
      await harness.waitStatus((s) => s.history_turns >= 1 && s.queue_depth === 0, 30_000);
      expect(harness.status()?.rejected_count).toBe(0);
      const review = harness.api.requests.filter((r) => !fromClaudeCode(r)).find((r) => r.lastUserText.includes(CLAIM));
      expect(review).toBeDefined();
      // Issue 27's "done when": chat-Claude's request for the turn carries the failing command,
      // its exit status and the failure count, beside the session's own claim.
      expect(review!.lastUserText).toMatch(/<evidence source="transcript">[\s\S]*exit 1: npm test \[tests: 2 failed, 5 passed\]/);
      expect(review!.lastUserText).toContain('Tests: 2 failed, 5 passed, 7 total');
      expect(review!.lastUserText).not.toContain('PLANTED');
    }, 150_000);
  });
}

describe('the real CLI, without Claude Code', () => {
  it('hook stop: a FIFO as transcript_path gives a digest that says so, and the hook ends; hooks.evidence: off sends none', async () => {
    const harness = await createHarness({ config: { hooks: { evidence: 'digest', evidence_max_bytes: 1024 } } });
    h = harness;
    await harness.startRelay();
    expect((await harness.cli(['say', '/pause'])).exitCode).toBe(0);
    await harness.waitStatus((s) => s.state === 'paused');
    const d = tempDir('relay-ev-fifo-');
    const fifo = path.join(d, 'transcript.jsonl');
    await execa('mkfifo', [fifo]);
    const stop = (session: string) =>
      harness.cli(['hook', 'stop', '--session', session, '--root', harness.root, '--timeout', '1'], {
        input: JSON.stringify({ hook_event_name: 'Stop', transcript_path: fifo, cwd: d, last_assistant_message: 'Done.' }),
      });
    // No writer ever opens the FIFO: a hook that opened it to read would never end (the test's timeout would fail it).
    expect((await stop('session-1')).exitCode).toBe(0);
    const envelopes = () =>
      fs
        .readdirSync(harness.paths.queue)
        .filter((n) => n.endsWith('.json'))
        .map((n) => envelopeSchema.parse(JSON.parse(fs.readFileSync(path.join(harness.paths.queue, n), 'utf8'))));
    const [first] = envelopes();
    expect(first.evidence?.notes?.join('\n')).toMatch(/transcript refused: .*transcript\.jsonl: is a FIFO/);

    const yaml = fs.readFileSync(harness.paths.config, 'utf8').replace(/evidence: digest/, 'evidence: "off"');
    fs.writeFileSync(harness.paths.config, yaml);
    expect((await stop('session-2')).exitCode).toBe(0);
    const second = envelopes().find((e) => e.session_id === 'session-2')!;
    expect(second.content).toBe('Done.');
    expect(second.evidence).toBeUndefined();

    // With no last_assistant_message the hook looks for the text in the transcript: the FIFO is refused there too, not opened.
    const third = await harness.cli(['hook', 'stop', '--session', 'session-3', '--root', harness.root, '--timeout', '1'], {
      input: JSON.stringify({ hook_event_name: 'Stop', transcript_path: fifo, cwd: d }),
    });
    expect(third.exitCode).toBe(0);
    expect(third.stdout).toContain('without any assistant text');
  }, 60_000);

  it('send --evidence FILE: plain text or the schema JSON, redacted; a FIFO or a symlink is refused at once, naming it', async () => {
    const harness = await createHarness();
    h = harness;
    const d = tempDir('relay-ev-send-');
    const notes = path.join(d, 'evidence.txt');
    fs.writeFileSync(notes, `make check: 3 failed\nDEPLOY_TOKEN=PLANTEDdeploy curl https://u:PLANTEDpw@127.0.0.1/\n`);
    const sent = await harness.cli(['send', '--session', 'session-1', '--root', harness.root, '--evidence', notes, 'Checks done.']);
    expect(sent.exitCode, sent.stderr).toBe(0);
    const file = path.join(harness.paths.queue, sent.stdout.trim().replace(/^queue\//, ''));
    const raw = fs.readFileSync(file, 'utf8');
    expect(raw).not.toMatch(/PLANTED/);
    const env = envelopeSchema.parse(JSON.parse(raw));
    expect(env.evidence).toMatchObject({ from: 'file', text: expect.stringContaining('make check: 3 failed') });

    const json = path.join(d, 'evidence.json');
    fs.writeFileSync(json, JSON.stringify({ commands: [{ command: 'go test ./...', exit: 1 }] }));
    const sentJson = await harness.cli(['send', '--session', 'session-1', '--root', harness.root, '--evidence', json, 'Go tests.']);
    const envJson = envelopeSchema.parse(
      JSON.parse(fs.readFileSync(path.join(harness.paths.queue, sentJson.stdout.trim().replace(/^queue\//, '')), 'utf8')),
    );
    expect(envJson.evidence).toEqual({ from: 'file', commands: [{ command: 'go test ./...', exit: 1 }] });

    const fifo = path.join(d, 'fifo');
    await execa('mkfifo', [fifo]);
    fs.symlinkSync(notes, path.join(d, 'link'));
    for (const [name, what] of [
      ['fifo', 'is a FIFO'],
      ['link', 'is a symlink'],
      ['missing', 'no such file'],
    ]) {
      const r = await harness.cli(['send', '--session', 'session-1', '--root', harness.root, '--evidence', path.join(d, name), 'x']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`--evidence: ${path.join(d, name)}`);
      expect(r.stderr).toContain(what);
    }
  }, 60_000);
});
