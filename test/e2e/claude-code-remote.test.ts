import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSshd, sshdUnavailable, type Sshd } from '../../bench/sshd.js';
import { readProc } from '../../src/fs/process-table.js';
import {
  CC_VERSIONS,
  CcScene,
  ccBinary,
  FRAMING,
  haveClaudeCode,
  lastUserJson,
  messagesWith,
  notices,
  poll,
  TmuxClaude,
} from '../helpers/claude-code.js';
import { CLI } from '../helpers/harness.js';

/**
 * A session on "another machine" with the real Claude Code (each pinned version): the
 * relay runs here on a temp root (the relay's host), a real OpenSSH server on 127.0.0.1
 * lets in a key restricted to `relay-tui remote-shell --root ROOT`, and the project's
 * hooks are what `relay-tui hook install --remote relayhost-restricted:ROOT` writes with
 * RELAY_SSH set, as a user would. Every hook, the late-reply waiter included, reaches the
 * relay's files only through that key. The story: a turn ends, the relay holds a
 * [NEEDS-JC] for the operator, the Stop hook's short window closes and Claude Code sits
 * idle; the operator answers later, and the waiter wakes the session with the reply once.
 */

const missing = sshdUnavailable();
if (missing) process.stderr.write(`test/e2e/claude-code-remote.test.ts: skipped: ${missing}\n`);

const scene = new CcScene();
let sshd: Sshd | undefined;
afterEach(async () => {
  await scene.tearDown();
  await sshd?.stop();
  sshd = undefined;
});

/** Live processes (not this one, none of `except`, not zombies) whose command line names `needle`. */
function processesNaming(needle: string, except: Array<number | undefined> = []): string[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid && !except.includes(Number(d)))
    .flatMap((d) => {
      try {
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
        return cmd.includes(needle) && !readProc(Number(d))?.zombie ? [`${d}: ${cmd.replace(/\0/g, ' ').slice(0, 200)}`] : [];
      } catch {
        return [];
      }
    });
}

for (const version of CC_VERSIONS) {
  const bin = ccBinary(version);
  describe.skipIf(!!missing)(`Claude Code ${version}, the relay over ssh`, () => {
    if (!haveClaudeCode(version, bin)) return;

    it('a late answer wakes the idle remote session once, through the restricted key, and nothing is left running', async () => {
      const s = await scene.setUp(
        version,
        {
          cc: (r) => {
            const t = lastUserJson(r);
            if (t.includes('tok-late')) return { text: 'Applied the late review: the old logs are archived.' };
            return { text: 'The logs are rotated. Should I also delete the old ones?' };
          },
          relay: (_r, n) => ({
            text: n === 2 ? 'Keep the old logs; archive them instead. tok-late' : `[NEEDS-JC] Over to the operator (${n}).`,
          }),
        },
        { hooks: { max_chain: 3 } },
        async (h, project) => {
          // The relay's host lets the session's machine in with a key that may run only remote-shell on this root.
          sshd = await startSshd({
            keys: ['main', 'restricted'],
            authorized: (k) => [`restrict,command="${process.execPath} ${CLI} remote-shell --root ${h.root}" ${k.restricted.pub}`],
          });
          return {
            args: [
              'hook',
              'install',
              '--remote',
              `relayhost-restricted:${h.root}`,
              '--session',
              'session-1',
              '--project',
              project,
              '--timeout',
              '5',
            ],
            env: { RELAY_SSH: sshd.relaySsh },
          };
        },
      );
      // The install checked the far side through the restricted key and found nothing to say.
      expect(s.installed.stderr).toBe('');
      // What install wrote is what Claude Code runs: every hook over ssh, the Stop hook's window carried.
      const settings = JSON.parse(fs.readFileSync(path.join(s.project, '.claude', 'settings.json'), 'utf8'));
      const commands: string[] = Object.values(settings.hooks as Record<string, { hooks: { command: string }[] }[]>).flatMap((gs) =>
        gs.flatMap((g) => g.hooks.map((x) => x.command)),
      );
      expect(commands.length).toBe(4);
      for (const c of commands) expect(c).toContain(`--remote relayhost-restricted:${s.h.root}`);
      expect(commands.filter((c) => / hook stop .*--timeout 5$/.test(c))).toHaveLength(1);

      const tmux = (scene.tmux = new TmuxClaude(bin, s.project, s.env));
      tmux.start();
      await tmux.waitPane(/Claude Code/, 30_000);
      await new Promise((r) => setTimeout(r, 2500));
      await tmux.type('Rotate the logs');

      // The turn ends, the relay holds a [NEEDS-JC] for the operator, the 5 s window closes, Claude Code sits idle.
      await s.h.waitStatus((st) => st.state === 'needs_jc', 60_000);
      const heldAt = Date.now();
      const stopMarker = path.join(s.h.paths.state, 'hooks', 'session-1.stop-wait.json');
      const waiterLock = path.join(s.h.paths.state, 'hooks', 'session-1.waiter.json');
      await poll(
        () => (fs.existsSync(stopMarker) ? undefined : true),
        30_000,
        () => 'the remote Stop hook window never closed',
      );
      // The waiter's far half holds the session's lock on the relay's host: it started, over ssh.
      await poll(
        () => (fs.existsSync(waiterLock) ? true : undefined),
        30_000,
        () => `the remote waiter never reached the relay's host; pane:\n${tmux.pane()}\nsshd:\n${sshd!.log().slice(-2000)}`,
      );
      expect(notices(s.h).filter((n) => n.kind === 'prompt_typed')).toHaveLength(1);
      const hookRecord = () => JSON.parse(fs.readFileSync(path.join(s.h.paths.state, 'hooks', 'session-1.json'), 'utf8'));
      expect(hookRecord().last_prompt).toBe('typed');
      const callsBefore = s.ccRequests().length;
      expect(callsBefore).toBe(1);
      await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - heldAt))));

      const answeredAt = Date.now();
      expect((await s.h.cli(['say', 'Keep the logs, archive them.'])).exitCode).toBe(0);
      const woken = await poll(
        () => s.ccRequests().find((r) => r.receivedAt >= answeredAt && lastUserJson(r).includes('tok-late')),
        60_000,
        () => `the late reply never woke the session; pane:\n${tmux.pane()}\nsshd:\n${sshd!.log().slice(-2000)}`,
      );
      const answerCall = s.relayRequests().find((r) => r.receivedAt >= answeredAt)!;
      console.log(
        `[measure] Claude Code ${version} over ssh: late delivery (operator answer -> woken Claude Code call): ${woken.receivedAt - answeredAt} ms (from the relay's call for the answer: ${woken.receivedAt - answerCall.receivedAt} ms)`,
      );
      expect(lastUserJson(woken)).toContain(FRAMING);
      expect(s.ccRequests().length).toBe(callsBefore + 1);
      // Acked on the relay's side before the waiter woke the session: input.txt gone, no claim left.
      expect(fs.existsSync(s.h.input('session-1'))).toBe(false);
      expect(fs.existsSync(path.join(s.h.paths.dispatch, 'session-1', '.claim'))).toBe(false);
      // The woken turn's Stop reaches the relay over ssh, which hands over to the operator again: idle once more.
      await poll(
        () => (s.counts.relay >= 3 ? true : undefined),
        60_000,
        () => 'the woken turn never reached the relay',
      );
      await s.h.waitStatus((st) => st.state === 'needs_jc', 30_000);
      expect(messagesWith(s.ccRequests().at(-1)!, 'tok-late')).toBe(1);
      expect(s.ccRequests().filter((r) => lastUserJson(r).includes('tok-late'))).toHaveLength(1);
      // The wake's own UserPromptSubmit went over ssh too (its nonce read there) and was told apart from a typed prompt.
      expect(notices(s.h).filter((n) => n.kind === 'prompt_typed')).toHaveLength(1);
      expect(hookRecord().last_prompt).toBe('wake');

      // The woken turn's waiter is up on both sides: its client here (node, and its ssh), its far half there.
      const ours = () => processesNaming(s.h.root, [s.h.relay?.pid]);
      await poll(
        () => (['relay-tui-hook-wait.js', 'remote-shell'].every((w) => ours().some((l) => l.includes(w))) ? true : undefined),
        20_000,
        () => `the next waiter is not running on both sides:\n${ours().join('\n')}`,
      );
      // sshd's per-connection processes (they name no root): they must end with their connections.
      const sshDir = sshd!.dir;
      const listener = processesNaming(sshDir).map((l) => Number(l.split(':')[0]));
      const connections = () =>
        fs
          .readdirSync('/proc')
          .filter((d) => /^\d+$/.test(d) && listener.includes(readProc(Number(d))?.ppid ?? -1) && !readProc(Number(d))?.zombie);
      expect(connections().length).toBeGreaterThan(0);

      // Claude Code goes: its hooks here, their ssh, and the far halves on the relay's host all end.
      await tmux.kill();
      scene.tmux = undefined;
      // (The relay itself names the root too: it is the test's, and stays until tearDown.)
      await poll(
        () => (ours().length ? undefined : true),
        20_000,
        () => `still running:\n${ours().join('\n')}`,
      );
      await sshd!.stop();
      sshd = undefined;
      // Connection sharing's master goes with the server; nothing of the ssh set-up is left.
      await poll(
        () => (processesNaming(sshDir).length || connections().length ? undefined : true),
        10_000,
        () => `still running:\n${[...processesNaming(sshDir), ...connections()].join('\n')}`,
      );
    }, 120_000);
  });
}
