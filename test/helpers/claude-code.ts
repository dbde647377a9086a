import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { expect, it } from 'vitest';
import type { FakeReply, FakeRequest } from '../../src/demo/fake-api.js';
import { isLive, procId, type ProcId } from '../../src/commands/hook/proc.js';
import { createHarness, type Harness } from './harness.js';

/**
 * The real Claude Code CLI for end-to-end tests. .ci/run installs each pinned
 * version (.ci/claude-code-versions) into $RELAY_CC_CACHE/<version>; run locally, the
 * tests look in the same default cache. A missing binary fails the test under CI and
 * skips it locally, saying why.
 */

export const CC_CACHE = process.env.RELAY_CC_CACHE || path.join(os.homedir(), '.cache', 'relay-tui', 'claude-code');
export const CC_VERSIONS = fs
  .readFileSync(path.resolve(__dirname, '../../.ci/claude-code-versions'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

export function ccBinary(version: string): string | undefined {
  const bin = path.join(CC_CACHE, version, 'node_modules', '.bin', 'claude');
  return fs.existsSync(bin) ? bin : undefined;
}

/** Under CI (or .ci/run, which sets RELAY_CC_REQUIRED) a missing binary is a failure, not a skip. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1' || process.env.RELAY_CC_REQUIRED === '1';

/**
 * Inside a describe: true when `bin` is there. Otherwise registers the case that says why —
 * failing in CI (the pinned versions must run there), skipped elsewhere — and the caller returns.
 */
export function haveClaudeCode(version: string, bin: string | undefined): bin is string {
  if (bin) return true;
  if (IN_CI) it('is installed (by .ci/run)', () => expect.fail(`Claude Code ${version} is not in the cache: run .ci/run (RELAY_CC_CACHE)`));
  else it.skip(`Claude Code ${version} is not installed in the cache (run .ci/run); skipped`, () => {});
  return false;
}

/** The fake key Claude Code is given: the last 20 characters are what ~/.claude.json approves. */
export const CC_KEY = 'sk-ant-api03-relaytui-fake-key-0123456789abcdefghij';

/** A clean environment: nothing from the developer's own Claude Code set-up, no traffic but the fake. */
export function ccEnv(home: string, apiUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    // Claude Code keeps per-project scratch files in $TMPDIR/claude-<uid>: inside the temp home, removed with it.
    TMPDIR: ensureDir(path.join(home, 'tmp')),
    ANTHROPIC_API_KEY: CC_KEY,
    ANTHROPIC_BASE_URL: apiUrl,
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
    ...extra,
  };
}

function ensureDir(d: string): string {
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** ~/.claude.json as after a first run: onboarding done, the key approved, the project trusted. */
export function seedClaudeJson(home: string, project: string, version: string): void {
  const cfg = {
    hasCompletedOnboarding: true,
    lastOnboardingVersion: version,
    theme: 'dark',
    customApiKeyResponses: { approved: [CC_KEY.slice(-20)], rejected: [] },
    projects: { [project]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] } },
  };
  fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify(cfg, null, 2));
}

/** Any call Claude Code makes (its user agent), not the relay's. */
export const fromClaudeCode = (r: FakeRequest) => /claude-cli\//.test(String(r.headers['user-agent'] ?? ''));
/** Claude Code's turns (they carry its tools), not its side calls (titles and the like). */
export const isClaudeCode = (r: FakeRequest) => fromClaudeCode(r) && Array.isArray(r.body?.tools) && r.body.tools.length > 0;

/** Everything the model is shown in the newest messages (user or system role), as one string. */
export function newestText(r: FakeRequest, n = 3): string {
  const msgs: any[] = Array.isArray(r.body?.messages) ? r.body.messages : [];
  return JSON.stringify(msgs.slice(-n));
}

/** The newest role-user message as JSON (its text, tool results, system reminders attached to it). */
export function lastUserJson(r: FakeRequest): string {
  const msgs: any[] = Array.isArray(r.body?.messages) ? r.body.messages : [];
  const last = [...msgs].reverse().find((m) => m?.role === 'user');
  return last ? JSON.stringify(last) : '';
}

/** Waits until no relay-tui hook process named in state/hooks/ is alive (bounded). */
export async function waitHooksGone(state: string, timeoutMs = 15_000): Promise<void> {
  const dir = path.join(state, 'hooks');
  const owners = (): ProcId[] => {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.waiter.json') || n.endsWith('.stop-wait.json'));
    } catch {
      return [];
    }
    return names.flatMap((n) => {
      try {
        return [JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')).owner as ProcId];
      } catch {
        return [];
      }
    });
  };
  await poll(
    () => (owners().some((o) => isLive(o)) ? undefined : true),
    timeoutMs,
    () => `hooks still running: ${JSON.stringify(owners())}`,
  ).catch(() => undefined);
}

/** How many messages of the request contain `needle`. */
export function messagesWith(r: FakeRequest, needle: string): number {
  const msgs: any[] = Array.isArray(r.body?.messages) ? r.body.messages : [];
  return msgs.filter((m) => JSON.stringify(m).includes(needle)).length;
}

/** A private tmux server (-L) running one interactive Claude Code. */
export class TmuxClaude {
  readonly socket = `relay-cc-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    readonly bin: string,
    readonly cwd: string,
    readonly env: Record<string, string>,
    readonly args: string[] = [],
  ) {}

  start(): void {
    const envArgs = Object.entries(this.env).map(([k, v]) => `${k}=${shq(v)}`);
    const cmd = `env -i ${envArgs.join(' ')} timeout --foreground 170 ${shq(this.bin)} ${this.args.map(shq).join(' ')}`;
    execaSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-x', '160', '-y', '45', '-c', this.cwd, cmd]);
  }

  pane(): string {
    try {
      return String(execaSync('tmux', ['-L', this.socket, 'capture-pane', '-p']).stdout);
    } catch {
      return '';
    }
  }

  async type(text: string): Promise<void> {
    await execa('tmux', ['-L', this.socket, 'send-keys', '-l', text]);
    await new Promise((r) => setTimeout(r, 300));
    await execa('tmux', ['-L', this.socket, 'send-keys', 'Enter']);
  }

  async keys(...keys: string[]): Promise<void> {
    await execa('tmux', ['-L', this.socket, 'send-keys', ...keys]);
  }

  /** The pid of the process in the pane (timeout), and so of Claude Code below it. */
  panePid(): number | undefined {
    try {
      return Number(String(execaSync('tmux', ['-L', this.socket, 'display-message', '-p', '#{pane_pid}']).stdout).trim());
    } catch {
      return undefined;
    }
  }

  async waitPane(re: RegExp, timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const text = this.pane();
      if (re.test(text)) return text;
      if (Date.now() > end) throw new Error(`tmux pane never showed ${re}:\n${text}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Claude Code itself: the child of `timeout` in the pane. */
  claudePid(): number | undefined {
    const pane = this.panePid();
    return pane ? childrenOf(pane, String(pane))[0] : undefined;
  }

  /**
   * Ends the tmux server and waits (bounded) until Claude Code and every process it
   * started (hooks, including one it spawns on its way out) have exited, so the root can
   * be removed without a hook writing into it. Descendants are gathered while Claude Code
   * lives: a hook it orphans is reparented away and no longer found under it.
   */
  async kill(): Promise<void> {
    const cc = this.claudePid();
    const id = cc ? procId(cc) : undefined;
    const seen = new Map<number, ProcId>();
    const gather = () => {
      if (!isLive(id)) return;
      for (const p of descendants(id!.pid)) if (!seen.has(p.pid)) seen.set(p.pid, p);
    };
    gather();
    try {
      execaSync('tmux', ['-L', this.socket, 'kill-server'], { reject: false });
    } catch {
      /* already gone */
    }
    if (!id) return;
    await poll(
      () => {
        gather();
        return isLive(id) || [...seen.values()].some(isLive) ? undefined : true;
      },
      10_000,
      () => 'Claude Code or one of its hooks did not exit',
    ).catch(() => {
      for (const p of [id, ...seen.values()]) {
        try {
          if (isLive(p)) process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
    });
  }
}

/** The children one thread of `pid` started, from /proc (Linux only; none elsewhere or once it is gone). */
function childrenOf(pid: number, thread: string): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
      .filter((k) => k > 0);
  } catch {
    return [];
  }
}

/** Every live process below `pid`, from /proc's children lists (Linux only; empty elsewhere). */
function descendants(pid: number): ProcId[] {
  const out: ProcId[] = [];
  const todo = [pid];
  for (let n = 0; todo.length && n < 1000; n++) {
    const p = todo.pop()!;
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      for (const k of childrenOf(p, t)) {
        const kid = procId(k);
        if (kid) {
          out.push(kid);
          todo.push(k);
        }
      }
    }
  }
  return out;
}

export function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Resolves when check() returns a value; polls every 100 ms (processes and pipes give no fs event). */
export async function poll<T>(check: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How the fake answers Claude Code's turns (`cc`) and the relay's chat-Claude calls (`relay`); n counts each from 1. */
export type Responder = { cc: (r: FakeRequest, n: number) => FakeReply; relay: (r: FakeRequest, n: number) => FakeReply };

/** How the hooks are installed: extra arguments to a local `hook install`, or a whole command line and its environment. */
export type Install = string[] | ((h: Harness, project: string) => Promise<{ args: string[]; env?: Record<string, string> }>);

/** The start of the text the Stop hook (and the waiter) frames a relay reply with. */
export const FRAMING = 'relay-tui, the Stop hook configured in this project, asks you to continue';

/** state/hook-notices.jsonl, parsed (empty until a hook has written one). */
export function notices(hh: Harness): any[] {
  try {
    return fs
      .readFileSync(path.join(hh.paths.state, 'hook-notices.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/**
 * One test's world: a relay on a temp root with the fake API, a temp home and project for
 * Claude Code with the hooks installed, and a tmux Claude Code when the test starts one.
 * tearDown() ends them in the order that leaves no hook writing into a removed root.
 */
export class CcScene {
  h: Harness | undefined;
  tmux: TmuxClaude | undefined;
  private readonly temps: string[] = [];

  tempDir(prefix: string): string {
    const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
    this.temps.push(d);
    return d;
  }

  async setUp(version: string, responder: Responder, config: Record<string, unknown>, install: Install = []) {
    const counts = { cc: 0, relay: 0 };
    const ccReplied: number[] = [];
    const harness = await createHarness({
      config: { guardrails: { repeat_threshold: 0 }, ...config },
      api: {
        respond: (r) => {
          if (fromClaudeCode(r) && !isClaudeCode(r)) return { text: 'Marker file' };
          if (isClaudeCode(r)) {
            const reply = responder.cc(r, ++counts.cc);
            ccReplied.push(Date.now());
            return reply;
          }
          return responder.relay(r, ++counts.relay);
        },
      },
    });
    this.h = harness;
    await harness.startRelay();
    // The hooks run in Claude Code's environment, not the relay's: they find ntfy in the root's .env, as a user's would.
    const dotenv = fs.existsSync(harness.paths.env)
      ? fs.readFileSync(harness.paths.env, 'utf8').replace(/^NTFY_(TOPIC|SERVER)=.*$/gm, '')
      : '';
    fs.writeFileSync(harness.paths.env, `${dotenv}\nNTFY_TOPIC=${harness.env.NTFY_TOPIC}\nNTFY_SERVER=${harness.env.NTFY_SERVER}\n`, {
      mode: 0o600,
    });
    const home = this.tempDir('relay-cc-home-');
    const project = this.tempDir('relay-cc-project-');
    seedClaudeJson(home, project, version);
    const how = Array.isArray(install)
      ? { args: ['hook', 'install', '--session', 'session-1', '--project', project, '--root', harness.root, ...install] }
      : await install(harness, project);
    const installed = await harness.cli(how.args, how.env ? { env: how.env } : {});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const env = ccEnv(home, harness.api.url);
    return {
      h: harness,
      home,
      project,
      env,
      counts,
      ccReplied,
      installed,
      ccRequests: () => harness.api.requests.filter(isClaudeCode),
      relayRequests: () => harness.api.requests.filter((r) => !fromClaudeCode(r)),
    };
  }

  async tearDown(): Promise<void> {
    await this.tmux?.kill();
    this.tmux = undefined;
    // A hook that outlives its Claude Code notices within seconds; the root is removed after it.
    if (this.h) await waitHooksGone(this.h.paths.state);
    await this.h?.close();
    this.h = undefined;
    // A Claude Code on its way out may still write its transcript: retry a directory that refills.
    for (const d of this.temps.splice(0)) fs.rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}
