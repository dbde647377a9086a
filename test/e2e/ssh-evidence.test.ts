import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, sshdUnavailable, type Sshd } from '../../bench/sshd.js';
import { envelopeSchema, type Envelope } from '../../src/protocol/envelope.js';
import { summarizeEvidence } from '../../src/protocol/evidence.js';
import { writeTurnTranscript } from '../helpers/cc-transcript.js';
import { frame } from '../../src/commands/remote/guard.js';
import { CLI, createHarness, type Harness } from '../helpers/harness.js';

/**
 * Evidence from a session on another machine, over a real OpenSSH server on 127.0.0.1 (as in
 * test/e2e/ssh.test.ts): the remote Stop hook's digest is built on the session's side, from its
 * transcript (test/helpers/cc-transcript.ts, in the shape Claude Code 2.1.x writes) and its git
 * work tree, and lands in the far queue/ with the envelope; `send --remote --evidence FILE`
 * carries the file's evidence to the far envelope; a bad file is refused here with the words a
 * local send uses. The relay runs paused, so envelopes stay in queue/ to be read, and is resumed
 * at the end to show chat-Claude's request carries the digest.
 */

const missing = sshdUnavailable();
if (missing) process.stderr.write(`test/e2e/ssh-evidence.test.ts: skipped: ${missing}\n`);

/** Secret-named on the session's machine only: its value must be cut there, where the far side cannot know it. */
const DEVBOX_SECRET = 'devbox-only-PLANTED-deploy-value';
/** The relay's own key, in the far root's .env: cut on the far side. */
const RELAY_KEY = 'relay-own-PLANTED-literal-key';

describe.skipIf(!!missing)('evidence from a session on another machine', () => {
  let sshd: Sshd;
  let h: Harness;
  let project: string;
  let sessionDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    h.writeConfig({});
    sessionDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'relay-ssh-ev-devbox-')));
    project = path.join(sessionDir, 'calc');
    // The session's work tree: one commit, then the turn's edit and its new file.
    fs.mkdirSync(path.join(project, 'src'), { recursive: true });
    fs.writeFileSync(path.join(project, 'src/calc.js'), 'export const add = (a, b) => a - b;\nexport const sub = (a, b) => a - b;\n');
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { cwd: project });
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-qm', 'calc');
    fs.writeFileSync(
      path.join(project, 'src/calc.js'),
      '// fixed\nexport const add = (a, b) => a + b;\nexport const sub = (a, b) => a - b;\n',
    );
    fs.writeFileSync(path.join(project, 'src/extra.js'), 'export const one = 1;\nexport const two = 2;\n');
    sshd = await startSshd({
      keys: ['main', 'restricted'],
      authorized: (k) => [k.main.pub, `restrict,command="${process.execPath} ${CLI} remote-shell --root ${h.root}" ${k.restricted.pub}`],
    });
    env = {
      RELAY_SSH: sshd.relaySsh,
      RELAY_REMOTE_BIN: `${process.execPath} ${CLI}`,
      RELAY_SESSION_HOST: 'devbox-7',
      XDG_RUNTIME_DIR: sshd.dir,
      DEVBOX_DEPLOY_TOKEN: DEVBOX_SECRET,
    };
    fs.appendFileSync(h.paths.env, `\nANTHROPIC_API_KEY=${RELAY_KEY}\n`);
    await h.startRelay();
    expect((await h.cli(['say', '/pause'])).exitCode).toBe(0);
    await h.waitStatus((s) => s.state === 'paused');
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await sshd?.stop();
    if (sessionDir) fs.rmSync(sessionDir, { recursive: true, force: true });
  });

  const cli = (args: string[], o: { input?: string; env?: Record<string, string> } = {}) =>
    h.cli(args, { input: o.input, env: { ...env, ...o.env } });
  const restricted = () => ({ ...env, RELAY_SSH: `ssh -F ${sshd.sshConfig} -o ControlPath=none` });
  const envelopes = (): Array<Envelope & { name: string }> =>
    fs
      .readdirSync(h.paths.queue)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => ({ name: n, ...envelopeSchema.parse(JSON.parse(fs.readFileSync(path.join(h.paths.queue, n), 'utf8'))) }));
  /** A request as a hostile session machine would make it: plain ssh with the restricted key, no relay-tui client. */
  const rawSsh = (command: string, stdin: 'ignore' | 'pipe') =>
    execa('ssh', ['-F', sshd.sshConfig, '-o', 'BatchMode=yes', '-o', 'ControlPath=none', 'relayhost-restricted', command], {
      reject: false,
      stdin,
    });
  const raw = (name: string) => fs.readFileSync(path.join(h.paths.queue, name), 'utf8');
  const newEnvelope = (before: number) => {
    const all = envelopes();
    expect(all).toHaveLength(before + 1);
    return all.at(-1)!;
  };
  /** A turn of the session on "devbox-7", as its Stop hook's JSON. */
  const turn = (name: string) =>
    writeTurnTranscript(fs.mkdtempSync(path.join(sessionDir, `${name}-`)), {
      cwd: project,
      command: `curl -d ${DEVBOX_SECRET} http://127.0.0.1:9/deploy ${RELAY_KEY}`,
      plantedInBlob: 'PLANTEDin-the-request-blob',
    });
  const stopHook = (target: string, session: string, o: { env?: Record<string, string> } = {}) =>
    cli(['hook', 'stop', '--remote', target, '--session', session, '--timeout', '2'], {
      input: JSON.stringify(turn(session).stopInput),
      env: o.env,
    });

  it("a remote Stop hook's envelope in the far queue/ carries the digest built on the session's machine", async () => {
    const before = envelopes().length;
    const r = await stopHook(`relayhost:${h.root}`, 'session-1');
    expect(r.exitCode).toBe(0);
    // The relay is paused: no review within the window, and the hook lets Claude Code stop.
    expect(JSON.parse(r.stdout).systemMessage).toMatch(/no review within 2 s/);
    const e = newEnvelope(before);
    expect(e).toMatchObject({ session_id: 'session-1', content: 'All tests pass. Awaiting review.', host: 'devbox-7' });
    // Neither this machine's secret, nor the relay's key, nor anything of the request blob.
    expect(raw(e.name)).not.toMatch(/PLANTED/);
    const ev = e.evidence!;
    expect(ev.from).toBe('transcript');
    expect(ev.files).toEqual([
      { path: 'src/extra.js', action: 'created', added: 2 },
      { path: 'src/calc.js', action: 'edited', added: 2, removed: 1 },
    ]);
    expect(ev.commands).toEqual([
      expect.objectContaining({ command: 'npm test', exit: 1, tests: { failed: 2, passed: 5 } }),
      { command: 'curl -d [redacted] http://127.0.0.1:9/deploy [redacted]', exit: 0 },
    ]);
    expect(ev.commands?.[0].tail?.at(-1)).toBe('Tests: 2 failed, 5 passed, 7 total');
    // git diff --stat of the work tree on the session's machine (the far side has no such tree).
    expect(ev.diff_stat?.join('\n')).toMatch(/src\/calc\.js \| 3 \+\+-/);
    expect(ev.notes ?? []).toEqual([]);
    expect(summarizeEvidence(ev)).toBe('⚙ 2 files · npm test ✗ 2 failed');
  }, 60_000);

  it('the far config decides: its hooks.evidence_max_bytes fits the digest, and hooks.evidence: off drops it (through the restricted key)', async () => {
    const config = fs.readFileSync(h.paths.config, 'utf8');
    try {
      fs.writeFileSync(h.paths.config, config.replace(/evidence_max_bytes: \d+/, 'evidence_max_bytes: 300'));
      const before = envelopes().length;
      expect((await stopHook('relayhost-restricted', 'session-2', { env: restricted() })).exitCode).toBe(0);
      const cut = newEnvelope(before).evidence!;
      expect(cut.notes?.at(-1)).toMatch(/^cut to hooks\.evidence_max_bytes \(300\): left out /);

      fs.writeFileSync(h.paths.config, config.replace(/evidence: digest/, 'evidence: "off"'));
      expect((await stopHook('relayhost-restricted', 'session-2', { env: restricted() })).exitCode).toBe(0);
      const off = newEnvelope(before + 1);
      expect(off.content).toBe('All tests pass. Awaiting review.');
      expect(off.evidence).toBeUndefined();
    } finally {
      fs.writeFileSync(h.paths.config, config);
    }
  }, 60_000);

  it('send --remote --evidence FILE lands the evidence in the far envelope, with the text from an argument or stdin', async () => {
    const json = path.join(sessionDir, 'evidence.json');
    fs.writeFileSync(json, JSON.stringify({ commands: [{ command: 'go test ./...', exit: 1, tests: { failed: 1, passed: 8 } }] }));
    const before = envelopes().length;
    const sent = await cli(['send', '--remote', `relayhost:${h.root}`, '--session', 'session-1', '--evidence', json, 'Go tests done.']);
    expect(sent.stderr).toBe('');
    expect(sent.exitCode).toBe(0);
    const e = newEnvelope(before);
    expect(sent.stdout.trim()).toBe(`queue/${e.name}`);
    expect(e).toMatchObject({ session_id: 'session-1', content: 'Go tests done.', host: 'devbox-7' });
    expect(e.evidence).toEqual({ from: 'file', commands: [{ command: 'go test ./...', exit: 1, tests: { failed: 1, passed: 8 } }] });

    // Plain text, the message from stdin, through the restricted key: both framed on one stdin.
    const notes = path.join(sessionDir, 'evidence.txt');
    fs.writeFileSync(notes, `make check: 3 failed\nDEPLOY_TOKEN=PLANTEDdeploy ./ship ${DEVBOX_SECRET}\n`);
    const piped = await cli(['send', '--remote', 'relayhost-restricted', '--session', 'session-2', '--evidence', notes, '-'], {
      input: 'From stdin,\nsecond line.\n',
      env: restricted(),
    });
    expect(piped.stderr).toBe('');
    expect(piped.exitCode).toBe(0);
    const p = newEnvelope(before + 1);
    expect(raw(p.name)).not.toMatch(/PLANTED/);
    expect(p.content).toBe('From stdin,\nsecond line.\n');
    expect(p.evidence).toMatchObject({ from: 'file', text: expect.stringContaining('make check: 3 failed') });
  }, 60_000);

  it('a bad evidence file is refused here with the local words, and nothing reaches the far queue', async () => {
    const d = fs.mkdtempSync(path.join(sessionDir, 'bad-'));
    await execa('mkfifo', [path.join(d, 'fifo')]);
    fs.writeFileSync(path.join(d, 'real.txt'), 'x');
    fs.symlinkSync(path.join(d, 'real.txt'), path.join(d, 'link'));
    const before = envelopes().length;
    for (const name of ['fifo', 'link', 'missing']) {
      const file = path.join(d, name);
      // The reference: the same file given to a local send.
      const local = await h.cli(['send', '--session', 'session-1', '--root', h.root, '--evidence', file, 'x']);
      const remote = await cli(['send', '--remote', `relayhost:${h.root}`, '--session', 'session-1', '--evidence', file, 'x']);
      expect(remote.exitCode).toBe(2);
      expect(remote.stderr).toBe(local.stderr);
      expect(remote.stderr).toMatch(new RegExp(`^relay-tui: --evidence: .*${name}`));
    }
    expect(envelopes()).toHaveLength(before);

    // JSON of another shape: sent as text, with the local send's warning naming the key.
    const other = path.join(d, 'other.json');
    fs.writeFileSync(other, JSON.stringify({ commands: [{ command: 'make', exit: 'two' }] }));
    const remote = await cli(['send', '--remote', `relayhost:${h.root}`, '--session', 'session-1', '--evidence', other, 'x']);
    expect(remote.exitCode).toBe(0);
    expect(remote.stderr).toMatch(
      new RegExp(
        `^relay-tui send: --evidence ${other}: it is JSON but not the evidence shape \\(commands\\.0\\.exit: .*\\); sent as plain text\\n?$`,
      ),
    );
    const local = await h.cli(['send', '--session', 'session-1', '--root', h.root, '--evidence', other, 'x']);
    expect(remote.stderr).toBe(local.stderr);
    expect(envelopes().at(-1)!.evidence?.text).toContain('"exit":"two"');

    // The restricted key itself never reads a file on the relay's host for --evidence.
    const ssh = await rawSsh('relay-tui send --session s1 --evidence /etc/hostname x', 'ignore');
    expect(ssh.exitCode).toBe(2);
    expect(String(ssh.stderr).trim()).toMatch(/^relay-tui remote-shell: refused: send: --evidence takes only - here/);
  }, 60_000);

  it("a Stop JSON naming a file on the relay's host gets nothing from it through the restricted key (its path is the session machine's)", async () => {
    // A transcript-shaped file of the operator's own, on the relay's host.
    const theirs = path.join(h.root, 'operator-transcript.jsonl');
    fs.writeFileSync(
      theirs,
      JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'OPERATOR-PRIVATE-PLANTED' }] } }) +
        '\n',
    );
    const before = envelopes().length;
    const ssh = rawSsh('relay-tui remote-guard hook stop --session session-2 --timeout 1', 'pipe');
    ssh.stdin!.write(frame(JSON.stringify({ hook_event_name: 'Stop', last_assistant_message: '', transcript_path: theirs })));
    const done = await ssh;
    expect(done.exitCode).toBe(0);
    expect(String(done.stdout)).not.toContain('OPERATOR-PRIVATE');
    // Nothing of it was queued for chat-Claude (the hook had no message of the session's own to send).
    const fresh = envelopes().slice(before);
    expect(JSON.stringify(fresh)).not.toContain('OPERATOR-PRIVATE');
  }, 60_000);

  it("resumed, the relay takes them all, and chat-Claude's request carries the remote turn's digest beside its claim", async () => {
    expect((await h.cli(['say', '/resume'])).exitCode).toBe(0);
    await h.waitStatus((s) => s.queue_depth === 0 && s.state !== 'paused', 60_000);
    expect(h.status()?.rejected_count).toBe(0);
    const review = h.api.requests.find((r) => r.lastUserText.includes('All tests pass. Awaiting review.'));
    expect(review).toBeDefined();
    expect(review!.lastUserText).toMatch(/<evidence source="transcript">[\s\S]*exit 1: npm test \[tests: 2 failed, 5 passed\]/);
    expect(review!.lastUserText).not.toMatch(/PLANTED/);
    expect(h.api.requests.some((r) => /<evidence source="file">[\s\S]*exit 1: go test/.test(r.lastUserText))).toBe(true);
  }, 90_000);
});
