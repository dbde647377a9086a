import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, waitFor, type Harness } from '../helpers/harness.js';

/**
 * The Claude Code hooks against a real relay (spawned CLI, fake Messages API, fake
 * ntfy). Stop-hook input is what Claude Code writes on the hook's stdin.
 */

let h: Harness;
let tmp: string | undefined;
afterEach(async () => {
  await h?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

function stopInput(o: { message?: string; active?: boolean; transcript?: string } = {}): string {
  const input: Record<string, unknown> = {
    session_id: '8f1c2d3e-0000-4a5b-9c8d-123456789abc',
    transcript_path: o.transcript ?? '/nonexistent/transcript.jsonl',
    cwd: '/home/jc/api-refactor',
    permission_mode: 'default',
    hook_event_name: 'Stop',
    stop_hook_active: o.active ?? false,
  };
  if (o.message !== undefined) input.last_assistant_message = o.message;
  return JSON.stringify(input);
}

async function hookStop(input: string, extra: string[] = [], session = 'session-1') {
  const t0 = Date.now();
  const r = await h.cli(['hook', 'stop', '--session', session, ...extra], { input });
  return { ...r, ms: Date.now() - t0 };
}

function parseDecision(stdout: string): { decision: string; reason: string; systemMessage?: string } {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

/** The reviewer's reply inside the hook's framing. */
function reviewOf(reason: string): string {
  const m = /<reviewer-reply>\n([\s\S]*)\n<\/reviewer-reply>$/.exec(reason);
  expect(m, reason).not.toBeNull();
  return m![1];
}

/** What Claude Code shows the user: the one JSON object's systemMessage, and nothing that would continue the session. */
function shown(stdout: string): string {
  const out = parseDecision(stdout);
  expect(out.decision).toBeUndefined();
  return out.systemMessage ?? '';
}

const queued = () => fs.readdirSync(h.paths.queue).filter((n) => n.endsWith('.json'));

describe('hook stop', () => {
  it('sends the last message as a hook envelope and returns the reply as a block decision', async () => {
    h = await createHarness();
    await h.startRelay();
    const r = await hookStop(stopInput({ message: 'Refactor done; 42 tests pass. Awaiting review.' }));
    expect(r.exitCode).toBe(0);
    const out = parseDecision(r.stdout);
    expect(out.decision).toBe('block');
    expect(reviewOf(out.reason)).toBe("Reviewed session-1's update (#1). Carry on with the next step.");
    expect(out.reason).toMatch(/^relay-tui, the Stop hook configured in this project, asks you to continue/);
    expect(out.reason).toContain(`configured reviewer relay (relay-tui, root ${h.root}, session session-1)`);
    expect(out.systemMessage).toMatch(/^relay-tui: the reviewer relay replied/);
    expect(h.api.requests[0].lastUserText).toMatch(/^\[session-1\]/);
    expect(h.api.requests[0].lastUserText).toContain('Refactor done; 42 tests pass.');
    // Consumed: nothing left in dispatch, and the relay counted a hook-delivered turn.
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
    const s = await h.waitStatus((s) => s.sessions['session-1']?.hook_chain === 1 && !s.sessions['session-1'].awaiting_ack);
    expect(s.sessions['session-1'].turns).toBe(1);
  });

  it('falls back to the transcript when the input has no last_assistant_message', async () => {
    h = await createHarness();
    await h.startRelay();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-transcript-'));
    const transcript = path.join(tmp, 'session.jsonl');
    const entry = (o: unknown) => JSON.stringify(o);
    fs.writeFileSync(
      transcript,
      [
        entry({ type: 'user', message: { role: 'user', content: 'Please migrate the schema' }, uuid: 'a' }),
        entry({ type: 'assistant', message: { id: 'msg_01', role: 'assistant', content: [{ type: 'text', text: 'Migrating now.' }] } }),
        entry({
          type: 'assistant',
          message: { id: 'msg_01', role: 'assistant', content: [{ type: 'tool_use', id: 'tu', name: 'Bash', input: {} }] },
        }),
        entry({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu', content: 'ok' }] } }),
        entry({
          type: 'assistant',
          message: { id: 'msg_02', role: 'assistant', content: [{ type: 'text', text: 'Schema migrated; 3 tables changed.' }] },
        }),
      ].join('\n') + '\n',
    );
    const r = await hookStop(stopInput({ transcript }));
    expect(r.exitCode).toBe(0);
    expect(parseDecision(r.stdout).reason).toContain('Reviewed');
    expect(h.api.requests[0].lastUserText).toContain('Schema migrated; 3 tables changed.');
    expect(h.api.requests[0].lastUserText).not.toContain('Migrating now.');
  });

  it('keeps waiting through a [NEEDS-JC] pause: the operator answer (say) reaches the hook', async () => {
    h = await createHarness();
    await h.startRelay();
    const pending = hookStop(stopInput({ message: 'Should I drop the legacy endpoint? NEEDS-JC-PLEASE' }));
    await h.waitStatus((s) => s.state === 'needs_jc', 15_000);
    const said = await h.cli(['say', 'Keep the legacy endpoint one more release.']);
    expect(said.exitCode).toBe(0);
    const r = await pending;
    expect(r.exitCode).toBe(0);
    const out = parseDecision(r.stdout);
    expect(out.decision).toBe('block');
    expect(reviewOf(out.reason)).toMatch(/^Reviewed operator/);
    expect(out.reason).not.toContain('[NEEDS-JC]');
    expect(h.api.requests.at(-1)!.lastUserText).toContain('Keep the legacy endpoint one more release.');
    // The operator's input reset the chain count.
    await h.waitStatus((s) => s.state === 'running' && s.sessions['session-1'].hook_chain === 0);
  });

  it('an @session dispatch during the pause is what the hook returns, verbatim', async () => {
    h = await createHarness();
    await h.startRelay();
    const pending = hookStop(stopInput({ message: 'Deploy to prod? NEEDS-JC-PLEASE' }));
    await h.waitStatus((s) => s.state === 'needs_jc', 15_000);
    await h.cli(['say', '@session-1: Not yet. Write the rollback plan first.']);
    const r = await pending;
    const out = parseDecision(r.stdout);
    expect(out.decision).toBe('block');
    expect(reviewOf(out.reason)).toBe('Not yet. Write the rollback plan first.');
  });

  it('on its timeout says so and exits 0; the late reply waits in dispatch/ and the next stop hands it over', async () => {
    h = await createHarness();
    await h.startRelay();
    h.api.script({ text: 'late reply: rename the module', delayMs: 4000 });
    const r = await hookStop(stopInput({ message: 'Step 1 done.' }), ['--timeout', '1']);
    expect(r.exitCode).toBe(0);
    expect(shown(r.stdout)).toMatch(/no review within 1 s; letting Claude Code stop\. The reply will wake this session when it comes/);
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
    // Not consumed by the hook that gave up: it is there for the session.
    expect(await h.waitFile(h.input('session-1'), 15_000)).toBe('late reply: rename the module');
    // The next stop hands it over at once (the relay writes the next reply only after this one is acked)
    // and sends the new message too; its review waits in dispatch/ for the waiter or the next stop.
    const next = await hookStop(stopInput({ message: 'Step 2 done.' }));
    const out = parseDecision(next.stdout);
    expect(reviewOf(out.reason)).toBe('late reply: rename the module');
    expect(out.reason).toContain('It arrived after your previous turn had ended.');
    expect(out.systemMessage).toContain('This message went for review too');
    expect(await h.waitFile(h.input('session-1'), 15_000)).toContain("Reviewed session-1's update");
    expect(h.api.requests.at(-1)!.lastUserText).toContain('Step 2 done.');
  });

  it('relay down: one line on stderr, exit 0 fast, nothing printed or queued', async () => {
    h = await createHarness();
    h.writeConfig({});
    fs.mkdirSync(h.paths.queue, { recursive: true });
    const r = await hookStop(stopInput({ message: 'Anyone there?' }));
    expect(r.exitCode).toBe(0);
    expect(shown(r.stdout)).toMatch(/^relay-tui: no relay is running on .*; this turn was not sent for review/);
    expect(r.ms).toBeLessThan(5000);
    expect(queued()).toEqual([]);
  });

  it('the relay stopping while the hook waits: exit 0, nothing printed, the message stays queued', async () => {
    h = await createHarness();
    await h.startRelay();
    await h.cli(['say', '/pause']);
    await h.waitStatus((s) => s.state === 'paused');
    const pending = hookStop(stopInput({ message: 'Waiting on review.' }));
    await waitFor(
      () => (queued().length === 1 ? true : undefined),
      h.paths.queue,
      10_000,
      () => 'envelope',
    );
    await h.stopRelay();
    const r = await pending;
    expect(r.exitCode).toBe(0);
    expect(shown(r.stdout)).toMatch(/stopped while this session waited/);
    expect(queued()).toHaveLength(1);
  }, 60_000);

  it('the chain cap lets the session stop, tells the operator, and a human prompt starts a new chain', async () => {
    // The fake's default replies differ only in a number, which the loop guardrail would (rightly) stop.
    h = await createHarness({ config: { hooks: { max_chain: 2 }, guardrails: { repeat_threshold: 0 } } });
    await h.startRelay();
    const first = await hookStop(stopInput({ message: 'Turn A', active: false }));
    expect(parseDecision(first.stdout).decision).toBe('block');
    await h.waitStatus((s) => s.sessions['session-1'].hook_chain === 1);
    const second = await hookStop(stopInput({ message: 'Turn B', active: true }));
    expect(parseDecision(second.stdout).decision).toBe('block');
    await h.waitStatus((s) => s.sessions['session-1'].hook_chain === 2);
    const calls = h.api.requests.length;

    const capped = await hookStop(stopInput({ message: 'Turn C', active: true }));
    expect(capped.exitCode).toBe(0);
    expect(shown(capped.stdout)).toMatch(/2 hook-delivered turns in a row .*Type a prompt here to start a new chain/);
    expect(queued()).toEqual([]);
    expect(h.api.requests.length).toBe(calls);
    const notices = fs
      .readFileSync(path.join(h.paths.state, 'hook-notices.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Without the UserPromptSubmit hook, the Stop hook itself tells the relay of the typed prompt.
    expect(notices.map((n: any) => n.kind)).toEqual(['prompt_typed', 'chain_cap']);
    expect(notices[1]).toMatchObject({ kind: 'chain_cap', session: 'session-1' });
    expect(notices[1].message).toContain('Turn C');
    expect(fs.readFileSync(h.paths.log, 'utf8')).toMatch(/WARN: hook session-1: stopped by the hook chain cap: 2 hook-delivered turns/);
    expect(h.ntfy.messages.some((m) => m.topic === 'relay-test-topic' && /chain cap/.test(m.title ?? ''))).toBe(true);

    // The human types into Claude Code: that turn's stop is not hook-continued, and a new chain starts.
    const fresh = await hookStop(stopInput({ message: 'Turn D after the human spoke', active: false }));
    expect(parseDecision(fresh.stdout).decision).toBe('block');
    // The relay hears of the typed prompt (notice prompt_typed) and starts its own count again too.
    await h.waitStatus((s) => s.sessions['session-1'].turns === 3 && s.sessions['session-1'].hook_chain <= 1);
    const again = await hookStop(stopInput({ message: 'Turn E', active: true }));
    expect(parseDecision(again.stdout).decision).toBe('block');
  });

  it('a reply longer than a hook can carry is written whole to state/replies and pointed to', async () => {
    h = await createHarness({ config: { max_tokens: 32_000 } });
    await h.startRelay();
    const long = Array.from({ length: 700 }, (_, i) => `Step ${i}: do the thing carefully and check the result.`).join('\n');
    expect(long.length).toBeGreaterThan(30_000);
    h.api.script({ text: long });
    const r = await hookStop(stopInput({ message: 'Plan please.' }));
    const { reason } = parseDecision(r.stdout);
    expect(reason.length).toBeLessThanOrEqual(30_000);
    const file = reason.match(/in (\/\S+\.md)\./)![1];
    expect(path.dirname(file)).toBe(h.paths.replies);
    expect(fs.readFileSync(file, 'utf8').trimEnd()).toBe(long);
    expect(reason).toContain('Step 0: do the thing');
  });
});

describe('hook install and notify', () => {
  it('merges into an existing settings.json, is idempotent, --print writes nothing; the installed commands work', async () => {
    h = await createHarness();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-project-'));
    const settings = path.join(tmp, '.claude', 'settings.json');
    fs.mkdirSync(path.dirname(settings));
    const existing = {
      permissions: { allow: ['Bash(npm test:*)'], deny: [] },
      hooks: { PostToolUse: [{ matcher: 'Write|Edit', hooks: [{ type: 'command', command: 'npx prettier --write "$FILE"' }] }] },
      model: 'opus',
    };
    fs.writeFileSync(settings, JSON.stringify(existing, null, 2) + '\n');

    const printed = await h.cli(['hook', 'install', '--session', 'session-2', '--project', tmp, '--root', h.root, '--print']);
    expect(printed.exitCode).toBe(0);
    expect(JSON.parse(printed.stdout).hooks.Stop).toHaveLength(2); // the windowed hook and the late-reply waiter
    expect(JSON.parse(fs.readFileSync(settings, 'utf8'))).toEqual(existing);

    const first = await h.cli(['hook', 'install', '--session', 'session-2', '--project', tmp, '--root', h.root]);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('added the Stop hook');
    const text = fs.readFileSync(settings, 'utf8');
    const merged = JSON.parse(text);
    expect(merged.permissions).toEqual(existing.permissions);
    expect(merged.model).toBe('opus');
    expect(merged.hooks.PostToolUse).toEqual(existing.hooks.PostToolUse);
    const stopCmd: string = merged.hooks.Stop[0].hooks[0].command;
    const notifyCmd: string = merged.hooks.Notification[0].hooks[0].command;
    expect(stopCmd).toBe(`node ${path.resolve('bin/relay-tui-hook.js')} stop --session session-2 --root ${h.root}`);
    expect(merged.hooks.Stop[0].hooks[0].timeout).toBe(600);

    const second = await h.cli(['hook', 'install', '--session', 'session-2', '--project', tmp, '--root', h.root]);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('nothing changed');
    expect(fs.readFileSync(settings, 'utf8')).toBe(text);

    // Run the commands exactly as Claude Code would: through a shell, JSON on stdin, cwd = the project.
    await h.startRelay();
    const env = { ...process.env, ...h.env, RELAY_ROOT: '' };
    const stop = await execa('sh', ['-c', stopCmd], {
      input: stopInput({ message: 'Installed hook speaking.' }),
      cwd: tmp,
      env,
      reject: false,
    });
    expect(stop.exitCode).toBe(0);
    expect(reviewOf(JSON.parse(String(stop.stdout)).reason)).toBe("Reviewed session-2's update (#1). Carry on with the next step.");

    const note = JSON.stringify({
      session_id: 'x',
      transcript_path: '/t',
      cwd: tmp,
      hook_event_name: 'Notification',
      message: 'Claude needs your permission to use Bash',
      notification_type: 'permission_prompt',
    });
    const notified = await execa('sh', ['-c', notifyCmd], { input: note, cwd: tmp, env, reject: false });
    expect(notified.exitCode).toBe(0);
    expect(String(notified.stdout)).toBe(''); // the relay runs: nothing to tell the user
    const ping = h.ntfy.messages.find((m) => m.message.includes('Claude needs your permission to use Bash'));
    expect(ping).toMatchObject({ topic: 'relay-test-topic', priority: 4 });
    expect(ping!.title).toBe('relay-tui: session-2: Claude Code');
    const notices = fs.readFileSync(path.join(h.paths.state, 'hook-notices.jsonl'), 'utf8');
    expect(notices).toContain('"kind":"notification"');
    expect(fs.readFileSync(h.paths.log, 'utf8')).toContain(
      'WARN: hook session-2: Claude Code: Claude needs your permission to use Bash (permission_prompt)',
    );
  });

  it('hook prompt: a typed prompt is told to the relay and starts a new chain; a woken turn acks its reply', async () => {
    h = await createHarness();
    await h.startRelay();
    const typed = await h.cli(['hook', 'prompt', '--session', 'session-1'], {
      input: JSON.stringify({ hook_event_name: 'UserPromptSubmit', prompt: 'Please also update the docs', session_id: 'x' }),
    });
    expect(typed.exitCode).toBe(0);
    // Whatever a UserPromptSubmit hook prints is added to the prompt: it prints nothing.
    expect(typed.stdout).toBe('');
    const notices = () =>
      fs
        .readFileSync(path.join(h.paths.state, 'hook-notices.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    expect(notices()).toMatchObject([{ kind: 'prompt_typed', session: 'session-1', message: 'Please also update the docs' }]);
    const rec = () => JSON.parse(fs.readFileSync(path.join(h.paths.state, 'hooks', 'session-1.json'), 'utf8'));
    expect(rec().last_prompt).toBe('typed');

    // A reply the waiter handed over (claimed, not acked) is acked by the woken turn's prompt.
    await h.cli(['say', '@session-1: archive the logs']);
    await h.waitFile(h.input('session-1'));
    const { claimReply } = await import('../../src/commands/hook/claim.js');
    const { procId } = await import('../../src/commands/hook/proc.js');
    const c = claimReply(h.paths, 'session-1', { owner: procId(process.pid)!, cc: procId(process.pid)!, via: 'wake' })!;
    const woken = await h.cli(['hook', 'prompt', '--session', 'session-1'], {
      input: JSON.stringify({
        hook_event_name: 'UserPromptSubmit',
        prompt: `<task-notification>Stop hook blocking error: [relay-tui delivery ${c.record.nonce}] relay-tui, the Stop hook ...</task-notification>`,
      }),
    });
    expect(woken.exitCode).toBe(0);
    expect(woken.stdout).toBe('');
    await h.waitStatus((s) => s.sessions['session-1'] && !s.sessions['session-1'].awaiting_ack);
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
    expect(notices().filter((n: any) => n.kind === 'prompt_typed')).toHaveLength(1);
    expect(rec().last_prompt).toBe('wake');
  });

  it('hook stop-failure: the operator is told and pinged why the session stopped', async () => {
    h = await createHarness();
    await h.startRelay();
    const input = {
      hook_event_name: 'StopFailure',
      session_id: 'x',
      error: 'billing_error',
      error_details: 'Your credit balance is too low',
      last_assistant_message: 'Half way through the migration',
    };
    const r = await h.cli(['hook', 'stop-failure', '--session', 'session-1'], { input: JSON.stringify(input) });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).systemMessage).toMatch(/billing error .*the operator was told/);
    await waitFor(
      () => h.ntfy.messages.find((m) => /billing error/.test(m.title ?? '')),
      h.paths.state,
      10_000,
      () => JSON.stringify(h.ntfy.messages),
    );
    const ping = h.ntfy.messages.find((m) => /billing error/.test(m.title ?? ''))!;
    expect(ping.priority).toBe(5);
    expect(ping.message).toContain('Your credit balance is too low');
    expect(ping.message).toContain('Half way through the migration');
    expect(fs.readFileSync(path.join(h.paths.state, 'hook-notices.jsonl'), 'utf8')).toContain('"kind":"stop_failure"');
  });

  it('a malformed settings.json is a clear error naming the file, exit 4, nothing written', async () => {
    h = await createHarness();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-project-'));
    const settings = path.join(tmp, '.claude', 'settings.json');
    fs.mkdirSync(path.dirname(settings));
    fs.writeFileSync(settings, '{ "hooks": { "Stop": [ }');
    const r = await h.cli(['hook', 'install', '--session', 'session-1', '--project', tmp, '--root', h.root]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(settings);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(fs.readFileSync(settings, 'utf8')).toBe('{ "hooks": { "Stop": [ }');
    expect(fs.readdirSync(path.dirname(settings))).toEqual(['settings.json']);
  });
});
