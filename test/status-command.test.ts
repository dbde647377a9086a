import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireLock } from '../src/fs/lock.js';
import { statusCommand } from '../src/commands/status.js';
import type { RootPaths } from '../src/protocol/root.js';
import { openRelay, scriptedChat, tempRoot, until } from './helpers/inproc.js';

/** relay-tui status reads status.json through its one schema: what the schema rejects is named, not printed as status. */

const roots: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function capture(fn: () => number): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: fn(), out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

async function written(): Promise<RootPaths> {
  const paths = tempRoot();
  roots.push(paths.root);
  const relay = openRelay(paths, { chat: scriptedChat() });
  await relay.start();
  await until(() => fs.existsSync(paths.status), 'status.json');
  await relay.stop();
  return paths;
}

describe('status command', () => {
  it('prints a status.json the relay wrote: its state while it runs, and as history once it stopped', async () => {
    const paths = tempRoot();
    roots.push(paths.root);
    const relay = openRelay(paths, { chat: scriptedChat() });
    await relay.start();
    await until(() => fs.existsSync(paths.status), 'status.json');
    // The CLI's relay holds the root's lock (this in-process one does not): take it as it would.
    const lock = acquireLock(paths.lock);
    const up = capture(() => statusCommand(paths, false));
    lock.release();
    expect(up.code).toBe(0);
    expect(up.out).toMatch(/^relay running \(pid \d+\)/m);
    expect(up.out).toMatch(/^state: running$/m);
    expect(up.err).toBe('');
    await relay.stop();
    const down = capture(() => statusCommand(paths, false));
    expect(down.code).toBe(0);
    expect(down.out).toMatch(/^relay NOT running on /m);
    // A clean stop wrote its own last line: stopped, not the running it was (issue 25).
    expect(down.out).toMatch(/^state: stopped cleanly$/m);
    // kill -9 leaves the lock behind with a pid that is gone: still history, not a live state.
    const child = spawnSync(process.execPath, ['-e', '']);
    acquireLock(paths.lock, child.pid!);
    const killed = capture(() => statusCommand(paths, false));
    expect(killed.out).toMatch(/^relay NOT running on /m);
    expect(killed.out).toMatch(/^state: stopped cleanly$/m);
  });

  it('a status.json the schema rejects: one line naming the file and the key, exit 1', async () => {
    const paths = await written();
    const s = JSON.parse(fs.readFileSync(paths.status, 'utf8'));
    fs.writeFileSync(paths.status, JSON.stringify({ ...s, queue_depth: 'many' }));
    for (const json of [false, true]) {
      const r = capture(() => statusCommand(paths, json));
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain(`${paths.status}: queue_depth:`);
    }
    fs.writeFileSync(paths.status, '{"state": ');
    const bad = capture(() => statusCommand(paths, false));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/status\.json: not JSON/);
  });
});
