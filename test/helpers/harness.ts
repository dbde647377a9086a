import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import YAML from 'yaml';
import { DEFAULT_CONFIG_YAML } from '../../src/config/defaults.js';
import { startFakeApi, type FakeApi, type FakeApiOptions } from '../../src/demo/fake-api.js';
import { startFakeNtfy, type FakeNtfy } from '../../src/demo/ntfy/fake-ntfy.js';
import { statusSchema, type Status } from '../../src/protocol/status.js';
import { ensureLayout, rootPaths, type RootPaths } from '../../src/protocol/root.js';

/**
 * End-to-end harness: a temp relay root, the fake Messages API and a fake ntfy on
 * 127.0.0.1, and the real CLI (dist/, built by `npm test`) spawned with execa.
 * Waits are event-driven (fs.watch on the file in question), never fixed sleeps.
 */

export const CLI = path.resolve(__dirname, '../../bin/relay-tui.js');
export const API_KEY = 'sk-ant-test-SECRET-0123456789abcdef';

export interface Harness {
  root: string;
  paths: RootPaths;
  api: FakeApi;
  /** Replaceable: a test may restart the fake on the same port. */
  ntfy: FakeNtfy;
  env: Record<string, string>;
  /** Spawns `relay-tui --no-ui` and waits until status.json says it is up. */
  startRelay(extraArgs?: string[], envOver?: Record<string, string>): Promise<void>;
  stopRelay(): Promise<void>;
  cli(
    args: string[],
    opts?: { input?: string; env?: Record<string, string>; reject?: boolean },
  ): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  writeConfig(patch: Record<string, unknown>): void;
  enqueue(session: string, content: string, name?: string): string;
  /** state/status.json through its one schema (undefined until the relay has written one). */
  status(): Status | undefined;
  waitStatus(pred: (s: Status) => boolean, timeoutMs?: number): Promise<Status>;
  waitFile(file: string, timeoutMs?: number): Promise<string>;
  waitGone(file: string, timeoutMs?: number): Promise<void>;
  input(session: string): string;
  close(): Promise<void>;
  relay?: ResultPromise;
  output(): string;
}

export async function createHarness(opts: { api?: FakeApiOptions; config?: Record<string, unknown> } = {}): Promise<Harness> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-e2e-'));
  const paths = rootPaths(root);
  // A root made on purpose, as a first relay start would: the session-side commands refuse a bare folder.
  ensureLayout(paths);
  const api = await startFakeApi(opts.api);
  const ntfy = await startFakeNtfy();
  const env: Record<string, string> = {
    ANTHROPIC_API_KEY: API_KEY,
    ANTHROPIC_BASE_URL: api.url,
    NTFY_SERVER: ntfy.url,
    NTFY_TOPIC: 'relay-test-topic',
    RELAY_ROOT: root,
  };
  let out = '';
  const h: Harness = {
    root,
    paths,
    api,
    ntfy,
    env,
    output: () => out,
    writeConfig(patch) {
      const doc = YAML.parse(DEFAULT_CONFIG_YAML);
      const merged = deepMerge(doc, {
        sessions: [
          { id: 'session-1', description: 'one' },
          { id: 'session-2', description: 'two' },
        ],
        api: { max_retries: 2, outer_retries: 0, timeout_s: 30 },
        ...patch,
      });
      fs.writeFileSync(paths.config, YAML.stringify(merged));
    },
    async startRelay(extraArgs = [], envOver = {}) {
      if (!fs.existsSync(paths.config)) h.writeConfig(opts.config ?? {});
      const before = h.status()?.pid;
      const child = execa('node', [CLI, '--no-ui', '--root', root, ...extraArgs], {
        env: { ...env, ...envOver },
        extendEnv: true,
        reject: false,
        stdin: 'ignore',
      });
      child.stdout?.on('data', (d) => (out += d));
      child.stderr?.on('data', (d) => (out += d));
      h.relay = child;
      const exited = child.then((r) => r);
      const ready = h.waitStatus((s) => s && s.pid === child.pid && s.pid !== before, 15_000);
      const first = await Promise.race([ready.then(() => 'ready' as const), exited.then(() => 'exited' as const)]);
      if (first === 'exited') throw new Error(`relay exited early:\n${out}`);
      // Not returning the child: an execa result is a thenable, and would make this wait for exit.
    },
    async stopRelay() {
      const child = h.relay;
      if (!child) return;
      h.relay = undefined;
      if (child.exitCode === null && !child.killed) child.kill('SIGTERM');
      await child;
    },
    async cli(args, o = {}) {
      const r = await execa('node', [CLI, ...args], {
        env: { ...env, ...o.env },
        input: o.input,
        reject: false,
        stdin: o.input === undefined ? 'ignore' : undefined,
      });
      return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
    },
    enqueue(session, content, name) {
      const file = name ?? `${Date.now()}-${Math.random().toString(36).slice(2, 8)}.json`;
      const tmp = path.join(paths.queue, `.${file}.tmp`);
      fs.writeFileSync(tmp, JSON.stringify({ session_id: session, content }));
      fs.renameSync(tmp, path.join(paths.queue, file));
      return file;
    },
    status() {
      let raw: unknown;
      try {
        raw = JSON.parse(fs.readFileSync(paths.status, 'utf8'));
      } catch {
        return undefined;
      }
      // A status.json the schema rejects is a bug in the relay, not a state to wait through.
      return statusSchema.parse(raw);
    },
    waitStatus(pred, timeoutMs = 20_000) {
      return waitFor(
        () => {
          const s = h.status();
          return s && pred(s) ? s : undefined;
        },
        paths.state,
        timeoutMs,
        () => `status: ${JSON.stringify(h.status())}\nrelay output:\n${out}`,
      );
    },
    waitFile(file, timeoutMs = 20_000) {
      return waitFor(
        () => {
          try {
            return fs.readFileSync(file, 'utf8');
          } catch {
            return undefined;
          }
        },
        path.dirname(file),
        timeoutMs,
        () => `waiting for ${file}\nrelay output:\n${out}`,
      );
    },
    async waitGone(file, timeoutMs = 20_000) {
      await waitFor(
        () => (fs.existsSync(file) ? undefined : true),
        path.dirname(file),
        timeoutMs,
        () => `waiting for ${file} to go\n${out}`,
      );
    },
    input(session) {
      return path.join(paths.dispatch, session, 'input.txt');
    },
    async close() {
      await h.stopRelay();
      await api.close();
      await h.ntfy.close();
      // A hook process of a test's own making may still finish a write: retry a directory that refills.
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
  return h;
}

/**
 * Resolves when check() returns a value, re-checking on every change in `dir`
 * (plus a 100 ms fallback tick, since some writers rename into the directory).
 */
export function waitFor<T>(check: () => T | undefined, dir: string, timeoutMs: number, describe: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    fs.mkdirSync(dir, { recursive: true });
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(tick);
      watcher.close();
      fn();
    };
    const attempt = () => {
      let v: T | undefined;
      try {
        v = check();
      } catch (err) {
        // A status.json its schema rejects: fail the wait with that, not an uncaught timer error.
        finish(() => reject(err));
        return;
      }
      if (v !== undefined) finish(() => resolve(v));
    };
    const watcher = fs.watch(dir, attempt);
    const tick = setInterval(attempt, 100);
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms: ${describe()}`))), timeoutMs);
    attempt();
  });
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (Array.isArray(b) || typeof b !== 'object' || b === null) return b;
  const base: Record<string, unknown> = a && typeof a === 'object' && !Array.isArray(a) ? (a as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(base[k], v);
  return out;
}
