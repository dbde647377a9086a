import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeRequest } from '../../src/demo/fake-api.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/**
 * Issue 23 headless: the real CLI (`--no-ui`, `say`) against the fake Messages API.
 * A redirect of a leash-paused session supersedes the paused envelope (never sent to
 * chat-Claude, never delivered); `say` tells the truth about a refused command.
 */

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const SESSIONS = [
  { id: 'session-1', description: 'one' },
  { id: 'session-2', description: 'two' },
];

/** A reply per message, different each time; "ask" in a message makes chat-Claude ask the operator. */
const respond = (req: FakeRequest) =>
  req.lastUserText.includes('ask') ? { text: `[NEEDS-JC] Which way for ${req.n}?` } : { text: `Next, step ${req.n + 1}.` };

/** Takes what the session received (its ack), in order. */
async function receive(session: string, got: string[]): Promise<string> {
  const text = await h.waitFile(h.input(session));
  fs.unlinkSync(h.input(session));
  got.push(text);
  return text;
}

describe('redirect and say, end to end', () => {
  it('max_auto_turns 2: the third envelope is paused; say @session-1 supersedes it: never sent, never delivered', async () => {
    h = await createHarness({ api: { respond }, config: { sessions: SESSIONS, guardrails: { max_auto_turns: 2, repeat_threshold: 0 } } });
    await h.startRelay();
    const got: string[] = [];
    h.enqueue('session-1', 'Did step 1 (alpha).', '1-a.json');
    await receive('session-1', got);
    h.enqueue('session-1', 'Did step 2 (bravo).', '2-b.json');
    await receive('session-1', got);
    h.enqueue('session-1', 'Did step 3 (charlie).', '3-c.json');
    const paused = await h.waitStatus((s) => s.sessions['session-1']?.state === 'paused');
    expect(paused.sessions['session-1'].state_reason).toBe('auto_turns');
    expect(paused.waiting!.map((w) => `${w.session} ${w.kind} ${w.reason}`)).toEqual(['session-1 paused auto_turns']);
    const t0 = Date.now();
    const said = await h.cli(['say', '--root', h.root, '@session-1: Good. Now do step 5 and report.']);
    expect(said.exitCode, said.stderr).toBe(0);
    expect(said.stdout).toMatch(
      /dispatched to session-1: written to dispatch\/session-1\/input\.txt; session-1 resumed; 1 waiting envelope\(s\) set aside, not sent/,
    );
    expect(await receive('session-1', got)).toBe('Good. Now do step 5 and report.');
    // The session's next message after the redirect reaches chat-Claude; the superseded one never does.
    h.enqueue('session-1', 'Did step 5 (echo).', '5-e.json');
    await receive('session-1', got);
    const next = h.api.requests.find((r) => r.lastUserText.includes('Did step 5'));
    expect(next).toBeTruthy();
    console.log(`redirect -> the session's next model request: ${Date.now() - t0} ms (say, delivery, the next envelope, the call)`);
    const s = h.status()!;
    expect(s.sessions['session-1'].state).toBe('flowing');
    expect(s.sessions['session-1'].decision_seq).toBe(1);
    expect(s.waiting).toEqual([]);
    await h.stopRelay();
    expect(h.api.requests.some((r) => r.lastUserText.includes('charlie'))).toBe(false);
    expect(got.some((t) => t.includes('charlie'))).toBe(false);
    // Exactly one reply per turn, and the operator's message the one reply between the two.
    expect(got).toHaveLength(4);
    expect(got[2]).toBe('Good. Now do step 5 and report.');
    expect(h.api.requests).toHaveLength(3);
    expect(fs.readdirSync(path.join(h.paths.queue, '.superseded')).sort()).toEqual(['3-c.json', '3-c.json.reason']);
    const audit = fs.readFileSync(h.paths.audit, 'utf8');
    expect(audit).toMatch(/"action":"superseded","text":"Did step 3 \(charlie\)\."/);
    console.log(`session-1 received: ${JSON.stringify(got)}`);
  });

  it('say exits 1 with the reason when the relay refuses: unknown session, nothing to approve, an ambiguous target', async () => {
    h = await createHarness({ api: { respond }, config: { sessions: SESSIONS } });
    await h.startRelay();
    const typo = await h.cli(['say', '--root', h.root, '@sesion-1: hi']);
    expect(typo.exitCode).toBe(1);
    expect(typo.stderr).toMatch(/refused: unknown session sesion-1 \(known: session-1, session-2\)/);
    const none = await h.cli(['say', '--root', h.root, '/approve']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/refused: nothing to approve/);
    h.enqueue('session-1', 'please ask one', '1.json');
    h.enqueue('session-2', 'please ask two', '2.json');
    await h.waitStatus((s) => s.waiting?.length === 2);
    const both = await h.cli(['say', '--root', h.root, '/approve']);
    expect(both.exitCode).toBe(1);
    expect(both.stderr).toMatch(
      /refused: several wait: session-1 \(question, \d+s\), session-2 \(question, \d+s\); say \/approve session-1/,
    );
    const one = await h.cli(['say', '--root', h.root, '/approve', 'session-2']);
    expect(one.exitCode).toBe(0);
    expect(one.stdout).toMatch(/approved: dispatched to session-2/);
    expect(await h.waitFile(h.input('session-2'))).toMatch(/^\[NEEDS-JC\] Which way/);
    // status.json is rewritten a moment after the change: wait for it.
    const s = await h.waitStatus((st) => st.sessions['session-2']?.state === 'flowing');
    expect(s.state).toBe('needs_jc');
    expect(s.sessions['session-1'].state).toBe('asking');
    expect(s.sessions['session-2'].decision_seq).toBe(1);
  });

  it('kill -9 with three items waiting: all survive the restart, each with its own ping and code; none is delivered twice', async () => {
    h = await createHarness({
      api: { respond },
      config: {
        sessions: [...SESSIONS, { id: 'session-3', description: 'three' }],
        guardrails: { max_auto_turns: 1, repeat_threshold: 0 },
      },
    });
    await h.startRelay();
    h.enqueue('session-1', 'please ask one', '1.json');
    h.enqueue('session-2', 'please ask two', '2.json');
    h.enqueue('session-3', 'three first', '3a.json');
    await receive('session-3', []);
    h.enqueue('session-3', 'three second', '3b.json');
    const before = await h.waitStatus((s) => s.waiting?.length === 3);
    expect(before.waiting!.map((w) => `${w.session} ${w.kind}`).sort()).toEqual([
      'session-1 question',
      'session-2 question',
      'session-3 paused',
    ]);
    // Each item pinged with its own one-time code (and its own buttons when replies are on).
    for (const w of before.waiting!)
      await h.ntfy.waitFor((m) => !!m.message?.includes(w.code!) || !!m.actions?.some((a) => a.body?.includes(w.code!)));
    const child = h.relay!;
    h.relay = undefined;
    child.kill('SIGKILL');
    await child.catch(() => {});
    await h.startRelay();
    const after = await h.waitStatus((s) => s.pid !== before.pid);
    expect(after.waiting).toEqual(before.waiting);
    const requests = h.api.requests.length;
    const got = new Map<string, string[]>();
    expect((await h.cli(['say', '--root', h.root, '/approve', 'session-2'])).exitCode).toBe(0);
    expect((await h.cli(['say', '--root', h.root, '/drop', 'session-1'])).exitCode).toBe(0);
    expect((await h.cli(['say', '--root', h.root, '/resume', 'session-3'])).exitCode).toBe(0);
    got.set('session-2', [await h.waitFile(h.input('session-2'))]);
    got.set('session-3', [await h.waitFile(h.input('session-3'))]);
    await h.waitStatus((s) => s.waiting?.length === 0 && s.queue_depth === 0);
    await h.stopRelay();
    expect(got.get('session-2')).toEqual([expect.stringMatching(/^\[NEEDS-JC\] Which way/)]);
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
    // Only session-3's resumed envelope was asked after the restart.
    expect(h.api.requests.slice(requests).map((r) => r.lastUserText.split('\n')[1])).toEqual(['three second']);
    console.log(
      `after kill -9: session-1 received nothing (dropped), session-2 ${JSON.stringify(got.get('session-2'))}, session-3 ${JSON.stringify(got.get('session-3'))}`,
    );
  });
});
