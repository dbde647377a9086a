import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkBackend } from '../src/commands/doctor/checks-backend.js';
import { runDoctor } from '../src/commands/doctor/doctor.js';
import { DEFAULT_CONFIG_YAML } from '../src/config/defaults.js';
import { startFakeApi } from '../src/demo/fake-api.js';
import { ensureLayout, rootPaths } from '../src/protocol/root.js';
import { CC_KEY, CC_VERSIONS, ccBinary, IN_CI } from './helpers/claude-code.js';

/** `doctor` on chat.backend claude-code, against the real Claude Code CLI: found, version in range, signed in, no turn spent. */

vi.setConfig({ testTimeout: 90_000 });

const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function home(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-docb-'));
  temps.push(d);
  fs.writeFileSync(path.join(d, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true }));
  return d;
}
const cleanEnv = (h: string, extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: h, ...extra });
const chat = (claude_path: string) => ({ backend: 'claude-code' as const, claude_path });

describe('doctor: the backend check', () => {
  it('says nothing on backend api', async () => {
    expect(await checkBackend({ backend: 'api', claude_path: 'claude' }, 5000)).toEqual([]);
  });

  it('a claude_path that is not there fails, naming the key', async () => {
    const [f] = await checkBackend(chat('/nonexistent/claude'), 5000, cleanEnv(home()));
    expect(f.level).toBe('fail');
    expect(f.text).toContain('chat.claude_path');
  });

  for (const version of CC_VERSIONS) {
    const bin = ccBinary(version);
    if (!bin) {
      if (IN_CI) it(`Claude Code ${version} is installed (by .ci/run)`, () => expect.fail(`Claude Code ${version} is not in the cache`));
      else it.skip(`Claude Code ${version} is not installed in the cache (run .ci/run); skipped`, () => {});
      continue;
    }

    it(`Claude Code ${version}: signed in with a key is ok and billed per token; signed out fails; no turn is spent`, async () => {
      const api = await startFakeApi();
      try {
        const h = home();
        const signedIn = await checkBackend(chat(bin), 20_000, cleanEnv(h, { ANTHROPIC_API_KEY: CC_KEY, ANTHROPIC_BASE_URL: api.url }));
        expect(signedIn.map((f) => f.level)).toEqual(['ok', 'ok']);
        expect(signedIn[0].text).toContain(version);
        expect(signedIn[1].text).toMatch(/signed in \(API key, api_key\/firstParty\): billed per token/);
        const out = await checkBackend(chat(bin), 20_000, cleanEnv(h));
        expect(out[1]).toMatchObject({ level: 'fail', text: expect.stringContaining('not signed in') });
        const outside = await checkBackend(chat(bin), 20_000, cleanEnv(h), ['0.0.1']);
        expect(outside[0]).toMatchObject({ level: 'warn', text: expect.stringContaining('newer than the versions') });
        expect(api.requests).toHaveLength(0);
      } finally {
        await api.close();
      }
    });

    it(`Claude Code ${version}: a root on backend claude-code needs no ANTHROPIC_API_KEY`, async () => {
      const h = home();
      const root = path.join(h, 'root');
      const p = rootPaths(root);
      ensureLayout(p);
      fs.writeFileSync(
        p.config,
        DEFAULT_CONFIG_YAML.replace('  backend: api', '  backend: claude-code').replace('  claude_path: claude ', `  claude_path: ${bin} `),
      );
      const out = await runDoctor({ root, projects: [], env: cleanEnv(h, { ANTHROPIC_API_KEY: CC_KEY }) });
      expect(out.find((f) => /ANTHROPIC_API_KEY is not set/.test(f.text))).toBeUndefined();
      expect(out.find((f) => /backend claude-code: signed in/.test(f.text))?.level).toBe('ok');
    });
  }
});
