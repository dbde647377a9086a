import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { isLive, procId } from '../../src/commands/hook/proc.js';
import {
  CC_VERSIONS,
  CcScene,
  ccBinary,
  FRAMING,
  haveClaudeCode,
  lastUserJson,
  messagesWith,
  newestText,
  notices,
  poll,
  TmuxClaude,
} from '../helpers/claude-code.js';

/**
 * relay-tui's hooks with the real Claude Code CLI (each pinned version), pointed at
 * the fake Messages API, with a real `relay-tui --no-ui` on a temp root and the hooks
 * written by `relay-tui hook install`. The fake answers both: Claude Code's calls
 * (they carry tools) and the relay's chat-Claude calls.
 */

const scene = new CcScene();
afterEach(() => scene.tearDown());
const setUp = (...a: Parameters<CcScene['setUp']>) => scene.setUp(...a);

for (const version of CC_VERSIONS) {
  const bin = ccBinary(version);
  describe(`Claude Code ${version}`, () => {
    if (!haveClaudeCode(version, bin)) return;

    it('-p: turns chain through the relay, [NEEDS-JC] holds until /approve, the chain cap stops it', async () => {
      const s = await setUp(
        version,
        {
          cc: (_r, n) => ({ text: `Step ${n} done: the parser module is refactored.` }),
          relay: (_r, n) => ({
            text:
              n === 1
                ? `[NEEDS-JC] Keep the old parser for one release? tok-r${n}`
                : `Review ${n}: good, carry on with the next step. tok-r${n}`,
          }),
        },
        { hooks: { max_chain: 3 } },
      );
      const cc = execa(bin, ['-p', 'Refactor the parser module', '--output-format', 'stream-json', '--verbose'], {
        cwd: s.project,
        env: s.env,
        extendEnv: false,
        reject: false,
        timeout: 120_000,
      });
      await s.h.waitStatus((st) => st.state === 'needs_jc', 60_000);
      const approved = await s.h.cli(['say', '/approve']);
      expect(approved.exitCode).toBe(0);
      const r = await cc;
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const ccReqs = s.ccRequests();
      // Each relay reply reached Claude Code's next call, framed by the hook.
      for (let i = 1; i <= s.counts.relay; i++) {
        const next = ccReqs[i];
        expect(next, `Claude Code call after relay reply ${i}`).toBeDefined();
        expect(newestText(next)).toContain(`tok-r${i}`);
        expect(newestText(next)).toContain(FRAMING);
      }
      // Issue 23: /approve is the operator speaking to the session, so the chain starts again after the held
      // turn: three more hook-delivered turns, then the chain cap (3) lets Claude Code stop.
      expect(s.counts.relay).toBe(4);
      expect(ccReqs.length).toBe(5);
      const ns = notices(s.h);
      expect(ns.filter((n) => n.kind === 'chain_cap')).toHaveLength(1);
      expect(ns.filter((n) => n.kind === 'prompt_typed')).toHaveLength(1);
      expect(String(r.stdout)).toContain('"type":"result"');
      // Round trip: Claude Code's reply ends (its Stop hook starts) -> its next API call, through the relay.
      const relayReqs = s.relayRequests();
      const trips = [2, 3].map(
        (i) =>
          `${ccReqs[i].receivedAt - s.ccReplied[i - 1]} ms (to the relay's call ${relayReqs[i - 1].receivedAt - s.ccReplied[i - 1]} ms)`,
      );
      console.log(`[measure] Claude Code ${version}: Stop hook round trip (fake API reply -> next Claude Code call): ${trips.join(', ')}`);
    }, 150_000);

    it('-p: Claude Code stops by itself when no relay runs, and says why', async () => {
      const s = await setUp(version, { cc: () => ({ text: 'All done.' }), relay: () => ({ text: 'unused' }) }, {});
      await s.h.stopRelay();
      const r = await execa(bin, ['-p', 'Tidy up', '--output-format', 'stream-json', '--verbose'], {
        cwd: s.project,
        env: s.env,
        extendEnv: false,
        reject: false,
        timeout: 60_000,
      });
      expect(r.exitCode).toBe(0);
      expect(s.ccRequests()).toHaveLength(1);
      expect(fs.readdirSync(s.h.paths.queue).filter((n) => n.endsWith('.json'))).toEqual([]);
    }, 90_000);

    it('-p: Claude Code killed mid-hook: the reply stays in dispatch/, the orphaned hook takes nothing', async () => {
      const s = await setUp(
        version,
        { cc: () => ({ text: 'Migration written; please review.' }), relay: () => ({ text: 'Reviewed: apply it. tok-kept' }) },
        {},
      );
      await s.h.cli(['say', '/pause']);
      await s.h.waitStatus((st) => st.state === 'paused');
      const cc = execa(bin, ['-p', 'Write the migration', '--output-format', 'stream-json', '--verbose'], {
        cwd: s.project,
        env: s.env,
        extendEnv: false,
        reject: false,
        timeout: 60_000,
      });
      const marker = path.join(s.h.paths.state, 'hooks', 'session-1.stop-wait.json');
      const hookPid = await poll(
        () => {
          try {
            return JSON.parse(fs.readFileSync(marker, 'utf8')).owner.pid as number;
          } catch {
            return undefined;
          }
        },
        60_000,
        () => 'the Stop hook never started waiting',
      );
      const hook = procId(hookPid);
      cc.kill('SIGKILL');
      await cc;
      await s.h.cli(['say', '/resume']);
      expect(await s.h.waitFile(s.h.input('session-1'), 30_000)).toContain('tok-kept');
      await poll(
        () => (isLive(hook) ? undefined : true),
        15_000,
        () => `the hook ${hookPid} outlived Claude Code`,
      );
      expect(fs.readFileSync(s.h.input('session-1'), 'utf8')).toContain('tok-kept');
      expect(fs.existsSync(path.join(s.h.paths.dispatch, 'session-1', '.claim'))).toBe(false);
    }, 90_000);

    it('tmux: a permission prompt is pinged naming the tool; a late answer wakes the idle session once; typed prompts are told apart', async () => {
      let phase = 'start';
      const s = await setUp(
        version,
        {
          cc: (r) => {
            const t = lastUserJson(r);
            if (t.includes('tok-late')) return { text: 'Applied the late review: the logs are archived.' };
            if (t.includes('tool_result')) return { text: 'Created the marker. Should I also delete the old logs?' };
            if (t.includes('Create the marker file'))
              return { toolUse: { name: 'Bash', input: { command: 'touch marker-from-claude', description: 'Create the marker file' } } };
            return { text: 'Noted.' };
          },
          relay: (_r, n) => ({
            text: n === 2 ? 'Keep the logs; archive them instead. tok-late' : `[NEEDS-JC] Over to the operator (${n}).`,
          }),
        },
        { hooks: { max_chain: 3 } },
        ['--timeout', '5'],
      );
      const tmux = (scene.tmux = new TmuxClaude(bin, s.project, s.env, ['--permission-mode', 'default']));
      tmux.start();
      await tmux.waitPane(/Claude Code/, 30_000);
      await new Promise((r) => setTimeout(r, 2500));
      await tmux.type('Create the marker file');

      // Claude Code asks for permission; its Notification hook names the tool (~6 s later).
      const note = await poll(
        () => notices(s.h).find((n) => n.kind === 'notification'),
        40_000,
        () => `no notification notice; pane:\n${tmux.pane()}`,
      );
      expect(note.message).toMatch(/Bash: touch marker-from-claude/);
      expect(note.message).toContain('permission_prompt');
      // The notice is written first, the ping goes out after it.
      await poll(
        () => (s.h.ntfy.messages.some((m) => m.message.includes('touch marker-from-claude') && m.priority === 4) ? true : undefined),
        10_000,
        () => `no ping: ${JSON.stringify(s.h.ntfy.messages)}`,
      );
      await tmux.keys('Enter');

      // The turn ends, the relay asks the operator, the 5 s window closes, and Claude Code sits idle.
      await s.h.waitStatus((st) => st.state === 'needs_jc', 60_000);
      const pausedAt = Date.now();
      expect(fs.existsSync(path.join(s.project, 'marker-from-claude'))).toBe(true);
      const stopMarker = path.join(s.h.paths.state, 'hooks', 'session-1.stop-wait.json');
      await poll(
        () => (fs.existsSync(stopMarker) ? undefined : true),
        30_000,
        () => 'the Stop hook window never closed',
      );
      const callsBefore = s.ccRequests().length;
      await new Promise((r) => setTimeout(r, Math.max(0, 15_000 - (Date.now() - pausedAt))));

      phase = 'late';
      const answeredAt = Date.now();
      expect((await s.h.cli(['say', 'Keep the logs, archive them.'])).exitCode).toBe(0);
      const woken = await poll(
        () => s.ccRequests().find((r) => r.receivedAt >= answeredAt && lastUserJson(r).includes('tok-late')),
        60_000,
        () => `the late reply never woke the session (phase ${phase}); pane:\n${tmux.pane()}`,
      );
      const answerCall = s.relayRequests().find((r) => r.receivedAt >= answeredAt)!;
      console.log(
        `[measure] Claude Code ${version}: late delivery (operator answer -> woken Claude Code call): ${woken.receivedAt - answeredAt} ms (from the relay's call for the answer: ${woken.receivedAt - answerCall.receivedAt} ms)`,
      );
      expect(lastUserJson(woken)).toContain(FRAMING);
      expect(s.ccRequests().length).toBe(callsBefore + 1);
      // Confirmed through the woken turn: input.txt acked, no claim left.
      await s.h.waitGone(s.h.input('session-1'), 20_000);
      expect(fs.existsSync(path.join(s.h.paths.dispatch, 'session-1', '.claim'))).toBe(false);
      // The woken turn's Stop goes to the relay again, which hands over to the operator: idle once more.
      await poll(
        () => (s.counts.relay >= 3 ? true : undefined),
        60_000,
        () => 'the woken turn never reached the relay',
      );
      await s.h.waitStatus((st) => st.state === 'needs_jc', 30_000);
      const last = s.ccRequests().at(-1)!;
      expect(messagesWith(last, 'tok-late')).toBe(1);
      expect(s.ccRequests().filter((r) => lastUserJson(r).includes('tok-late'))).toHaveLength(1);

      // Only the typed prompt counted as the operator speaking, not the wake.
      expect(notices(s.h).filter((n) => n.kind === 'prompt_typed')).toHaveLength(1);
      await tmux.type('What is the status?');
      await poll(
        () => (notices(s.h).filter((n) => n.kind === 'prompt_typed').length === 2 ? true : undefined),
        30_000,
        () => 'typed prompt not noticed',
      );
      const rec = JSON.parse(fs.readFileSync(path.join(s.h.paths.state, 'hooks', 'session-1.json'), 'utf8'));
      expect(rec.last_prompt).toBe('typed');
    }, 170_000);
  });
}
