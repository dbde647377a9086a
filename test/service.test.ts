import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { shellWords } from '../src/commands/doctor/checks-claude.js';
import { envFileHazards, systemdWord, unitName } from '../src/commands/service.js';
import { DEFAULT_CONFIG_YAML } from '../src/config/defaults.js';
import { startFakeApi, type FakeApi } from '../src/demo/fake-api.js';
import { startFakeNtfy, type FakeNtfy } from '../src/demo/ntfy/fake-ntfy.js';
import { ensureLayout, rootPaths } from '../src/protocol/root.js';
import { CLI, waitFor } from './helpers/harness.js';

// These spawn the real CLI (a node start-up each): bounds for a loaded two-core machine, not durations.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

let tmp: string;
let root: string;
let xdg: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-service-'));
  // A space and a % in the path: both need care in a unit file.
  root = path.join(tmp, 'my relay 100%');
  xdg = path.join(tmp, 'xdg');
  ensureLayout(rootPaths(root));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const service = (args: string[]) =>
  execa('node', [CLI, 'service', 'install', '--root', root, ...args], { env: { XDG_CONFIG_HOME: xdg }, reject: false });

/** What systemd makes of an ExecStart line: words split with quotes, then %% and $$ unescaped. */
const execStart = (unit: string) => shellWords(unit.match(/^ExecStart=(.*)$/m)![1]).map((w) => w.replace(/%%/g, '%').replace(/\$\$/g, '$'));
const key = (unit: string, k: string) => unit.match(new RegExp(`^${k}=(.*)$`, 'm'))?.[1];

describe('relay-tui service install', () => {
  it('--print shows a user unit for --no-ui on this root with absolute paths, and writes nothing', async () => {
    const r = await service(['--user', '--print']);
    expect(r.exitCode, r.stderr).toBe(0);
    const unit = r.stdout;
    const [node, entry, ...rest] = execStart(unit);
    expect(node).toBe(process.execPath);
    expect(path.isAbsolute(entry) && fs.existsSync(entry)).toBe(true);
    expect(entry).toBe(path.resolve(CLI));
    expect(rest).toEqual(['--no-ui', '--root', root]);
    expect(key(unit, 'Restart')).toBe('on-failure');
    expect(key(unit, 'RestartPreventExitStatus')).toBe('2 3 4');
    expect(key(unit, 'EnvironmentFile')).toBe(`-"${path.join(root, '.env').replace(/%/g, '%%')}"`);
    expect(key(unit, 'StandardOutput')).toBe('journal');
    expect(key(unit, 'WantedBy')).toBe('default.target');
    expect(key(unit, 'User')).toBeUndefined();
    expect(r.stderr).toContain('nothing was written');
    expect(r.stderr).toContain('systemctl --user enable --now relay-tui-my-relay-100-');
    expect(fs.existsSync(xdg)).toBe(false);
  });

  it('writes the user unit where systemd looks for it and prints the systemctl commands', async () => {
    const r = await service(['--user']);
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = path.join(xdg, 'systemd', 'user');
    const [file] = fs.readdirSync(dir);
    expect(file).toBe(unitName(root));
    expect(fs.statSync(path.join(dir, file)).mode & 0o777).toBe(0o644);
    expect(r.stdout).toContain(`wrote ${path.join(dir, file)}`);
    expect(r.stdout).toContain('systemctl --user daemon-reload');
    expect(r.stdout).toContain(`journalctl --user -u ${file} -f`);
    expect(r.stdout).toContain('loginctl enable-linger');
    // Idempotent: the same command writes the same unit.
    const before = fs.readFileSync(path.join(dir, file), 'utf8');
    expect((await service(['--user'])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dir, file), 'utf8')).toBe(before);
  });

  it('a system unit runs as the owner of the root and is wanted by multi-user.target', async () => {
    const r = await service(['--print']);
    expect(r.exitCode).toBe(0);
    const uid = fs.statSync(root).uid;
    expect(key(r.stdout, 'User')).toBe(uid === 0 ? 'root' : expect.any(String));
    expect(key(r.stdout, 'WantedBy')).toBe('multi-user.target');
    expect(r.stderr).toContain('/etc/systemd/system/');
    expect(r.stderr).toContain('sudo systemctl enable --now');
  });

  it('warns about .env lines systemd reads differently from the relay', async () => {
    expect(envFileHazards('# c\nA=1\nexport B=2\nC=x # note\nD="y # not a comment"\n')).toEqual([
      'line 3: "export B=": systemd does not take "export"; write B=...',
      'line 4: C has a # comment after it: systemd keeps it as part of the value; put the comment on its own line',
    ]);
    fs.writeFileSync(rootPaths(root).env, 'export ANTHROPIC_API_KEY=sk-ant-x\n', { mode: 0o600 });
    const r = await service(['--user', '--print']);
    expect(r.stderr).toContain(`warning: ${rootPaths(root).env} line 1: "export ANTHROPIC_API_KEY="`);
  });

  it('names units per root and quotes only what needs it', () => {
    expect(unitName('/a/relay')).not.toBe(unitName('/b/relay'));
    expect(unitName('/a/relay')).toMatch(/^relay-tui-relay-[0-9a-f]{6}\.service$/);
    expect(systemdWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdWord('/a b/$HOME%')).toBe('"/a b/$$HOME%%"');
  });
});

describe('the unit ExecStart really runs the relay', () => {
  let api: FakeApi;
  let ntfy: FakeNtfy;
  beforeEach(async () => {
    api = await startFakeApi();
    ntfy = await startFakeNtfy();
  });
  afterEach(async () => {
    await api.close();
    await ntfy.close();
  });

  it('with the environment from EnvironmentFile only, it starts on the root, and SIGTERM ends it with 0', async () => {
    const p = rootPaths(root);
    fs.writeFileSync(p.config, DEFAULT_CONFIG_YAML);
    fs.writeFileSync(
      p.env,
      `ANTHROPIC_API_KEY=sk-ant-service-test\nANTHROPIC_BASE_URL=${api.url}\nNTFY_SERVER=${ntfy.url}\nNTFY_TOPIC=relay-service-topic-0123456789\n`,
      { mode: 0o600 },
    );
    const unit = (await service(['--user', '--print'])).stdout;
    const [cmd, ...args] = execStart(unit);
    const envFile = key(unit, 'EnvironmentFile')!.replace(/^-/, '');
    const env = dotenv.parse(fs.readFileSync(shellWords(envFile)[0].replace(/%%/g, '%'), 'utf8'));
    // systemd starts services with next to no environment: no PATH of the user's, no RELAY_ROOT.
    const child = execa(cmd, args, {
      cwd: shellWords(key(unit, 'WorkingDirectory')!)[0].replace(/%%/g, '%'),
      env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    try {
      await waitFor(
        () => {
          try {
            const up = JSON.parse(fs.readFileSync(p.status, 'utf8')).pid === child.pid;
            return up && fs.readFileSync(p.log, 'utf8').includes(`relay started on ${root}`) ? true : undefined;
          } catch {
            return undefined;
          }
        },
        p.state,
        20_000,
        () => out,
      );
    } finally {
      child.kill('SIGTERM');
    }
    const r = await child;
    expect(r.exitCode, out).toBe(0);
  });
});
