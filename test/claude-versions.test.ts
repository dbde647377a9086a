import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TESTED_CLAUDE_CODE_VERSIONS } from '../src/commands/doctor/claude-versions.js';

describe('tested Claude Code versions', () => {
  it('doctor compares against exactly the versions CI runs the real-CLI tests on', () => {
    const pinned = fs
      .readFileSync(new URL('../.ci/claude-code-versions', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect([...TESTED_CLAUDE_CODE_VERSIONS]).toEqual(pinned);
  });
});
