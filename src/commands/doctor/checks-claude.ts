import { execFile, type ExecFileException } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config/schema.js';
import { resolveRoot } from '../../protocol/root.js';
import { TESTED_CLAUDE_CODE_VERSIONS } from './claude-versions.js';
import { bad, ok, warn, type Finding } from './checks-local.js';
import { WAITER_COMMAND } from '../hook/install.js';

/** Splits a hook command the way the shell Claude Code runs it through would (quotes as shellQuote writes them). */
export function shellWords(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      cur += cmd.slice(i + 1, end < 0 ? cmd.length : end);
      i = end < 0 ? cmd.length : end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < cmd.length && cmd[j] !== '"'; j++) cur += cmd[j] === '\\' && j + 1 < cmd.length ? cmd[++j] : cmd[j];
      i = j;
      inWord = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

interface OurHook {
  event: 'Stop' | 'Notification';
  file: string;
  words: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The project's two settings files, merged by Claude Code: a hook in either runs. */
const SETTINGS_FILES = ['.claude/settings.json', '.claude/settings.local.json'];

/** The late-reply waiter found in a settings file (a Stop hook of its own, async with asyncRewake). */
interface Waiter {
  file: string;
  rewakes: boolean;
}

function findOurHooks(project: string): { hooks: OurHook[]; waiters: Waiter[]; problems: Finding[] } {
  const hooks: OurHook[] = [];
  const waiters: Waiter[] = [];
  const problems: Finding[] = [];
  for (const rel of SETTINGS_FILES) {
    const file = path.join(project, rel);
    let settings: unknown;
    // Followed like Claude Code follows it (a dotfiles link is fine), but only a regular file is read: a FIFO would block doctor.
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st && !st.isFile()) {
      problems.push(
        bad(`${file}: not a regular file`, 'replace it with the JSON file Claude Code reads, then relay-tui hook install again'),
      );
      continue;
    }
    try {
      settings = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      problems.push(
        bad(
          `${file}: ${(err as Error).message}`,
          'fix the JSON (Claude Code ignores a file it cannot parse), then relay-tui hook install again',
        ),
      );
      continue;
    }
    const groups = isObject(settings) && isObject(settings.hooks) ? settings.hooks : {};
    for (const event of ['Stop', 'Notification'] as const) {
      const list = Array.isArray(groups[event]) ? groups[event] : [];
      for (const g of list) {
        for (const h of isObject(g) && Array.isArray(g.hooks) ? g.hooks : []) {
          if (!isObject(h) || typeof h.command !== 'string') continue;
          if (event === 'Stop' && WAITER_COMMAND.test(h.command))
            waiters.push({ file, rewakes: h.async === true && h.asyncRewake === true });
          const words = shellWords(h.command);
          // hook install writes `node DIR/relay-tui-hook.js SUB ...` (the hooks' own entry, beside DIR/relay-tui.js): read it as `DIR/relay-tui.js hook SUB`.
          const entry = words.findIndex((w) => /relay-tui-hook(\.js)?$/.test(w));
          if (entry >= 0) words.splice(entry, 1, words[entry].replace(/relay-tui-hook(\.js)?$/, 'relay-tui$1'), 'hook');
          const at = words.indexOf('hook');
          if (at < 1 || !/relay-tui(\.js)?$/.test(words[at - 1])) continue;
          if (words[at + 1] === (event === 'Stop' ? 'stop' : 'notify')) hooks.push({ event, file, words });
        }
      }
    }
  }
  return { hooks, waiters, problems };
}

const flag = (words: string[], name: string) => {
  const i = words.indexOf(name);
  return i >= 0 ? words[i + 1] : undefined;
};

/** The hooks of one project: both there, both pointing at this root, at a relay-tui that exists. */
export function checkProjectHooks(projectArg: string, root: string, config: Config | undefined): Finding[] {
  const project = path.resolve(projectArg);
  if (!fs.statSync(project, { throwIfNoEntry: false })?.isDirectory())
    return [bad(`project ${project} is not a directory`, 'give --project the Claude Code project folder')];
  const { hooks, waiters, problems } = findOurHooks(project);
  const out = [...problems];
  const install = (session = 'ID') => `relay-tui hook install --session ${session} --project ${project} --root ${root}`;
  for (const event of ['Stop', 'Notification'] as const) {
    const mine = hooks.filter((h) => h.event === event);
    if (!mine.length) {
      const other = hooks.find((h) => h.event !== event);
      out.push(bad(`project ${project}: no relay-tui ${event} hook`, install(other ? flag(other.words, '--session') : undefined)));
      continue;
    }
    for (const h of mine) {
      const session = flag(h.words, '--session');
      const hookRoot = flag(h.words, '--root');
      const bin = h.words[h.words.indexOf('hook') - 1];
      const where = `project ${project}: the ${event} hook${session ? ` for ${session}` : ''} (${path.relative(project, h.file)})`;
      if (!session) out.push(bad(`${where} has no --session`, install()));
      else if (!hookRoot) out.push(bad(`${where} has no --root: it follows the directory Claude Code runs it in`, install(session)));
      else if (resolveRoot(path.resolve(hookRoot), {}) !== root)
        out.push(bad(`${where} points at ${hookRoot}, not at this root ${root}`, install(session)));
      else if (path.isAbsolute(bin) && !fs.existsSync(bin))
        out.push(bad(`${where} runs ${bin}, which does not exist (moved or uninstalled?)`, install(session)));
      else if (config && !config.sessions.some((s) => s.id === session)) {
        out.push(
          warn(
            `${where} points here, but ${session} is not under sessions: in config.yaml`,
            `add it (- id: ${session}) so it shows as registered${config.strict_sessions ? ' and is not rejected (strict_sessions: true)' : ''}`,
          ),
        );
      } else out.push(ok(`${where} points at this root`));
    }
  }
  // Without the waiter the relay still works, but an answer that comes after the Stop hook's
  // window (the operator answering a ping later) waits until the session's next turn.
  const stop = hooks.find((h) => h.event === 'Stop');
  if (stop) {
    const again = install(flag(stop.words, '--session'));
    if (!waiters.length)
      out.push(
        warn(
          `project ${project}: no relay-tui late-reply waiter (Stop, async): an answer after the Stop hook's window waits for the session's next turn`,
          again,
        ),
      );
    else if (!waiters.some((w) => w.rewakes))
      out.push(
        warn(
          `project ${project}: the late-reply waiter (${path.relative(project, waiters[0].file)}) lacks async/asyncRewake: it cannot wake an idle session`,
          again,
        ),
      );
    else out.push(ok(`project ${project}: the late-reply waiter is installed (async, asyncRewake)`));
  }
  return out;
}

export function cmpVersion(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** `claude --version` prints e.g. "2.1.197 (Claude Code)". */
export async function checkClaudeCode(
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
  tested: readonly string[] = TESTED_CLAUDE_CODE_VERSIONS,
): Promise<Finding> {
  const list = tested.join(', ');
  const result = await new Promise<{ out?: string; err?: ExecFileException }>((resolve) => {
    execFile('claude', ['--version'], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, env }, (err, stdout) =>
      resolve(err ? { err } : { out: String(stdout) }),
    );
  });
  if (result.err?.code === 'ENOENT')
    return warn(
      'claude (Claude Code) is not on PATH',
      'fine if the sessions run on another machine or user; otherwise install Claude Code (npm install -g @anthropic-ai/claude-code)',
    );
  if (result.err)
    return warn(
      `claude --version failed: ${result.err.killed ? `no answer within ${timeoutMs / 1000} s` : result.err.message.split('\n')[0]}`,
      'check the Claude Code install (claude doctor)',
    );
  const version = result.out!.match(/\d+\.\d+\.\d+/)?.[0];
  if (!version) return warn(`claude --version printed ${JSON.stringify(result.out!.trim().slice(0, 80))}, no version in it`);
  if (tested.includes(version)) return ok(`Claude Code ${version} (the hooks were tested with ${list})`);
  const newest = tested[tested.length - 1];
  if (cmpVersion(version, tested[0]) < 0)
    return warn(
      `Claude Code ${version} is older than the versions the hooks were tested with (${list})`,
      `update it: claude update (or npm install -g @anthropic-ai/claude-code@${newest})`,
    );
  if (cmpVersion(version, newest) > 0)
    return warn(
      `Claude Code ${version} is newer than the versions the hooks were tested with (${list})`,
      'it probably works; if a Stop hook misbehaves, pin a tested one and report it',
    );
  return ok(`Claude Code ${version} (between the tested versions ${list})`);
}
