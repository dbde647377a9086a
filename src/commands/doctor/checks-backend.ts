import { execFile, type ExecFileException } from 'node:child_process';
import { authStatus } from '../../adapters/claude-code-account.js';
import type { Config } from '../../config/schema.js';
import { cmpVersion } from './checks-claude.js';
import { bad, ok, warn, type Finding } from './checks-local.js';
import { TESTED_CLAUDE_CODE_VERSIONS } from './claude-versions.js';

/**
 * chat.backend claude-code: the CLI chat-Claude runs on is found, its version is one
 * the backend was tested with, and it is signed in. `claude --version` and
 * `claude auth status` spend no turn; nothing here reads a credential (Claude Code
 * answers about its own sign-in).
 */
export async function checkBackend(
  chat: Config['chat'],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
  tested: readonly string[] = TESTED_CLAUDE_CODE_VERSIONS,
): Promise<Finding[]> {
  if (chat.backend !== 'claude-code') return [];
  const bin = chat.claude_path;
  const list = tested.join(', ');
  const v = await new Promise<{ out?: string; err?: ExecFileException }>((resolve) => {
    execFile(bin, ['--version'], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, env }, (err, stdout) =>
      resolve(err ? { err } : { out: String(stdout) }),
    );
  });
  if (v.err?.code === 'ENOENT')
    return [
      bad(
        `chat.backend is claude-code but ${bin} (chat.claude_path) is not found`,
        'install Claude Code (npm install -g @anthropic-ai/claude-code) or set chat.claude_path to its full path; or chat.backend: api',
      ),
    ];
  if (v.err)
    return [
      bad(
        `${bin} --version failed: ${v.err.killed ? `no answer within ${timeoutMs / 1000} s` : v.err.message.split('\n')[0]}`,
        'check the Claude Code install (claude doctor)',
      ),
    ];
  const out: Finding[] = [];
  const version = v.out!.match(/\d+\.\d+\.\d+/)?.[0];
  if (!version) out.push(warn(`${bin} --version printed ${JSON.stringify(v.out!.trim().slice(0, 80))}, no version in it`));
  else if (cmpVersion(version, tested[0]) < 0 || cmpVersion(version, tested[tested.length - 1]) > 0) {
    const older = cmpVersion(version, tested[0]) < 0;
    out.push(
      warn(
        `backend claude-code: Claude Code ${version} is ${older ? 'older' : 'newer'} than the versions it was tested with (${list})`,
        older ? `update it: claude update` : 'it probably works; if chat-Claude misbehaves, pin a tested version and report it',
      ),
    );
  } else out.push(ok(`backend claude-code: Claude Code ${version} (tested: ${list})`));

  const auth = await authStatus(bin, env, timeoutMs);
  if (!auth.ok)
    out.push(warn(`backend claude-code: cannot tell whether Claude Code is signed in (${auth.error})`, 'run: claude auth status'));
  else if (!auth.account.loggedIn)
    out.push(
      bad(
        'backend claude-code: Claude Code is not signed in',
        'run claude and sign in with /login (or give it an API key or a cloud provider)',
      ),
    );
  else {
    const a = auth.account;
    const cost = a.notional
      ? 'cost is shown at API prices as notional; supervisor turns count against the subscription’s usage limits'
      : 'billed per token';
    out.push(ok(`backend claude-code: signed in (${a.label}, ${a.authMethod}/${a.apiProvider}): ${cost}`));
  }
  return out;
}
