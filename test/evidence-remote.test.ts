import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { evidenceBytes } from '../src/commands/hook/evidence/fit.js';
import { InputError } from '../src/fs/confine.js';
import { EVIDENCE_FIELD, farEvidence, readSendFrames, sendFrames, withSessionEvidence } from '../src/commands/remote/evidence.js';
import { frame } from '../src/commands/remote/guard.js';
import { remoteEntry } from '../src/commands/remote/remote.js';
import { allowRequest, Refused } from '../src/commands/remote/shell.js';
import { EVIDENCE_LIMIT_BYTES, evidenceSchema, type Evidence } from '../src/protocol/evidence.js';
import { writeTurnTranscript } from './helpers/cc-transcript.js';

/**
 * Evidence for a session on another machine (src/commands/remote/evidence.ts): the client half
 * of a remote Stop hook builds the digest where the transcript is and carries it in the Stop
 * JSON; the far hook takes it only through the schema; `send --remote --evidence` frames the
 * text and the evidence on stdin, which the restricted key admits as `--evidence -` alone.
 * Over a real sshd: test/e2e/ssh-evidence.test.ts.
 */

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'relay-ev-remote-')));
  dirs.push(d);
  return d;
}

const DEVBOX_SECRET = 'devbox-only-PLANTED-deploy-value';
const RELAY_KEY = 'relay-own-PLANTED-literal-key';

describe('the client half of a remote Stop hook', () => {
  it("adds this turn's digest, built from the transcript here, with this machine's secrets redacted", async () => {
    const d = tmp();
    const t = writeTurnTranscript(d, { cwd: d, command: `curl -d ${DEVBOX_SECRET} http://127.0.0.1:9/hook`, plantedInBlob: 'PLANTEDblob' });
    const out = JSON.parse(await withSessionEvidence(JSON.stringify(t.stopInput), { DEVBOX_DEPLOY_TOKEN: DEVBOX_SECRET }));
    // What Claude Code sent passes unchanged beside it.
    expect(out).toMatchObject(t.stopInput);
    const e = evidenceSchema.parse(out[EVIDENCE_FIELD]);
    expect(e.from).toBe('transcript');
    expect(e.files).toEqual([
      { path: 'src/extra.js', action: 'created', added: 2 },
      { path: 'src/calc.js', action: 'edited', added: 2, removed: 1 },
    ]);
    expect(e.commands?.[0]).toMatchObject({ command: 'npm test', exit: 1, tests: { failed: 2, passed: 5 } });
    expect(e.commands?.[1]).toEqual({ command: 'curl -d [redacted] http://127.0.0.1:9/hook', exit: 0 });
    expect(JSON.stringify(out)).not.toMatch(/PLANTED/);
    expect(e.notes ?? []).toEqual([]);
  });

  it("fills in the turn's last message from the transcript here when Claude Code left it out: the far hook never opens that path", async () => {
    const d = tmp();
    const t = writeTurnTranscript(d, { cwd: d, command: 'npm test' });
    const { last_assistant_message: said, ...without } = t.stopInput;
    const out = JSON.parse(await withSessionEvidence(JSON.stringify({ ...without, last_assistant_message: '' }), {}));
    expect(said).toEqual(expect.any(String));
    expect(out.last_assistant_message).toBe(said);
  });

  it('passes what is not a Stop event untouched, and says in the digest what it could not read', async () => {
    expect(await withSessionEvidence('not json', {})).toBe('not json');
    const notify = JSON.stringify({ hook_event_name: 'Notification', message: 'x' });
    expect(await withSessionEvidence(notify, {})).toBe(notify);
    const gone = JSON.parse(
      await withSessionEvidence(
        JSON.stringify({ hook_event_name: 'Stop', transcript_path: '/nonexistent/t.jsonl', last_assistant_message: 'x' }),
        {},
      ),
    );
    expect(gone[EVIDENCE_FIELD].notes.join('\n')).toMatch(/no transcript at \/nonexistent\/t\.jsonl/);
  });
});

describe('the far half of a remote Stop hook', () => {
  const digest: Evidence = {
    from: 'transcript',
    commands: [
      { command: `deploy --to 127.0.0.1 ${RELAY_KEY}`, exit: 0 },
      { command: 'npm test', exit: 1, tests: { failed: 2, passed: 5 }, tail: ['FAIL a', 'FAIL b', 'Tests: 2 failed, 5 passed'] },
    ],
    files: Array.from({ length: 40 }, (_, i) => ({ path: `src/module-${i}/index.ts`, action: 'edited' as const, added: i, removed: 1 })),
  };

  it("takes the session machine's digest through the schema, redacts the relay's key, fits it to this relay's bound", async () => {
    const e = await farEvidence({ hook_event_name: 'Stop', [EVIDENCE_FIELD]: digest }, 512, [RELAY_KEY]);
    expect(JSON.stringify(e)).not.toContain(RELAY_KEY);
    expect(evidenceBytes(e)).toBeLessThanOrEqual(512);
    expect(e.notes?.at(-1)).toMatch(/^cut to hooks\.evidence_max_bytes \(512\): left out \d+ file\(s\)/);
    // The last test run is what goes last.
    expect(e.commands?.at(-1)).toMatchObject({ command: 'npm test', exit: 1 });
    const whole = await farEvidence({ [EVIDENCE_FIELD]: digest }, 32_768, [RELAY_KEY]);
    expect(whole.files).toHaveLength(40);
    expect(whole.commands?.[0].command).toBe('deploy --to 127.0.0.1 [redacted]');
  });

  it('without one, says the transcript stayed there; a bad or oversized one is a note naming what was wrong', async () => {
    expect(await farEvidence({ hook_event_name: 'Stop' }, 2048, [])).toEqual({
      from: 'transcript',
      notes: ["the hook ran on the relay's host (--remote): the session's transcript stays on its machine"],
    });
    const bad = await farEvidence({ [EVIDENCE_FIELD]: { commands: [{ command: 'make', exit: 'two' }] } }, 2048, []);
    expect(bad.notes).toEqual([expect.stringMatching(/^the digest from the session's machine was left out: commands\.0\.exit: /)]);
    expect(bad.commands).toBeUndefined();
    const extra = await farEvidence({ [EVIDENCE_FIELD]: { from: 'transcript', contents: 'a whole file' } }, 2048, []);
    expect(extra.notes?.[0]).toMatch(/left out: top level: .*contents/);
    const huge = await farEvidence({ [EVIDENCE_FIELD]: { text: 'x'.repeat(EVIDENCE_LIMIT_BYTES) } }, 2048, []);
    expect(huge.notes?.[0]).toMatch(new RegExp(`left out: top level: must be at most ${EVIDENCE_LIMIT_BYTES} bytes as JSON`));
    expect(JSON.stringify(huge).length).toBeLessThan(400);
    expect((await farEvidence({ [EVIDENCE_FIELD]: 'a string' }, 2048, [])).notes?.[0]).toMatch(/left out: top level: /);
  });
});

describe('send --remote --evidence: the framed stdin', () => {
  const ev: Evidence = { from: 'file', commands: [{ command: 'go test ./...', exit: 1 }] };

  it('carries the text and the evidence, in bytes, and is read back whole', () => {
    const text = 'Go tests: ünïcode\nsecond line\n';
    const buf = Buffer.from(sendFrames(text, ev));
    expect(readSendFrames(buf)).toEqual({ text, evidence: JSON.stringify(ev) });
  });

  it('refuses anything else, naming what is wrong', () => {
    const refused: Array<[string, RegExp]> = [
      ['', /ended before both frames/],
      [frame('text only'), /ended before both frames/],
      [sendFrames('x', ev) + 'more', /4 bytes after the evidence/],
      [frame('x') + frame('{not json'), /the evidence frame is not JSON/],
      [frame('x') + frame('{"commands":[{"exit":1}]}'), /not the evidence shape: commands\.0\.command: /],
      ['plain text sent to send --evidence -', /no frame header/],
    ];
    for (const [stdin, why] of refused) {
      expect(() => readSendFrames(Buffer.from(stdin)), stdin).toThrow(InputError);
      expect(() => readSendFrames(Buffer.from(stdin)), stdin).toThrow(why);
    }
  });

  it('the restricted key admits --evidence for send, only as -, and for nothing else', () => {
    const root = '/srv/relay';
    expect(allowRequest('env RELAY_REMOTE= RELAY_SESSION_HOST=devbox relay-tui send --session s1 --evidence -', root, '/h')).toEqual({
      argv: ['send', '--session', 's1', '--evidence', '-', '--root', root],
      env: { RELAY_REMOTE: '', RELAY_SESSION_HOST: 'devbox' },
    });
    const refused: Array<[string, RegExp]> = [
      // A file on the relay's host would be read into the envelope and sent to chat-Claude.
      ['relay-tui send --session s1 --evidence /etc/shadow', /--evidence takes only - here/],
      ['relay-tui send --session s1 --evidence=~/.ssh/id_ed25519 x', /--evidence takes only - here/],
      ['relay-tui send --session s1 --evidence', /argument missing/],
      ['relay-tui recv --session s1 --evidence -', /Unknown option '--evidence'/],
      ['relay-tui hook stop --session s1 --evidence -', /Unknown option '--evidence'/],
      ['relay-tui remote-guard hook stop --session s1 --evidence -', /Unknown option '--evidence'/],
      ['relay-tui status --evidence -', /Unknown option '--evidence'/],
    ];
    for (const [cmd, why] of refused) {
      expect(() => allowRequest(cmd, root, '/h'), cmd).toThrow(Refused);
      expect(() => allowRequest(cmd, root, '/h'), cmd).toThrow(why);
    }
  });

  it('the client refuses a bad file here with the local words, before any ssh; --evidence is for send only', async () => {
    const d = tmp();
    const fifo = path.join(d, 'fifo');
    execFileSync('mkfifo', [fifo]);
    fs.writeFileSync(path.join(d, 'real.txt'), 'x');
    fs.symlinkSync(path.join(d, 'real.txt'), path.join(d, 'link'));
    let err = '';
    const io = { err: (s: string) => (err += s), out: () => {} };
    // relayhost-down resolves nowhere: a call that got as far as ssh would fail differently.
    for (const [name, what] of [
      ['fifo', 'is a FIFO'],
      ['link', 'is a symlink'],
      ['missing', 'no such file'],
    ]) {
      const file = path.join(d, name);
      const e = await remoteEntry(
        ['send', '--remote', 'nohost.invalid:/srv/relay', '--session', 's1', '--evidence', file, 'x'],
        {},
        io,
      ).catch((x: unknown) => x);
      // The same InputError a local send throws: main prints it as "relay-tui: --evidence: ..." with exit 2.
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toContain(`--evidence: ${file}`);
      expect((e as Error).message).toContain(what);
    }
    expect(err).toBe('');
    const recv = await remoteEntry(['recv', '--remote', 'ws', '--session', 's1', '--evidence', fifo], {}, io);
    expect(recv).toBe(2);
    expect(err).toBe('relay-tui: --evidence is for send\n');
  });
});
