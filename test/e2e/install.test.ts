import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/harness.js';

/**
 * The package as a user gets it: `npm pack`, then `npm install -g` of the tarball into
 * a prefix of its own, and the installed `relay-tui` run from an empty directory with
 * no checkout in sight. Dependencies come from the npm cache (or the registry).
 */

const CHECKOUT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(CHECKOUT, 'package.json'), 'utf8'));

/** npm's own fetch timeout is 5 minutes, the length of the test: a registry that stalls costs 30 s and a retry. */
const NPM_NET = ['--prefer-offline', '--no-audit', '--no-fund', '--fetch-timeout=30000', '--fetch-retries=4'];

let tmp: string;
let empty: string;
let env: Record<string, string>;

/**
 * npm's own settings as the user has them. `--prefix` moves npm's global config file to
 * PREFIX/etc/npmrc and HOME moves the user's, so without these an install reads neither:
 * here the global one holds the `cafile` the registry's TLS needs, and a tarball (no
 * lockfile, dependencies resolved afresh) fetching anything the cache lacks then retried
 * SELF_SIGNED_CERT_IN_CHAIN until the test timed out.
 */
const npmGet = (key: string) => execaSync('npm', ['config', 'get', key]).stdout.trim();
const NPM_CONFIG = { npm_config_globalconfig: npmGet('globalconfig'), npm_config_userconfig: npmGet('userconfig') };

/** The user's shell: the prefix's bin first on PATH, no relay variables, no key. */
function shellEnv(prefix: string): Record<string, string> {
  return {
    PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`,
    HOME: tmp,
    npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm'),
    ...NPM_CONFIG,
  };
}

const relayTui = (args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) =>
  execa('relay-tui', args, { cwd: o.cwd ?? empty, env: o.env ?? env, extendEnv: false, reject: false, stdin: 'ignore' });

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-install-'));
  empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
});
// Two installed dependency trees: removing them takes a while on a busy machine.
afterAll(() => fs.promises.rm(tmp, { recursive: true, force: true }), 120_000);

describe('install and run from any directory', () => {
  it('npm pack holds dist, the default config and .env.example, and nothing else', async () => {
    // --ignore-scripts: pack the dist/ that `npm test` just built; prepack's clean rebuild
    // would pull dist/ from under the other test files running meanwhile.
    const r = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: CHECKOUT });
    const [info] = JSON.parse(r.stdout);
    const files: string[] = info.files.map((f: { path: string }) => f.path);
    expect(info.filename).toBe(`relay-tui-${pkg.version}.tgz`);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/relay-tui.js',
        'config.yaml',
        '.env.example',
        'dist/cli/main.js',
        'dist/demo/fake-api.js',
      ]),
    );
    const stray = files.filter(
      (f) => !/^(package\.json|README\.md|LICENSE|bin\/relay-tui\.js|config\.yaml|\.env\.example|dist\/.+\.js)$/.test(f),
    );
    expect(stray).toEqual([]);
    expect(files.filter((f) => f.startsWith('dist/bench/') || f.endsWith('.map'))).toEqual([]);
  });

  it('the tarball installed globally: help, version, doctor and the demo from an empty directory', async () => {
    const prefix = path.join(tmp, 'prefix');
    const tgz = path.join(tmp, `relay-tui-${pkg.version}.tgz`);
    env = shellEnv(prefix);
    const inst = await execa('npm', ['install', '-g', '--prefix', prefix, ...NPM_NET, tgz], {
      cwd: tmp,
      env,
      extendEnv: false,
      reject: false,
    });
    expect(inst.exitCode, `${inst.stdout}\n${inst.stderr}`).toBe(0);
    // A copy, not a link to the checkout: it must work once the checkout is gone.
    const installed = path.join(prefix, 'lib', 'node_modules', 'relay-tui');
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(fs.existsSync(path.join(installed, 'src'))).toBe(false);
    expect(inst.stderr).not.toMatch(/install-scripts/);

    const help = await relayTui(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('relay-tui doctor');
    expect((await relayTui(['--version'])).stdout).toBe(pkg.version);
    expect((await relayTui(['service', '--help'])).stdout).toMatch(/^Usage: relay-tui service install/);

    const doctor = await relayTui(['doctor', '--timeout', '2']);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain(`fail  not a relay root: ${empty} (from the current directory)`);
    expect(doctor.stdout).toContain('fail  ANTHROPIC_API_KEY is not set');

    const status = await relayTui(['status']);
    expect(status.exitCode).toBe(2);
    expect(status.stderr).toContain(`not a relay root: ${empty}`);
    expect(fs.readdirSync(empty)).toEqual([]);

    // The demo on a root of its own, headless (no TTY here): it relays, status reads it, SIGTERM ends it.
    const root = path.join(empty, 'demo');
    const demo = execa('relay-tui', ['--demo', '--no-ui', '--root', root], {
      cwd: empty,
      env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    let out = '';
    demo.stdout?.on('data', (d) => (out += d));
    demo.stderr?.on('data', (d) => (out += d));
    try {
      await waitFor(
        () => {
          try {
            const s = JSON.parse(fs.readFileSync(path.join(root, 'state', 'status.json'), 'utf8'));
            return s.pid === demo.pid && s.last_dispatch_at ? s : undefined;
          } catch {
            return undefined;
          }
        },
        path.join(root, 'state'),
        60_000,
        () => out,
      );
      const st = await relayTui(['status', '--root', root]);
      expect(st.exitCode, st.stderr).toBe(0);
      expect(st.stdout).toContain(`relay running (pid ${demo.pid}) on ${root}`);
    } finally {
      demo.kill('SIGTERM');
    }
    expect((await demo).exitCode, out).toBe(0);
  }, 300_000);

  it('npm install -g . from the checkout links a relay-tui that runs anywhere', async () => {
    const prefix = path.join(tmp, 'prefix-link');
    const linkEnv = shellEnv(prefix);
    const inst = await execa('npm', ['install', '-g', '--prefix', prefix, ...NPM_NET, '.'], {
      cwd: CHECKOUT,
      env: linkEnv,
      extendEnv: false,
      reject: false,
    });
    expect(inst.exitCode, inst.stderr).toBe(0);
    const help = await relayTui(['--help'], { env: linkEnv });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('relay-tui doctor');
    const bin = fs.realpathSync(path.join(prefix, 'bin', 'relay-tui'));
    expect(bin).toBe(path.join(fs.realpathSync(CHECKOUT), 'bin', 'relay-tui.js'));
  }, 120_000);
});
