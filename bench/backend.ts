// The claude-code backend against the API backend (issue 26): the same fake Messages API and
// the same script of turns, through each ChatClient the relay would use. What Claude Code adds
// per turn (its stream-json round trip and its own request building), what its start-up costs
// once, and how much memory the supervisor process holds. Run from bench/run.ts, or alone:
// `npm run build && tsc -p bench/tsconfig.json && node .bench/bench/backend.js`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAnthropicChat, type ChatClient, type ChatMessage } from '../src/adapters/anthropic.js';
import { createClaudeCodeChat, type ClaudeCodeChatClient } from '../src/adapters/claude-code.js';
import { WORKDIR_NAME } from '../src/adapters/claude-code-session.js';
import { startFakeApi } from '../src/demo/fake-api.js';
import { quickResponder } from './fakes.js';
import { log, median, now, pct, removeTempDirs, REPO, tempDir } from './util.js';

const MODEL = 'claude-opus-5-5';
const SYSTEM = 'You are chat-Claude, the reviewer of several Claude Code sessions. Answer briefly.';
/** The key Claude Code is given for the fake; its last 20 characters are approved in ~/.claude.json. */
const KEY = 'sk-ant-api03-relaytui-bench-key-0123456789abcdefghij';

export interface BackendResult {
  version: string;
  turns: number;
  apiMs: number[];
  ccMs: number[];
  /** The first claude-code turn, which starts the process. */
  ccFirstMs: number;
  apiFirstMs: number;
  /** The Claude Code process's resident set after the run, and its peak. */
  rssMb: number;
  hwmMb: number;
}

function cacheRoot(): string {
  return process.env.RELAY_CC_CACHE || path.join(process.env.HOME ?? '', '.cache', 'relay-tui', 'claude-code');
}

function versions(): string[] {
  return fs
    .readFileSync(path.join(REPO, '.ci', 'claude-code-versions'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** VmRSS and VmHWM of a process, in MB (Linux /proc). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** One turn after another, the whole conversation each time (as the relay sends it); ms per complete(). */
async function script(chat: ChatClient, turns: number): Promise<number[]> {
  const messages: ChatMessage[] = [];
  const times: number[] = [];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'user', content: `[session-${(i % 4) + 1} @ turn ${i}] #t${i}# tests pass on the branch; next: the docs.` });
    const t0 = now();
    const r = await chat.complete({ model: MODEL, max_tokens: 1024, system: SYSTEM, messages: [...messages], cacheAt: [] });
    times.push(now() - t0);
    messages.push({ role: 'assistant', content: r.text });
  }
  return times;
}

export async function measureBackend(o: { turns: number }): Promise<BackendResult[]> {
  const out: BackendResult[] = [];
  for (const version of versions()) {
    const bin = path.join(cacheRoot(), version, 'node_modules', '.bin', 'claude');
    if (!fs.existsSync(bin)) {
      log(`backend: Claude Code ${version} is not in ${cacheRoot()}; skipped`);
      continue;
    }
    const fake = await startFakeApi({ respond: quickResponder() });
    fake.onRequest(() => void fake.requests.splice(0));
    let cc: ClaudeCodeChatClient | undefined;
    try {
      const api = createAnthropicChat({ apiKey: KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 60_000, idleTimeoutMs: 60_000 });
      // Warmed first (the SDK's import and the JIT): otherwise the first version's API figure carries them.
      await script(api, 3);
      const apiMs = await script(api, o.turns);
      const home = tempDir('relay-bench-cc-home-');
      const stateDir = path.join(tempDir('relay-bench-cc-state-'), 'claude-code');
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.writeFileSync(
        path.join(home, '.claude.json'),
        JSON.stringify({
          hasCompletedOnboarding: true,
          lastOnboardingVersion: version,
          customApiKeyResponses: { approved: [KEY.slice(-20)], rejected: [] },
          projects: { [path.join(stateDir, WORKDIR_NAME)]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } },
        }),
      );
      cc = createClaudeCodeChat({
        claudePath: bin,
        stateDir,
        idleTimeoutMs: 60_000,
        timeoutMs: 120_000,
        maxRetries: 0,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          LANG: 'C.UTF-8',
          ANTHROPIC_API_KEY: KEY,
          ANTHROPIC_BASE_URL: fake.url,
          DISABLE_TELEMETRY: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        },
      });
      const ccMs = await script(cc, o.turns);
      const pid = cc.pid();
      const mem = pid ? memoryOf(pid) : { rss: NaN, hwm: NaN };
      out.push({
        version,
        turns: o.turns,
        apiFirstMs: apiMs[0],
        apiMs: apiMs.slice(1),
        ccFirstMs: ccMs[0],
        ccMs: ccMs.slice(1),
        rssMb: mem.rss,
        hwmMb: mem.hwm,
      });
      log(`backend ${version}: api ${median(apiMs.slice(1)).toFixed(1)} ms/turn, claude-code ${median(ccMs.slice(1)).toFixed(1)} ms/turn`);
    } finally {
      await cc?.close();
      await fake.close();
    }
  }
  return out;
}

const MARK = /<!-- backend-bench:start -->[\s\S]*<!-- backend-bench:end -->/;

export function renderBackend(rs: BackendResult[]): string {
  const f = (n: number) => n.toFixed(1);
  const rows = rs.map((r) => {
    const over = median(r.ccMs) - median(r.apiMs);
    return `| ${r.version} | ${f(median(r.apiMs))} | ${f(median(r.ccMs))} (p90 ${f(pct(r.ccMs, 90))}) | **${f(over)}** | ${f(r.ccFirstMs - median(r.ccMs))} | ${f(r.rssMb)} (peak ${f(r.hwmMb)}) |`;
  });
  return [
    '<!-- backend-bench:start -->',
    '## chat.backend claude-code against api (issue 26)',
    '',
    `The same script (${rs[0]?.turns ?? 0} turns, the whole conversation sent each time, as the relay sends it) through each`,
    "backend's ChatClient against the same fake Messages API on 127.0.0.1, which answers at once: what is",
    "measured is what each backend adds, not a model's time. Per turn: the median of the turns after the",
    'first. Start-up: the first claude-code turn (which starts `claude -p`) less its median turn. Memory: the',
    'Claude Code process (`/proc/PID/status` VmRSS, and VmHWM for its peak) after the run.',
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end: on a busy machine both columns grow.`,
    '',
    '| Claude Code | api, ms/turn | claude-code, ms/turn | overhead, ms/turn | start-up, ms | supervisor RSS, MB |',
    '|---|---|---|---|---|---|',
    ...rows,
    '<!-- backend-bench:end -->',
  ].join('\n');
}

/** Writes (or replaces) this section of BENCHMARKS.md, leaving every other section as it is. */
export function writeBackendSection(rs: BackendResult[]): void {
  if (!rs.length) return log('backend: no pinned Claude Code installed; BENCHMARKS.md keeps its backend section as it was');
  const file = path.join(REPO, 'BENCHMARKS.md');
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const section = renderBackend(rs);
  fs.writeFileSync(file, MARK.test(before) ? before.replace(MARK, section) : `${before.trimEnd()}\n\n${section}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  measureBackend({ turns: Number(process.env.RELAY_BENCH_BACKEND_TURNS ?? 20) })
    .then((rs) => {
      writeBackendSection(rs);
      log('wrote the backend section of BENCHMARKS.md');
    })
    .catch((err) => {
      log(`backend bench failed: ${String(err)}`);
      process.exitCode = 1;
    })
    .finally(removeTempDirs);
}
