import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const say = (text: string) => h.cli(['say', '--root', h.root, text]);
const writeJc = (text: string) => {
  const tmp = path.join(h.paths.state, '.jc.tmp');
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, h.paths.jcInput);
};

describe('relay loop (headless, real CLI, fake API)', () => {
  it('flows a queue entry to dispatch and removes the envelope', async () => {
    h = await createHarness();
    await h.startRelay();
    const name = h.enqueue('session-1', 'Tests pass. Awaiting review.');
    const reply = await h.waitFile(h.input('session-1'));
    expect(reply).toContain('session-1');
    await h.waitGone(path.join(h.paths.queue, name));
    const req = h.api.requests[0];
    expect(req.stream).toBe(true);
    expect(req.lastUserText).toMatch(/^\[session-1\]/);
    expect(req.lastUserText).toContain('Tests pass. Awaiting review.');
    // A short first prompt is under the default model's 4,096-token minimum: no breakpoint is
    // placed where none could take effect (src/pricing/cache-rules.ts; test/conversation.test.ts).
    expect(req.body.system[0].cache_control).toBeUndefined();
    const last = req.body.messages[req.body.messages.length - 1];
    expect(typeof last.content === 'string' || last.content[0].cache_control === undefined).toBe(true);
    const s = await h.waitStatus((s) => s.sessions['session-1']?.turns === 1);
    expect(s.state).toBe('running');
    expect(s.total_cost_usd).toBeGreaterThan(0);
    expect(s.sessions['session-1'].awaiting_ack).toBe(true);
    for (const key of [
      'state',
      'pause_reason',
      'started_at',
      'model',
      'queue_depth',
      'rejected_count',
      'sessions',
      'last_dispatch_at',
      'last_dispatch_session',
      'last_needs_jc_text',
      'history_turns',
      'history_tokens',
      'total_input_tokens',
      'total_output_tokens',
      'total_cache_read_tokens',
      'total_cache_write_tokens',
      'total_cost_usd',
      'today_cost_usd',
      'pid',
    ]) {
      expect(s, key).toHaveProperty(key);
    }
    for (const key of ['pending', 'awaiting_ack', 'turns', 'cost_usd', 'last_activity_at'])
      expect(s.sessions['session-1'], key).toHaveProperty(key);
  });

  it('[NEEDS-JC] holds that session (pings high, dispatches nothing, takes no further envelope of it) while others flow; /approve sends it', async () => {
    h = await createHarness();
    await h.startRelay();
    h.enqueue('session-1', 'NEEDS-JC-PLEASE may I drop the users table?');
    const s = await h.waitStatus((s) => s.state === 'needs_jc');
    expect(s.last_needs_jc_text).toMatch(/^\[NEEDS-JC\]/);
    expect(s.held!.session).toBe('session-1');
    const ping = await h.ntfy.waitFor((m) => m.priority === 5);
    expect(ping.title).toContain('session-1');
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
    // Issue 23: the question holds session-1 only. Its next envelope waits; session-2's flows meanwhile.
    const second = h.enqueue('session-1', 'next step from the asking session');
    h.enqueue('session-2', 'unrelated update');
    await h.waitFile(h.input('session-2'));
    await h.waitStatus((s) => s.queue_depth === 1 && s.sessions['session-1']?.state === 'asking');
    expect(h.api.requests).toHaveLength(2);
    const r = await say('/approve');
    expect(r.exitCode).toBe(0);
    const delivered = await h.waitFile(h.input('session-1'));
    expect(delivered).toMatch(/^\[NEEDS-JC\]/);
    // Resumed: session-1's waiting envelope now flows.
    await h.waitGone(path.join(h.paths.queue, second));
    const audit = fs.readFileSync(h.paths.audit, 'utf8');
    expect(audit).toMatch(/"source":"cli","action":"approve"/);
  });

  it('/drop discards the held reply and resumes', async () => {
    h = await createHarness();
    await h.startRelay();
    h.enqueue('session-1', 'NEEDS-JC-PLEASE deploy on friday?');
    await h.waitStatus((s) => s.state === 'needs_jc');
    await say('/drop');
    const s = await h.waitStatus((s) => s.state === 'running');
    expect(s.held).toBeNull();
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
  });

  it('plain text answers a pause: one API turn, reply routed to the paused session', async () => {
    h = await createHarness();
    await h.startRelay();
    h.enqueue('session-2', 'NEEDS-JC-PLEASE which database?');
    await h.waitStatus((s) => s.state === 'needs_jc');
    writeJc('Use Postgres 16, not MySQL.');
    const reply = await h.waitFile(h.input('session-2'));
    expect(reply).not.toMatch(/NEEDS-JC/);
    expect(h.api.requests).toHaveLength(2);
    expect(h.api.requests[1].lastUserText).toMatch(/^\[operator → re session-2\]\nUse Postgres 16/);
    const s = await h.waitStatus((s) => s.state === 'running');
    expect(s.held).toBeNull();
    expect(fs.existsSync(h.paths.jcInput)).toBe(false);
  });

  it('@session: text dispatches with no API call, consumes jc_input.txt and clears the pause', async () => {
    h = await createHarness();
    await h.startRelay();
    h.enqueue('session-1', 'NEEDS-JC-PLEASE ok to force-push?');
    await h.waitStatus((s) => s.state === 'needs_jc');
    writeJc('@session-1: No force-push. Open a PR instead.');
    expect(await h.waitFile(h.input('session-1'))).toBe('No force-push. Open a PR instead.');
    await h.waitGone(h.paths.jcInput);
    await h.waitStatus((s) => s.state === 'running');
    expect(h.api.requests).toHaveLength(1);
  });

  it('@ an unknown session (a typo) is refused, naming the known ones, and creates nothing', async () => {
    h = await createHarness();
    await h.startRelay();
    writeJc('@sesion-1: hello');
    await h.waitGone(h.paths.jcInput);
    const line = await h
      .waitFile(h.paths.audit)
      .then(() => h.waitStatus(() => /dispatch-refused/.test(fs.readFileSync(h.paths.audit, 'utf8'))));
    expect(line).toBeTruthy();
    expect(fs.readFileSync(h.paths.audit, 'utf8')).toMatch(/unknown session sesion-1 \(known: session-1, session-2\)/);
    expect(fs.existsSync(path.join(h.paths.dispatch, 'sesion-1'))).toBe(false);
  });

  it('a second reply waits behind an unconsumed input.txt, then is delivered on ack', async () => {
    h = await createHarness();
    await h.startRelay();
    h.enqueue('session-1', 'first');
    const first = await h.waitFile(h.input('session-1'));
    h.enqueue('session-1', 'second');
    const s = await h.waitStatus((s) => s.sessions['session-1'].pending === 1);
    expect(s.sessions['session-1'].awaiting_ack).toBe(true);
    expect(fs.readFileSync(h.input('session-1'), 'utf8')).toBe(first);
    const r = await h.cli(['recv', '--root', h.root, '--session', 'session-1']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(first.trim());
    const second = await h.waitFile(h.input('session-1'));
    expect(second).not.toBe(first);
    await h.waitStatus((s) => s.sessions['session-1'].pending === 0);
  });

  it('rejects malformed files with a reason and goes on', async () => {
    h = await createHarness();
    await h.startRelay();
    fs.writeFileSync(path.join(h.paths.queue, 'bad.json'), '{not json');
    fs.utimesSync(path.join(h.paths.queue, 'bad.json'), new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    fs.writeFileSync(path.join(h.paths.queue, 'evil.json'), JSON.stringify({ session_id: '../etc', content: 'x' }));
    h.enqueue('session-1', 'good one');
    await h.waitFile(h.input('session-1'));
    const s = await h.waitStatus((s) => s.rejected_count === 2);
    expect(s.last_rejection!.reason).toBeTruthy();
    expect(fs.readFileSync(path.join(h.paths.rejected, 'bad.json.reason'), 'utf8')).toMatch(/not valid JSON/);
    expect(fs.readFileSync(path.join(h.paths.rejected, 'evil.json.reason'), 'utf8')).toMatch(/session_id/);
    expect(fs.existsSync(path.join(h.paths.rejected, 'evil.json'))).toBe(true);
  });

  it('summarizes when the history passes cap_tokens, keeping keep_recent turns', async () => {
    h = await createHarness();
    // The fake's replies differ only in a number: the repeat guard would (rightly) call that a loop.
    h.writeConfig({ history: { cap_tokens: 400, keep_recent: 1 }, guardrails: { repeat_threshold: 0 } });
    await h.startRelay();
    const topics = ['router', 'billing', 'docs', 'auth'];
    for (let i = 0; i < 4; i++) {
      // Distinct words: messages that differ only in numbers would (rightly) trip the loop guard.
      h.enqueue('session-1', `${topics[i]} update: ${`${topics[i]} lorem ipsum dolor sit amet `.repeat(12)}`);
      await h.waitFile(h.input('session-1'));
      await h.cli(['recv', '--root', h.root, '--session', 'session-1']);
    }
    const summaryReq = h.api.requests.find((r) => /summar/i.test(r.lastUserText));
    expect(summaryReq).toBeTruthy();
    const s = await h.waitStatus((s) => s.history_turns <= 3 && s.summaries === 1);
    expect(s.history_turns).toBeLessThanOrEqual(3);
    const after = h.api.requests[h.api.requests.length - 1];
    expect(after.body.messages[0].content).toMatch(/Summary/);
    expect(fs.readdirSync(path.join(h.paths.state, 'archive')).length).toBeGreaterThan(0);
  });

  it('retries 529 twice then succeeds; the envelope stays queued meanwhile', async () => {
    h = await createHarness();
    h.api.script(
      { status: 529, errorType: 'overloaded_error', message: 'Overloaded', retryAfterS: 0 },
      { status: 529, errorType: 'overloaded_error', message: 'Overloaded', retryAfterS: 0 },
    );
    await h.startRelay();
    h.enqueue('session-1', 'hello');
    await h.waitFile(h.input('session-1'));
    expect(h.api.requests).toHaveLength(3);
    expect((await h.waitStatus((s) => s.state === 'running')).last_error).toBeNull();
  });

  it('a bad key pauses with the API message, keeps the envelope, and /resume retries', async () => {
    h = await createHarness({ api: { apiKey: 'sk-the-right-one-123456' } });
    await h.startRelay();
    const name = h.enqueue('session-1', 'hello');
    const s = await h.waitStatus((s) => s.state === 'error');
    expect(s.pause_message).toMatch(/401/);
    expect(s.pause_message).toMatch(/authentication_error/);
    expect(fs.existsSync(path.join(h.paths.queue, name))).toBe(true);
    await h.ntfy.waitFor((m) => m.priority === 5 && /API error/.test(m.title ?? ''));
    await say('/resume');
    await h.waitStatus((s) => s.state === 'error' && h.api.requests.length === 2);
    expect(fs.existsSync(path.join(h.paths.queue, name))).toBe(true);
  });

  it('kill -9 with a reply waiting, then restart: the reply is delivered and not re-asked', async () => {
    h = await createHarness();
    await h.startRelay();
    h.enqueue('session-1', 'one');
    await h.waitFile(h.input('session-1'));
    h.enqueue('session-1', 'two');
    await h.waitStatus((s) => s.sessions['session-1'].pending === 1);
    h.relay!.kill('SIGKILL');
    await h.relay;
    h.relay = undefined;
    const requestsBefore = h.api.requests.length;
    fs.rmSync(h.input('session-1'));
    await h.startRelay();
    const second = await h.waitFile(h.input('session-1'));
    expect(second).toContain('(#2)');
    expect(h.api.requests.length).toBe(requestsBefore);
    const s = await h.waitStatus((s) => s.sessions['session-1'].turns === 2);
    expect(s.queue_depth).toBe(0);
  });

  it('status.json persists across restarts and works with the relay down', async () => {
    h = await createHarness();
    await h.startRelay();
    h.enqueue('session-1', 'hi');
    await h.waitFile(h.input('session-1'));
    const before = await h.waitStatus((s) => s.sessions['session-1'].turns === 1);
    await h.stopRelay();
    const down = await h.cli(['status', '--root', h.root]);
    expect(down.exitCode).toBe(0);
    expect(down.stdout).toMatch(/NOT running/);
    const json = JSON.parse((await h.cli(['status', '--json', '--root', h.root])).stdout);
    expect(json.running).toBe(false);
    expect(json.total_cost_usd).toBeCloseTo(before.total_cost_usd, 10);
    await h.startRelay();
    const after = h.status()!;
    expect(after.total_cost_usd).toBeCloseTo(before.total_cost_usd, 10);
    expect(after.sessions['session-1'].turns).toBe(1);
  });

  it('never writes the API key anywhere but .env-free environment, and never prints it', async () => {
    h = await createHarness({ api: { apiKey: 'nope-wrong-key-000000' } });
    await h.startRelay();
    h.enqueue('session-1', 'hello');
    await h.waitStatus((s) => s.state === 'error');
    await h.stopRelay();
    const key = h.env.ANTHROPIC_API_KEY;
    const walk = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
    for (const f of walk(h.root)) {
      if (path.basename(f) === '.env') continue;
      expect(fs.readFileSync(f, 'utf8'), f).not.toContain(key);
    }
    expect(h.output()).not.toContain(key);
    for (const m of h.ntfy.messages) expect(JSON.stringify(m)).not.toContain(key);
  });
});

describe('process contract', () => {
  it('a second relay on the same root exits 3 naming the pid; SIGTERM exits 0 and releases the lock', async () => {
    h = await createHarness();
    await h.startRelay();
    const pid = h.status()!.pid;
    const second = await h.cli(['--no-ui', '--root', h.root]);
    expect(second.exitCode).toBe(3);
    expect(second.stderr).toContain(String(pid));
    const child = h.relay!;
    child.kill('SIGTERM');
    const r = await child;
    h.relay = undefined;
    expect(r.exitCode).toBe(0);
    expect(fs.existsSync(h.paths.lock)).toBe(false);
  });

  it('a stale lock from a killed relay is taken over', async () => {
    h = await createHarness();
    await h.startRelay();
    h.relay!.kill('SIGKILL');
    await h.relay;
    h.relay = undefined;
    expect(fs.existsSync(h.paths.lock)).toBe(true);
    await h.startRelay();
    expect(h.status()!.state).toBe('running');
  });

  it('without a key: exit 4, says where to put it and that --demo needs none', async () => {
    h = await createHarness();
    h.writeConfig({});
    const r = await h.cli(['--no-ui', '--root', h.root], { env: { ANTHROPIC_API_KEY: '' } });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(path.join(h.root, '.env'));
    expect(r.stderr).toContain('--demo');
  });

  it('bad config: exit 4 naming file, key and problem; unknown key only warns', async () => {
    h = await createHarness();
    fs.writeFileSync(h.paths.config, 'max_tokens: lots\n');
    const r = await h.cli(['--no-ui', '--root', h.root]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(h.paths.config);
    expect(r.stderr).toContain('max_tokens');
    fs.writeFileSync(h.paths.config, 'sessions: [{id: session-1}]\nmodle: claude-opus-4-7\n');
    await h.startRelay();
    expect(h.output()).toMatch(/unknown key modle/);
  });

  it('without a TTY the TUI says so and suggests --no-ui (exit 2)', async () => {
    h = await createHarness();
    const r = await h.cli(['--root', h.root]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--no-ui');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('say with no relay running queues the input and says so; it is applied at start', async () => {
    h = await createHarness();
    h.writeConfig({});
    const r = await h.cli(['say', '--root', h.root, '/pause']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/no relay is running/);
    await h.startRelay();
    await h.waitStatus((s) => s.state === 'paused' && s.pause_reason === 'operator');
  });

  it('recv --wait times out with exit 1; send - reads stdin', async () => {
    h = await createHarness();
    h.writeConfig({});
    const r = await h.cli(['recv', '--root', h.root, '--session', 'session-1', '--wait', '--timeout', '0.3']);
    expect(r.exitCode).toBe(1);
    const s = await h.cli(['send', '--root', h.root, '--session', 'session-1', '-'], { input: 'from stdin' });
    expect(s.exitCode).toBe(0);
    const file = path.join(h.root, s.stdout.trim());
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ session_id: 'session-1', content: 'from stdin' });
  });
});
