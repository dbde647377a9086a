import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TESTED_CLAUDE_CODE_VERSIONS } from '../src/commands/doctor/claude-versions.js';
import { checkClaudeCode, checkProjectHooks, shellWords } from '../src/commands/doctor/checks-claude.js';
import { checkInotify, type Finding } from '../src/commands/doctor/checks-local.js';
import { runDoctor } from '../src/commands/doctor/doctor.js';
import { hookSpecs, installCommand } from '../src/commands/hook/install.js';
import { DEFAULT_CONFIG_YAML } from '../src/config/defaults.js';
import { startFakeApi, type FakeApi } from '../src/demo/fake-api.js';
import { startFakeNtfy, type FakeNtfy } from '../src/demo/ntfy/fake-ntfy.js';
import { ensureLayout, rootPaths, type RootPaths } from '../src/protocol/root.js';
import { CLI } from './helpers/harness.js';

// These spawn the real CLI (a node start-up each): bounds for a loaded two-core machine, not durations.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const KEY = 'sk-ant-doctor-0123456789abcdef';
const TOPIC = 'relay-doctor-topic-0123456789';

let api: FakeApi;
let ntfy: FakeNtfy;
let tmp: string;
let root: string;
let p: RootPaths;
let bin: string;

beforeAll(async () => {
  api = await startFakeApi({ apiKey: KEY });
  ntfy = await startFakeNtfy();
});
afterAll(async () => {
  await api.close();
  await ntfy.close();
});

/** A fake `claude` on a PATH of its own, printing what a real one prints. */
function fakeClaude(output: string): void {
  fs.writeFileSync(path.join(bin, 'claude'), `#!/bin/sh\necho '${output}'\n`, { mode: 0o755 });
}

function env(over: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: `${bin}:/usr/bin:/bin`, ANTHROPIC_BASE_URL: api.url, NTFY_SERVER: ntfy.url, ...over };
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-doctor-'));
  root = path.join(tmp, 'root');
  bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  p = rootPaths(root);
  ensureLayout(p);
  fs.writeFileSync(
    p.config,
    DEFAULT_CONFIG_YAML.replace(/^sessions:[\s\S]*?(?=^\S)/m, 'sessions:\n  - id: session-1\n    description: one\n'),
  );
  fs.writeFileSync(p.env, `ANTHROPIC_API_KEY=${KEY}\nNTFY_TOPIC=${TOPIC}\n`, { mode: 0o600 });
  fakeClaude(`${TESTED_CLAUDE_CODE_VERSIONS[TESTED_CLAUDE_CODE_VERSIONS.length - 1]} (Claude Code)`);
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const failures = (fs: Finding[]) => fs.filter((f) => f.level === 'fail').map((f) => f.text);
const find = (fs: Finding[], re: RegExp) => fs.find((f) => re.test(f.text));

describe('relay-tui doctor', () => {
  it('a good set-up: nothing fails, each part says ok, and nothing is spent', async () => {
    const project = path.join(tmp, 'proj');
    fs.mkdirSync(project);
    const quiet = { out: () => {}, err: () => {} };
    expect(installCommand({ root, session: 'session-1', project, print: false }, quiet)).toBe(0);
    const before = api.totals();
    const out = await runDoctor({ root, projects: [project], env: env() });
    expect(failures(out)).toEqual([]);
    for (const re of [
      /^node /,
      /^relay root /,
      /^state\/ is mode 0700/,
      /^\.env is mode 0600/,
      /^API key accepted by/,
      /^model claude-\S+ is known/,
      /^ntfy server .* reachable, the topic readable/,
      /max_user_watches/,
      /the Stop hook for session-1 .*points at this root/,
      /the Notification hook/,
      /^Claude Code \d/,
    ]) {
      expect(find(out, re)?.level, `${re}\n${out.map((f) => `${f.level} ${f.text}`).join('\n')}`).toBe('ok');
    }
    // count_tokens is not a billed call; the fake counts only /v1/messages requests.
    expect(api.totals()).toEqual(before);
  });

  it('a refused key and an unknown model are failures with the API message and the fix', async () => {
    const badKey = await runDoctor({ root, projects: [], env: env({ ANTHROPIC_API_KEY: 'sk-ant-wrong' }) });
    const refused = find(badKey, /API key refused/)!;
    expect(refused.level).toBe('fail');
    expect(refused.text).toContain(`${api.url} (ANTHROPIC_BASE_URL): invalid x-api-key`);
    expect(refused.fix).toContain(p.env);

    fs.writeFileSync(p.config, fs.readFileSync(p.config, 'utf8').replace(/^model: .*$/m, 'model: claude-nonesuch-9'));
    const badModel = await runDoctor({ root, projects: [], env: env() });
    expect(find(badModel, /API key accepted/)?.level).toBe('ok');
    const model = find(badModel, /^model claude-nonesuch-9/)!;
    expect(model.level).toBe('fail');
    expect(model.text).toContain('not known to the API (model: claude-nonesuch-9)');
    expect(model.fix).toMatch(/model: in config.yaml/);
  });

  it('a deprecated model in config.yaml warns with its retirement date and what to change', async () => {
    fs.writeFileSync(p.config, fs.readFileSync(p.config, 'utf8').replace(/^model: .*$/m, 'model: claude-sonnet-4-5'));
    const f = find(await runDoctor({ root, projects: [], env: env() }), /config\.yaml: model claude-sonnet-4-5/)!;
    expect(f.level).toBe('warn');
    expect(f.text).toMatch(/retire[sd]? on 2026-11-30/);
    expect(f.fix).toBe('change model: in config.yaml');
  });

  it('modes and symlinks where the relay refuses them are failures with the command that fixes them', async () => {
    fs.chmodSync(p.env, 0o644);
    fs.chmodSync(p.state, 0o755);
    fs.mkdirSync(path.join(tmp, 'elsewhere'));
    fs.symlinkSync(path.join(tmp, 'elsewhere'), path.join(p.dispatch, 'session-1'));
    fs.mkdirSync(path.join(p.dispatch, 'session-2'));
    execFileSync('mkfifo', [path.join(p.dispatch, 'session-2', 'input.txt')]);
    const out = await runDoctor({ root, projects: [], env: env() });
    expect(find(out, /^\.env is mode 0644/)).toMatchObject({ level: 'fail', fix: `chmod 600 ${p.env}` });
    expect(find(out, /^state\/ is mode 0755/)).toMatchObject({ level: 'fail', fix: `chmod 700 ${p.state}` });
    const links = find(out, /dispatch\/session-1 is a symlink/)!;
    expect(links.level).toBe('fail');
    expect(links.text).toContain('dispatch/session-2/input.txt is a FIFO');
  });

  it('a folder that is not a root: one failure saying how to make one; doctor creates nothing there', async () => {
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    const r = await execa('node', [CLI, 'doctor', '--timeout', '2'], { cwd: empty, env: { ...env(), RELAY_ROOT: '' }, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`fail  not a relay root: ${empty} (from the current directory): no state/ in it`);
    expect(r.stdout).toContain(`fix: start the relay there once: relay-tui --no-ui --root ${empty}`);
    expect(r.stdout).toMatch(/fail {2}ANTHROPIC_API_KEY is not set/);
    expect(r.stdout).toMatch(/failures?, \d+ warnings?: fix the failures/);
    expect(fs.readdirSync(empty)).toEqual([]);
  });

  it('the CLI exits 0 when nothing fails', async () => {
    const r = await execa('node', [CLI, 'doctor', '--root', root], { env: env(), extendEnv: false, reject: false });
    expect(r.stdout, r.stdout).toMatch(/\nno failures/);
    expect(r.exitCode).toBe(0);
  });

  it('an API that refuses connections names the URL and the cause; one that never answers is bounded', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const refused = await runDoctor({ root, projects: [], env: env({ ANTHROPIC_BASE_URL: `http://127.0.0.1:${closed}` }) });
    expect(find(refused, /cannot reach the Messages API/)).toMatchObject({
      level: 'fail',
      text: `cannot reach the Messages API at http://127.0.0.1:${closed} (ANTHROPIC_BASE_URL): connection refused (nothing listens there)`,
    });

    // Accepts and never answers: the check gives up after --timeout.
    const sockets: net.Socket[] = [];
    const stall = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(stall.address() as net.AddressInfo).port}`;
      const out = await runDoctor({ root, projects: [], timeoutS: 1, env: env({ ANTHROPIC_BASE_URL: url, NTFY_SERVER: url }) });
      expect(find(out, /Messages API/)).toMatchObject({
        level: 'fail',
        text: `cannot reach the Messages API at ${url} (ANTHROPIC_BASE_URL): no answer in time`,
      });
      expect(find(out, /ntfy server/)).toMatchObject({ level: 'fail' });
      expect(find(out, /ntfy server/)!.text).toContain('no answer in time');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => stall.close(r));
    }
  });

  it('ntfy: a short topic warns; a server that wants a token and a wrong token fail', async () => {
    fs.writeFileSync(p.env, `ANTHROPIC_API_KEY=${KEY}\nNTFY_TOPIC=short\n`, { mode: 0o600 });
    const short = await runDoctor({ root, projects: [], env: env() });
    expect(find(short, /NTFY_TOPIC is only 5 characters/)?.level).toBe('warn');

    const guarded = await startFakeNtfy({ token: 'tk_right' });
    try {
      const none = await runDoctor({ root, projects: [], env: env({ NTFY_SERVER: guarded.url }) });
      expect(find(none, /refuses the topic/)).toMatchObject({
        level: 'fail',
        text: `ntfy server ${guarded.url} refuses the topic (HTTP 403)`,
      });
      const wrong = await runDoctor({ root, projects: [], env: env({ NTFY_SERVER: guarded.url, NTFY_TOKEN: 'tk_wrong' }) });
      expect(find(wrong, /refuses the topic/)!.fix).toBe(`check NTFY_TOKEN in ${p.env}`);
      const right = await runDoctor({ root, projects: [], env: env({ NTFY_SERVER: guarded.url, NTFY_TOKEN: 'tk_right' }) });
      expect(find(right, /ntfy server/)?.level).toBe('ok');
    } finally {
      await guarded.close();
    }
  });

  it('hooks missing, pointing at another root, or at a relay-tui that is gone are failures with the install command', () => {
    const project = path.join(tmp, 'proj');
    fs.mkdirSync(path.join(project, '.claude'), { recursive: true });
    const settings = (hooks: { event: string; command: string; async?: boolean; asyncRewake?: boolean }[]) =>
      fs.writeFileSync(
        path.join(project, '.claude', 'settings.json'),
        // Grouped by event: hook install writes two Stop entries (the windowed hook and the late-reply waiter).
        JSON.stringify({
          hooks: hooks.reduce<Record<string, unknown[]>>(
            (acc, h) => ({
              ...acc,
              [h.event]: [
                ...(acc[h.event] ?? []),
                { hooks: [{ type: 'command', command: h.command, async: h.async, asyncRewake: h.asyncRewake }] },
              ],
            }),
            {},
          ),
        }),
      );
    const cfg = undefined;
    const none = checkProjectHooks(project, root, cfg);
    expect(none.map((f) => f.level)).toEqual(['fail', 'fail']);
    expect(none[0].fix).toBe(`relay-tui hook install --session ID --project ${project} --root ${root}`);

    settings(hookSpecs({ bin: '/opt/relay tui/bin/relay-tui.js', session: 'session-1', root: path.join(tmp, 'other root') }));
    const other = checkProjectHooks(project, root, cfg);
    expect(other[0]).toMatchObject({
      level: 'fail',
      text: expect.stringContaining(`points at ${path.join(tmp, 'other root')}, not at this root ${root}`),
    });
    expect(other[0].fix).toContain('--session session-1');

    settings(hookSpecs({ bin: '/opt/gone/bin/relay-tui.js', session: 'session-1', root }));
    expect(checkProjectHooks(project, root, cfg)[0].text).toContain('runs /opt/gone/bin/relay-tui.js, which does not exist');
    expect(checkProjectHooks(path.join(tmp, 'nope'), root, cfg)[0].level).toBe('fail');

    // The late-reply waiter: installed as hook install writes it, missing (an older install), or without asyncRewake.
    const specs = hookSpecs({ bin: process.execPath, session: 'session-1', root });
    settings(specs);
    expect(find(checkProjectHooks(project, root, cfg), /late-reply waiter/)).toMatchObject({ level: 'ok' });
    settings(specs.filter((h) => !h.asyncRewake));
    const missing = find(checkProjectHooks(project, root, cfg), /late-reply waiter/)!;
    expect(missing).toMatchObject({ level: 'warn', text: expect.stringContaining('no relay-tui late-reply waiter') });
    expect(missing.fix).toContain('hook install --session session-1');
    settings(specs.map((h) => ({ ...h, asyncRewake: undefined })));
    expect(find(checkProjectHooks(project, root, cfg), /late-reply waiter/)?.text).toContain('lacks async/asyncRewake');

    // A FIFO where settings.json should be is a failure, not a doctor that blocks reading it.
    fs.rmSync(path.join(project, '.claude', 'settings.json'));
    execFileSync('mkfifo', [path.join(project, '.claude', 'settings.json')]);
    expect(checkProjectHooks(project, root, cfg)[0]).toMatchObject({
      level: 'fail',
      text: expect.stringContaining('settings.json: not a regular file'),
    });
  });

  it('splits hook commands the way the shell does', () => {
    expect(shellWords(`node '/a b/relay-tui.js' hook stop --session s --root '/r '\\''x'`)).toEqual([
      'node',
      '/a b/relay-tui.js',
      'hook',
      'stop',
      '--session',
      's',
      '--root',
      "/r 'x",
    ]);
    expect(shellWords('a "b \\" c" d\\ e')).toEqual(['a', 'b " c', 'd e']);
  });

  it('Claude Code: a tested version is ok; older, newer, absent or silent warn', async () => {
    const e = env();
    fakeClaude('2.1.197 (Claude Code)');
    expect(await checkClaudeCode(5000, e, ['2.1.197', '2.2.5'])).toMatchObject({ level: 'ok' });
    fakeClaude('2.0.3 (Claude Code)');
    expect(await checkClaudeCode(5000, e, ['2.1.197', '2.2.5'])).toMatchObject({
      level: 'warn',
      text: 'Claude Code 2.0.3 is older than the versions the hooks were tested with (2.1.197, 2.2.5)',
    });
    fakeClaude('2.3.0 (Claude Code)');
    expect((await checkClaudeCode(5000, e, ['2.1.197', '2.2.5'])).text).toContain('is newer than');
    fakeClaude('2.2.0 (Claude Code)');
    expect((await checkClaudeCode(5000, e, ['2.1.197', '2.2.5'])).level).toBe('ok');
    fs.writeFileSync(path.join(bin, 'claude'), '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    expect((await checkClaudeCode(300, e)).text).toMatch(/no answer within 0.3 s/);
    fs.rmSync(path.join(bin, 'claude'));
    expect((await checkClaudeCode(5000, e)).text).toBe('claude (Claude Code) is not on PATH');
  });

  it('--remote (or RELAY_REMOTE) adds the remote check: a bad target and an unreachable host are failures with the fix; none given, no remote line', async () => {
    const none = await runDoctor({ root, projects: [], env: env() });
    expect(none.filter((f) => f.text.startsWith('remote:'))).toEqual([]);
    const badSpec = await runDoctor({ root, projects: [], env: env(), remote: 'user@:/x' });
    expect(find(badSpec, /^remote: /)).toMatchObject({ level: 'fail', fix: 'write it as [USER@]HOST[:ROOT]' });
    // A loopback port nobody listens on: ssh fails fast, and the line says what to check.
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const down = await runDoctor({
      root,
      projects: [],
      env: env({ RELAY_REMOTE: 'nobody@127.0.0.1:/srv/relay', RELAY_SSH: `ssh -p ${port} -o ConnectTimeout=5` }),
    });
    const line = find(down, /^remote: /)!;
    expect(line.level, line.text).toBe('fail');
    expect(line.fix).toMatch(/sshd runs there/);
  });

  it('inotify limits: low ones warn with the sysctl to raise them; none readable warns once', () => {
    const proc = path.join(tmp, 'inotify');
    fs.mkdirSync(proc);
    fs.writeFileSync(path.join(proc, 'max_user_watches'), '4096\n');
    fs.writeFileSync(path.join(proc, 'max_user_instances'), '1024\n');
    const out = checkInotify(proc);
    expect(out[0]).toMatchObject({ level: 'warn', text: expect.stringContaining('max_user_watches is 4096') });
    expect(out[0].fix).toContain('sysctl fs.inotify.max_user_watches=');
    expect(out[1].level).toBe('ok');
    expect(checkInotify(path.join(tmp, 'absent'))).toHaveLength(1);
    // On macOS there is no /proc and no inotify: no warning about limits that do not exist there.
    expect(checkInotify(path.join(tmp, 'absent'), 'darwin')).toEqual([
      expect.objectContaining({ level: 'ok', text: expect.stringContaining('does not use inotify') }),
    ]);
  });
});

describe('the fake Messages API answers count_tokens like the real one', () => {
  const post = (body: unknown, key = KEY) =>
    fetch(`${api.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
    });
  const msg = { messages: [{ role: 'user', content: 'Hello there, how are you?' }] };

  it('200 with input_tokens for a known model, bare or dated; no max_tokens needed', async () => {
    for (const model of ['claude-opus-4-7', 'claude-sonnet-4-5-20250929']) {
      const r = await post({ model, ...msg });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { input_tokens: number };
      expect(Object.keys(body)).toEqual(['input_tokens']);
      expect(body.input_tokens).toBeGreaterThan(0);
    }
  });

  it('404 not_found_error naming an unknown model, 401 for a bad key, 400 for a bad body', async () => {
    const unknown = await post({ model: 'claude-nonesuch-9', ...msg });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: 'model: claude-nonesuch-9' } });
    const badKey = await post({ model: 'claude-opus-4-7', ...msg }, 'sk-ant-wrong');
    expect(badKey.status).toBe(401);
    expect(((await badKey.json()) as any).error.type).toBe('authentication_error');
    const badBody = await post({ model: 'claude-opus-4-7', messages: [] });
    expect(badBody.status).toBe(400);
  });
});
