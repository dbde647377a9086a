import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closest, findCommand, parseOptions, UsageError } from '../src/cli/args.js';
import { ensureLayout, rootPaths } from '../src/protocol/root.js';
import { CLI, createHarness, type Harness } from './helpers/harness.js';

// These spawn the real CLI (a node start-up each): bounds for a loaded two-core machine, not durations.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

/** The real CLI from a scratch directory, with no RELAY_ROOT leaking in from the caller. */
async function run(args: string[], o: { cwd: string; env?: Record<string, string>; input?: string }) {
  const env = { ...process.env, ...o.env };
  if (!o.env?.RELAY_ROOT) delete env.RELAY_ROOT;
  const r = await execa('node', [CLI, ...args], {
    cwd: o.cwd,
    env,
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    input: o.input,
    stdin: o.input === undefined ? 'ignore' : undefined,
  });
  return { stdout: String(r.stdout), stderr: String(r.stderr), code: r.exitCode };
}

const lines = (s: string) => s.split('\n').filter(Boolean);
const quotesBalanced = (s: string) => (s.match(/'/g) ?? []).length % 2 === 0 && (s.match(/"/g) ?? []).length % 2 === 0;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-cli-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('argument parsing', () => {
  it('finds the command before or after the global options', () => {
    const takes = (o: string) => o === 'root' || o === 'session';
    expect(findCommand(['--root', 'R', 'status', '--json'], takes)).toEqual({ command: 'status', rest: ['--root', 'R', '--json'] });
    expect(findCommand(['status', '--root=R'], takes)).toEqual({ command: 'status', rest: ['--root=R'] });
    expect(findCommand(['--no-ui'], takes)).toEqual({ rest: ['--no-ui'] });
  });

  it('takes values inline or next, repeats a multiple option, keeps what follows -- as text', () => {
    const table = {
      root: { type: 'string', arg: 'DIR' },
      project: { type: 'string', arg: 'DIR', multiple: true },
      json: { type: 'boolean' },
    } as const;
    const p = parseOptions(['--root=a', '--project', 'x', '--project=y', '--json', 'word', '--', '--not-an-option'], table, 'relay-tui t');
    expect(p.values).toEqual({ root: 'a', project: ['x', 'y'], json: true });
    expect(p.positionals).toEqual(['word', '--not-an-option']);
  });

  it('refuses a value for a flag, a missing value and an option that swallows the next one', () => {
    const table = { root: { type: 'string', arg: 'DIR' }, json: { type: 'boolean' } } as const;
    expect(() => parseOptions(['--json=3'], table, 'relay-tui t')).toThrow('--json takes no value (got --json=3)');
    expect(() => parseOptions(['--root'], table, 'relay-tui t')).toThrow('--root needs a value: --root DIR');
    expect(() => parseOptions(['--root', '--json'], table, 'relay-tui t')).toThrow(/--root needs a value.*got --json/);
    expect(() => parseOptions(['--nope'], table, 'relay-tui t', 't')).toThrow(UsageError);
  });

  it('suggests the command meant, and nothing for a word far from any', () => {
    const cmds = ['status', 'send', 'recv', 'say', 'doctor', 'service'];
    expect(closest('sned', cmds)).toBe('send');
    expect(closest('stauts', cmds)).toBe('status');
    expect(closest('doc', cmds)).toBe('doctor');
    expect(closest('banana', cmds)).toBeUndefined();
  });
});

describe('messages from the real CLI', () => {
  it('a mistyped command: one message, the hint once, a suggestion, exit 2', async () => {
    const r = await run(['sned', '--session', 's', 'hi'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('relay-tui: unknown command sned; did you mean send?\n  see relay-tui --help\n');
    expect(r.stderr.match(/--help/g)).toHaveLength(1);
  });

  it('a mistyped option names the command, lists its options, quotes balanced, hint once to that command', async () => {
    for (const args of [['--foo'], ['status', '--jsno'], ['send', '-x'], ['recv', '--timeout']]) {
      const r = await run(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(lines(r.stderr), r.stderr).toHaveLength(2);
      expect(quotesBalanced(r.stderr), r.stderr).toBe(true);
      expect(r.stderr.match(/see relay-tui/g)).toHaveLength(1);
    }
    const r = await run(['status', '--jsno'], { cwd: dir });
    expect(r.stderr).toBe(
      'relay-tui: relay-tui status has no option --jsno (its options: --root --help --json)\n  see relay-tui status --help\n',
    );
  }, 120_000);

  it('every command has its own --help (and relay-tui help COMMAND says the same)', async () => {
    const cmds = ['status', 'cost', 'topic', 'say', 'send', 'recv', 'hook', 'doctor', 'service'];
    // Side by side: each is a node start-up, and nothing here depends on another.
    const [general, ...helps] = await Promise.all([
      run(['--help'], { cwd: dir }),
      ...cmds.map((cmd) => run([cmd, '--help'], { cwd: dir })),
    ]);
    expect(general.stdout).toContain('relay-tui doctor');
    cmds.forEach((cmd, i) => {
      const r = helps[i];
      expect(r.code, cmd).toBe(0);
      expect(r.stdout.startsWith(`Usage: relay-tui ${cmd}`), r.stdout).toBe(true);
      expect(r.stdout).not.toBe(general.stdout);
    });
    const [viaHelp, install] = await Promise.all([run(['help', 'send'], { cwd: dir }), run(['hook', 'install', '--help'], { cwd: dir })]);
    expect(viaHelp.stdout).toBe(helps[cmds.indexOf('send')].stdout);
    // --help wins over everything else on the line, and needs no root.
    expect(install.stdout).toContain('relay-tui hook install --session ID');
    expect(fs.readdirSync(dir)).toEqual([]);
  }, 120_000);
});

describe('a root is created on purpose', () => {
  const commands: [string, string[]][] = [
    ['send', ['send', '--session', 'session-1', 'hello']],
    ['recv', ['recv', '--session', 'session-1']],
    ['say', ['say', '/pause']],
    ['topic', ['topic']],
    ['status', ['status']],
    ['cost', ['cost']],
    ['hook install', ['hook', 'install', '--session', 'session-1', '--project', '.']],
    ['service install', ['service', 'install', '--user', '--print']],
  ];

  it.each(commands)(
    '%s refuses a folder that is not a root: one line, exit 2, names it and what chose it, creates nothing',
    async (_name, args) => {
      const typo = path.join(dir, 'relay-rooot');
      const byFlag = await run([...args, '--root', typo], { cwd: dir });
      expect(byFlag.code).toBe(2);
      expect(byFlag.stderr).toBe(
        `relay-tui: not a relay root: ${typo} (from --root): no such directory; start the relay there once (relay-tui --no-ui --root ${typo}) or give the right --root\n`,
      );
      expect(fs.existsSync(typo)).toBe(false);

      expect(byFlag.stdout).toBe('');
    },
    60_000,
  );

  it.each(commands.filter(([name]) => name === 'say' || name === 'hook install'))(
    '%s names $RELAY_ROOT or the current directory when that chose the folder',
    async (_name, args) => {
      const typo = path.join(dir, 'relay-rooot');
      const byEnv = await run(args, { cwd: dir, env: { RELAY_ROOT: typo } });
      expect(byEnv.code).toBe(2);
      expect(lines(byEnv.stderr)).toHaveLength(1);
      expect(byEnv.stderr).toContain(`${typo} (from $RELAY_ROOT)`);

      const byCwd = await run(args, { cwd: dir });
      expect(byCwd.code).toBe(2);
      expect(lines(byCwd.stderr)).toHaveLength(1);
      expect(byCwd.stderr).toContain(
        `not a relay root: ${dir} (from the current directory; no --root or $RELAY_ROOT given): no state/ in it`,
      );
      expect(byCwd.stdout).toBe('');
      expect(fs.readdirSync(dir)).toEqual([]);
    },
    60_000,
  );

  it('a checkout with a config.yaml is still not a root; a state/ that is a symlink or a file is refused', async () => {
    fs.writeFileSync(path.join(dir, 'config.yaml'), 'model: claude-opus-4-7\n');
    expect((await run(['say', 'hi'], { cwd: dir })).code).toBe(2);
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-cli-elsewhere-'));
    try {
      fs.symlinkSync(elsewhere, path.join(dir, 'state'));
      const r = await run(['say', 'hi'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('its state/ is a symlink');
      expect(fs.readdirSync(elsewhere)).toEqual([]);
      fs.unlinkSync(path.join(dir, 'state'));
      fs.writeFileSync(path.join(dir, 'state'), '');
      expect((await run(['status'], { cwd: dir })).stderr).toContain('its state/ is not a directory');
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('hook stop and notify on a folder that is not a root: one line, exit 0 (exit 2 would block Claude Code)', async () => {
    for (const sub of ['stop', 'notify']) {
      const r = await run(['hook', sub, '--session', 'session-1'], { cwd: dir, input: '{}' });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/^relay-tui hook: not a relay root: .*letting Claude Code go on\n$/);
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('on a root the commands work, and hook install writes the root as an absolute path from a relative --root', async () => {
    const root = path.join(dir, 'relay');
    ensureLayout(rootPaths(root));
    fs.mkdirSync(path.join(dir, 'proj'));
    const sent = await run(['send', '--root', 'relay', '--session', 'session-1', 'hello'], { cwd: dir });
    expect(sent.code).toBe(0);
    expect(fs.readdirSync(path.join(root, 'queue')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const inst = await run(['hook', 'install', '--session', 'session-1', '--project', 'proj', '--root', 'relay'], { cwd: dir });
    expect(inst.code, inst.stderr).toBe(0);
    const settings = fs.readFileSync(path.join(dir, 'proj', '.claude', 'settings.json'), 'utf8');
    expect(settings).toContain(`--root ${root}`);
    // A link on the way to the root is the user's choice (inside it, links are refused).
    fs.symlinkSync(root, path.join(dir, 'link'));
    const viaLink = await run(['say', '--root', 'link', 'hello'], { cwd: dir });
    expect(viaLink.code, viaLink.stderr).toBe(0);
  });

  it('the relay itself creates a root on its first run', async () => {
    const root = path.join(dir, 'fresh');
    const r = await run(['--no-ui', '--root', root], { cwd: dir, env: { ANTHROPIC_API_KEY: '' } });
    // No key: exit 4 naming where to put it, after the layout was made.
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(path.join(root, '.env'));
    expect(fs.statSync(path.join(root, 'state')).isDirectory()).toBe(true);
    expect((await run(['status', '--root', root], { cwd: dir })).stderr).not.toContain('not a relay root');
  });

  it('the first run in an empty folder says it made a root there and that sessions: is the next thing to edit, then how to set the key', async () => {
    const here = fs.realpathSync(dir);
    const r = await run(['--no-ui'], { cwd: here, env: { ANTHROPIC_API_KEY: '' } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`Created a new relay root in ${here} `);
    expect(r.stderr).toContain(`Next: list your Claude Code sessions under sessions: in ${path.join(here, 'config.yaml')}`);
    expect(r.stderr).toContain('ANTHROPIC_API_KEY is not set');
    expect(r.stderr).toContain(path.join(here, '.env'));
    expect(r.stderr).toContain('relay-tui --demo');
    expect(fs.readFileSync(path.join(here, 'config.yaml'), 'utf8')).toMatch(/^sessions:/m);
    // The second run made nothing: it says only what is still missing.
    const again = await run(['--no-ui'], { cwd: here, env: { ANTHROPIC_API_KEY: '' } });
    expect(again.code).toBe(4);
    expect(again.stderr).not.toContain('Created');
    expect(again.stderr).toContain('ANTHROPIC_API_KEY is not set');
  });
});

describe('status while calls fail', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('says the calls are failing, with the attempt and the error, not just running', async () => {
    // A long retry-after keeps the relay in its retry wait while status is read.
    h = await createHarness({
      api: { respond: () => ({ status: 529, errorType: 'overloaded_error', message: 'Overloaded', retryAfterS: 120 }) },
      // No hidden SDK retries: the relay's own retry is the one status.json shows.
      config: { api: { max_retries: 0, outer_retries: 3, timeout_s: 30 } },
    });
    await h.startRelay();
    h.enqueue('session-1', 'Tests pass.');
    await h.waitStatus((s) => !!s.retry);
    const r = await h.cli(['status', '--root', h.root]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^state: running, but API calls are failing$/m);
    expect(r.stdout).toMatch(/^retrying the API call: attempt 1 of 3 failed \(.*Overloaded.*\); next try at \d\d:\d\d:\d\d$/m);
    const json = JSON.parse((await h.cli(['status', '--json', '--root', h.root])).stdout);
    expect(json.retry.attempt).toBe(1);
  });

  it("shows the SDK's own retries inside one call (api.max_retries), not just running", async () => {
    // The relay's outer retries are off: any retry shown is the SDK's, waiting out the 120 s retry-after.
    h = await createHarness({
      api: { respond: () => ({ status: 529, errorType: 'overloaded_error', message: 'Overloaded', retryAfterS: 120 }) },
      config: { api: { max_retries: 2, outer_retries: 0, timeout_s: 600 } },
    });
    await h.startRelay();
    h.enqueue('session-1', 'Tests pass.');
    const s = await h.waitStatus((st) => !!st.retry);
    expect(s.state).toBe('running');
    expect(s.retry).toMatchObject({ attempt: 1, of: 2 });
    expect(s.retry!.message).toMatch(/^529 overloaded_error: Overloaded \(the SDK's own retry\)$/);
    expect(Date.parse(s.retry!.next_at) - Date.parse(s.updated_at)).toBeGreaterThan(60_000);
    expect(h.api.requests).toHaveLength(1);
    const r = await h.cli(['status', '--root', h.root]);
    expect(r.stdout).toMatch(/^state: running, but API calls are failing$/m);
  });

  it('a clean stop (SIGTERM) leaves status.json saying stopped, and status says so', async () => {
    h = await createHarness();
    await h.startRelay();
    h.enqueue('session-1', 'Tests pass.');
    await h.waitFile(h.input('session-1'));
    expect(h.status()!.state).toBe('running');
    await h.stopRelay();
    expect(h.status()!.state).toBe('stopped');
    const r = await h.cli(['status', '--root', h.root]);
    expect(r.stdout).toMatch(/^state: stopped cleanly$/m);
    expect(fs.readFileSync(h.paths.log, 'utf8')).toMatch(/SIGTERM: finishing the write in hand and stopping[\s\S]*stopped/);
  });
});
