import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, sshdUnavailable, type Sshd } from '../../bench/sshd.js';
import { ensureLayout, rootPaths } from '../../src/protocol/root.js';
import { CLI, createHarness, waitFor, type Harness } from '../helpers/harness.js';

/**
 * Remote sessions over a real OpenSSH server on 127.0.0.1 (a throwaway host key and
 * client keys, no passwords) and the real ssh client, configured through RELAY_SSH
 * as a user would. The "far side" is this checkout's built CLI (RELAY_REMOTE_BIN).
 * The relay is a real `relay-tui --no-ui` against the fake Messages API.
 */

const missing = sshdUnavailable();
const inCi = process.env.CI === 'true' || process.env.RELAY_REQUIRE_SSHD === '1';
if (missing && !inCi) process.stderr.write(`test/e2e/ssh.test.ts: skipped: ${missing}\n`);

describe.runIf(missing && inCi)('ssh in CI', () => {
  it('has an OpenSSH server to test against', () => {
    throw new Error(`${missing}: .ci/run installs it (openssh-server); the SSH tests must run in CI`);
  });
});

describe.skipIf(!!missing)('remote sessions over ssh', () => {
  let sshd: Sshd;
  let h: Harness;
  /** A relay root with no relay running (its config only), where envelopes stay for inspection. */
  let idleRoot: string;
  let project: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    h.writeConfig({});
    idleRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-ssh-idle-'));
    fs.copyFileSync(h.paths.config, path.join(idleRoot, 'config.yaml'));
    // A relay root whose relay is not running (it ran once: state/ exists), not a bare folder.
    ensureLayout(rootPaths(idleRoot));
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-ssh-project-'));
    sshd = await startSshd({
      keys: ['main', 'restricted', 'unrooted', 'other'],
      // "other" is nowhere in authorized_keys: the wrong key.
      authorized: (k) => [
        k.main.pub,
        `restrict,command="${process.execPath} ${CLI} remote-shell --root ${idleRoot}" ${k.restricted.pub}`,
        `restrict,command="${process.execPath} ${CLI} remote-shell --root ${idleRoot}/nope" ${k.unrooted.pub}`,
      ],
    });
    env = {
      RELAY_SSH: sshd.relaySsh,
      RELAY_REMOTE_BIN: `${process.execPath} ${CLI}`,
      RELAY_SESSION_HOST: 'devbox-7',
      // Where the default control sockets would go: inside the temp dir, not ~/.ssh.
      XDG_RUNTIME_DIR: sshd.dir,
    };
    await h.startRelay();
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await sshd?.stop();
    for (const d of [idleRoot, project]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  const cli = (args: string[], o: { input?: string; env?: Record<string, string> } = {}) =>
    h.cli(args, { input: o.input, env: { ...env, ...o.env } });
  // The same server under another alias would reuse the main key's shared connection (%C ignores the alias).
  const withoutSharing = () => ({ ...env, RELAY_SSH: `ssh -F ${sshd.sshConfig} -o ControlPath=none` });
  const stopInput = (message: string) =>
    JSON.stringify({
      session_id: '8f1c2d3e-0000-4a5b-9c8d-123456789abc',
      transcript_path: '/nonexistent/transcript.jsonl',
      cwd: '/home/jc/api-refactor',
      permission_mode: 'default',
      hook_event_name: 'Stop',
      stop_hook_active: false,
      last_assistant_message: message,
    });
  const oneLine = (s: string) => {
    const lines = s.trim().split('\n');
    expect(lines, s).toHaveLength(1);
    return lines[0];
  };
  const queued = (root: string) => fs.readdirSync(path.join(root, 'queue')).filter((n) => n.endsWith('.json'));

  it('send and recv make a round trip through the relay on the far host', async () => {
    const sent = await cli([
      'send',
      '--remote',
      `relayhost:${h.root}`,
      '--session',
      'session-1',
      "Schema migrated; it's done & 3 tables changed.",
    ]);
    expect(sent.stderr).toBe('');
    expect(sent.exitCode).toBe(0);
    expect(sent.stdout).toMatch(/^queue\/\d+-session-1-[0-9a-f]+\.json$/);
    const got = await cli(['recv', '--remote', `relayhost:${h.root}`, '--session', 'session-1', '--wait', '--timeout', '30']);
    expect(got.exitCode).toBe(0);
    expect(got.stdout).toBe("Reviewed session-1's update (#1). Carry on with the next step.");
    // The text crossed two shells unharmed, and the reply was consumed over there.
    expect(h.api.requests[0].lastUserText).toContain("Schema migrated; it's done & 3 tables changed.");
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
    // Nothing more waiting: recv's own "none" result (exit 1) comes back as it is.
    const none = await cli(['recv', '--remote', `relayhost:${h.root}`, '--session', 'session-1']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toBe('no reply waiting for session-1');
  }, 60_000);

  it('status and say work over ssh, and RELAY_REMOTE stands for --remote', async () => {
    const st = await cli(['status', '--json'], { env: { RELAY_REMOTE: `relayhost:${h.root}` } });
    expect(st.exitCode).toBe(0);
    const s = JSON.parse(st.stdout);
    expect(s.running).toBe(true);
    expect(s.pid).toBe(h.relay!.pid);
    const said = await cli(['say', '--remote', `relayhost:${h.root}`, '/pause']);
    expect(said.exitCode).toBe(0);
    expect(said.stdout).toMatch(/^sent to the relay \(pid \d+\)/);
    await h.waitStatus((x) => x.state === 'paused');
    await cli(['say', '--remote', `relayhost:${h.root}`, '/resume']);
    await h.waitStatus((x) => x.state === 'running');
  }, 60_000);

  it('the Stop hook over ssh sends the turn and returns the reply as a block decision', async () => {
    const r = await cli(['hook', 'stop', '--remote', `relayhost:${h.root}`, '--session', 'session-2'], {
      input: stopInput('Refactor done; 42 tests pass. Awaiting review.'),
    });
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(oneLine(r.stdout));
    // The hook's own framing around the reviewer's reply (src/commands/hook/text.ts), and a line for the user.
    expect(out).toEqual({
      decision: 'block',
      reason: expect.stringMatching(
        /<reviewer-reply>\nReviewed session-2's update \(#\d+\)\. Carry on with the next step\.\n<\/reviewer-reply>$/,
      ),
      systemMessage: expect.stringMatching(/^relay-tui: /),
    });
    expect(h.api.requests.at(-1)!.lastUserText).toContain('Refactor done; 42 tests pass.');
    // The same words on stderr (Claude Code's debug view) as in systemMessage (its TUI).
    expect(oneLine(r.stderr)).toBe(`relay-tui hook: ${out.systemMessage.replace(/^relay-tui: /, '')}`);
  }, 60_000);

  it('a remote Stop hook killed while it waits ends its far side too, and the reply stays in dispatch/', async () => {
    await cli(['say', '--remote', `relayhost:${h.root}`, '/pause']);
    await h.waitStatus((x) => x.state === 'paused');
    const before = queued(h.root).length;
    const hook = execa('node', [CLI, 'hook', 'stop', '--remote', `relayhost:${h.root}`, '--session', 'session-1'], {
      env: { ...h.env, ...env },
      input: stopInput('Waiting while paused.'),
      reject: false,
    });
    // The far hook has enqueued its turn: it is now waiting for the reply.
    await waitFor(
      () => (queued(h.root).length > before ? true : undefined),
      h.paths.queue,
      30_000,
      () => 'the far hook to enqueue',
    );
    const farHooks = () =>
      fs
        .readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
            return cmd.includes('hook\0stop\0--session\0session-1\0') && cmd.includes(`--root\0${h.root}`) && !cmd.includes('--remote');
          } catch {
            return false;
          }
        });
    expect(farHooks().length).toBeGreaterThan(0);
    hook.kill('SIGTERM');
    const r = await hook;
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toBe('');
    expect(oneLine(String(r.stderr))).toMatch(/^relay-tui hook: interrupted; the far hook on relayhost:.* stops too/);
    await waitFor(
      () => (farHooks().length === 0 ? true : undefined),
      h.paths.queue,
      30_000,
      () => `far hooks still running: ${farHooks()}`,
    );
    // Resumed, the relay answers the turn; no one consumes it: it waits for the session's next turn.
    await cli(['say', '--remote', `relayhost:${h.root}`, '/resume']);
    expect(await h.waitFile(h.input('session-1'), 30_000)).toMatch(/Reviewed session-1's update/);
    await h.waitStatus((x) => x.sessions['session-1']?.awaiting_ack === true);
    expect(fs.existsSync(h.input('session-1'))).toBe(true);
    fs.rmSync(h.input('session-1'));
  }, 90_000);

  it('hook install --remote writes hooks that reach the relay over ssh as installed', async () => {
    const inst = await cli(['hook', 'install', '--remote', `relayhost:${h.root}`, '--session', 'session-2', '--project', project]);
    expect(inst.exitCode).toBe(0);
    expect(inst.stderr).toBe('');
    const settings = JSON.parse(fs.readFileSync(path.join(project, '.claude', 'settings.json'), 'utf8'));
    const stop = settings.hooks.Stop[0].hooks[0];
    expect(stop.command).toContain(`hook stop --session session-2 --remote relayhost:${h.root}`);
    // Claude Code runs the command through a shell, with an environment of its own.
    const r = await execa('sh', ['-c', stop.command], {
      input: stopInput('Installed hook speaking.'),
      reject: false,
      env: { PATH: process.env.PATH!, HOME: sshd.dir },
      extendEnv: false,
    });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(oneLine(String(r.stdout))).decision).toBe('block');
    expect(h.api.requests.at(-1)!.lastUserText).toContain('Installed hook speaking.');
    // Installing again changes nothing.
    const again = await cli(['hook', 'install', '--remote', `relayhost:${h.root}`, '--session', 'session-2', '--project', project]);
    expect(again.stdout).toMatch(/already installed; nothing changed/);
  }, 60_000);

  it('relay down: the hook exits 0 at once with one systemMessage and no decision; send still queues, stamped with the host', async () => {
    const r = await cli(['hook', 'stop', '--remote', `relayhost:${idleRoot}`, '--session', 'session-1'], {
      input: stopInput('Anyone there?'),
    });
    expect(r.exitCode).toBe(0);
    // Claude Code shows systemMessage to the user; with no decision it lets the session stop.
    expect(JSON.parse(oneLine(r.stdout))).toEqual({ systemMessage: expect.stringMatching(/^relay-tui: no relay is running on /) });
    const sent = await cli(['send', '--remote', `relayhost:${idleRoot}`, '--session', 'session-1', '-'], {
      input: 'from stdin\nsecond line\n',
    });
    expect(sent.exitCode).toBe(0);
    const name = sent.stdout.trim().replace(/^queue\//, '');
    const env = JSON.parse(fs.readFileSync(path.join(idleRoot, 'queue', name), 'utf8'));
    expect(env).toMatchObject({ session_id: 'session-1', content: 'from stdin\nsecond line\n', host: 'devbox-7' });
  }, 60_000);

  it("host down: one line naming the host, the hook at exit 0, send at ssh's 255", async () => {
    const hook = await cli(['hook', 'stop', '--remote', `relayhost-down:${h.root}`, '--session', 'session-1'], { input: stopInput('x') });
    expect(hook.exitCode).toBe(0);
    expect(hook.stdout).toBe('');
    expect(oneLine(hook.stderr)).toMatch(
      /^relay-tui hook: cannot reach relayhost-down over ssh: connection refused .*this turn is not relayed\)$/,
    );
    const send = await cli(['send', '--remote', `relayhost-down:${h.root}`, '--session', 'session-1', 'x']);
    expect(send.exitCode).toBe(255);
    expect(oneLine(send.stderr)).toMatch(/^relay-tui: cannot reach relayhost-down over ssh: connection refused/);
  }, 60_000);

  it('wrong key: auth refused, in one line, without a password prompt', async () => {
    const hook = await h.cli(['hook', 'stop', '--remote', `relayhost-other:${h.root}`, '--session', 'session-1'], {
      input: stopInput('x'),
      env: withoutSharing(),
    });
    expect(hook.exitCode).toBe(0);
    expect(hook.stdout).toBe('');
    expect(oneLine(hook.stderr)).toMatch(
      /^relay-tui hook: relayhost-other refused the ssh login \(Permission denied \(publickey\)\.\): this machine's key is not in authorized_keys/,
    );
    const status = await h.cli(['status', '--remote', `relayhost-other:${h.root}`], { env: withoutSharing() });
    expect(status.exitCode).toBe(255);
    expect(oneLine(status.stderr)).toMatch(/refused the ssh login/);
  }, 60_000);

  it('relay-tui missing on the far side: said so, exit 127 (0 for a hook)', async () => {
    const r = await cli(['status', '--remote', `relayhost:${h.root}`], { env: { RELAY_REMOTE_BIN: '/nonexistent/bin/relay-tui' } });
    expect(r.exitCode).toBe(127);
    expect(oneLine(r.stderr)).toMatch(
      /^relay-tui: relay-tui is not installed on relayhost \(.*No such file or directory\); install it there, or set RELAY_REMOTE_BIN/,
    );
    const hook = await cli(['hook', 'notify', '--remote', `relayhost:${h.root}`, '--session', 'session-1'], {
      input: '{"message":"x"}',
      env: { RELAY_REMOTE_BIN: 'relay-tui-not-here' },
    });
    expect(hook.exitCode).toBe(0);
    expect(oneLine(hook.stderr)).toMatch(/not installed on relayhost/);
  }, 60_000);

  it('checkRemote (for doctor) reports a working set-up and a broken one line by line', async () => {
    const { checkRemote } = await import('../../src/commands/remote/check.js');
    const good = await checkRemote(`relayhost:${h.root}`, { ...process.env, ...env });
    expect(good.map((l) => l.level)).toEqual(['ok', 'ok', 'ok']);
    expect(good[0].message).toMatch(/^ssh reaches relayhost with no prompt \(\d+ ms\); relay-tui 0\.\d+\.\d+ there$/);
    expect(good[1].message).toBe(`relay running on relayhost:${h.root} (pid ${h.relay!.pid}, running)`);
    expect(good[2].message).toMatch(/connection sharing as RELAY_SSH sets it/);
    const idle = await checkRemote(`relayhost:${idleRoot}`, { ...process.env, ...env });
    expect(idle[1]).toMatchObject({ level: 'warn', fix: `start it there: relay-tui --no-ui --root ${idleRoot}` });
    const down = await checkRemote('relayhost-down', { ...process.env, ...env });
    expect(down).toEqual([
      {
        level: 'fail',
        message: expect.stringMatching(/^cannot reach relayhost-down over ssh: connection refused/),
        fix: expect.stringMatching(/sshd runs there/),
      },
    ]);
  }, 60_000);

  describe('a command=-restricted key', () => {
    const ssh = (host: string, cmd: string[]) =>
      execa('ssh', ['-F', sshd.sshConfig, '-o', 'BatchMode=yes', '-o', 'ControlPath=none', host, ...cmd], {
        reject: false,
        stdin: 'ignore',
      });

    it('refuses `ssh host id` and an interactive shell', async () => {
      const id = await ssh('relayhost-restricted', ['id']);
      expect(id.exitCode).toBe(2);
      expect(String(id.stdout)).toBe('');
      expect(oneLine(String(id.stderr))).toMatch(/^relay-tui remote-shell: refused: not a relay-tui command: "id"/);
      const shell = await ssh('relayhost-restricted', []);
      expect(shell.exitCode).toBe(2);
      expect(String(shell.stdout)).not.toMatch(/uid=|\$ /);
      expect(String(shell.stderr)).toMatch(/refused: this key runs only relay-tui's session commands .* no shell/);
      const sneaky = await ssh('relayhost-restricted', ['relay-tui status --root / ; id']);
      expect(String(sneaky.stdout)).toBe('');
      expect(String(sneaky.stderr)).toMatch(/refused: .*shell syntax/);
    }, 60_000);

    it('runs the session commands on its own root, and refuses another root and other commands', async () => {
      const e = withoutSharing();
      const sent = await h.cli(['send', '--remote', `relayhost-restricted:${idleRoot}`, '--session', 'session-2', 'through the wrapper'], {
        env: e,
      });
      expect(sent.stderr).toBe('');
      expect(sent.exitCode).toBe(0);
      const file = path.join(idleRoot, sent.stdout.trim());
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({
        session_id: 'session-2',
        content: 'through the wrapper',
        host: 'devbox-7',
      });
      // With no root given, the key's own root is used.
      const st = await h.cli(['status', '--json', '--remote', 'relayhost-restricted'], { env: e });
      expect(JSON.parse(st.stdout).running).toBe(false);
      const other = await h.cli(['send', '--remote', `relayhost-restricted:${h.root}`, '--session', 'session-2', 'x'], { env: e });
      expect(other.exitCode).toBe(2);
      expect(oneLine(other.stderr)).toMatch(/refused: this key may use only the relay root/);
      expect(queued(h.root).length).toBe(0);
      const unrooted = await h.cli(['send', '--remote', 'relayhost-unrooted', '--session', 'session-2', 'x'], { env: e });
      expect(unrooted.exitCode).toBe(2);
      expect(oneLine(unrooted.stderr)).toMatch(
        /^relay-tui: the default root on relayhost-unrooted is not a relay root \(.*\/nope is not a relay root \(it does not exist/,
      );
    }, 60_000);
  });
});
