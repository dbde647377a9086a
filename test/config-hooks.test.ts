import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/load.js';
import { stopHookBlockCap } from '../src/config/schema.js';
import { effectiveMaxChain } from '../src/commands/hook/io.js';

/** hooks.max_chain against Claude Code's own cap of consecutive Stop-hook blocks. */

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
  delete process.env.CLAUDE_CODE_STOP_HOOK_BLOCK_CAP;
});

function load(yaml: string) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-config-hooks-'));
  dirs.push(d);
  const file = path.join(d, 'config.yaml');
  fs.writeFileSync(file, yaml);
  return () => loadConfig(file, { seed: false });
}

describe('hooks.max_chain', () => {
  it("defaults to 6 and accepts up to 7, below Claude Code's default cap of 8", () => {
    expect(load('{}')().config.hooks.max_chain).toBe(6);
    expect(load('hooks: {max_chain: 7}')().config.hooks.max_chain).toBe(7);
  });

  it('8 or more is a config error naming the key and the cap', () => {
    let err: unknown;
    try {
      load('hooks: {max_chain: 8}')();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('hooks.max_chain');
    expect((err as Error).message).toMatch(
      /below Claude Code's cap of 8 consecutive Stop-hook blocks \(CLAUDE_CODE_STOP_HOOK_BLOCK_CAP\), got 8/,
    );
  });

  it('reads the cap from CLAUDE_CODE_STOP_HOOK_BLOCK_CAP when set', () => {
    process.env.CLAUDE_CODE_STOP_HOOK_BLOCK_CAP = '12';
    expect(stopHookBlockCap()).toBe(12);
    expect(load('hooks: {max_chain: 10}')().config.hooks.max_chain).toBe(10);
    expect(stopHookBlockCap({ CLAUDE_CODE_STOP_HOOK_BLOCK_CAP: 'lots' })).toBe(8);
    expect(stopHookBlockCap({ CLAUDE_CODE_STOP_HOOK_BLOCK_CAP: '0' })).toBe(8);
  });

  it('the hook clamps to the cap of the Claude Code that runs it', () => {
    expect(effectiveMaxChain(6, {})).toEqual({ max: 6, cap: 8, clamped: false });
    expect(effectiveMaxChain(6, { CLAUDE_CODE_STOP_HOOK_BLOCK_CAP: '4' })).toEqual({ max: 3, cap: 4, clamped: true });
  });
});
