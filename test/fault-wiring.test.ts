import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RootPaths } from '../src/protocol/root.js';
import { ackAll, enqueue, openRelay, scriptedChat, tempRoot, testConfig, until } from './helpers/inproc.js';

/** The relay wired to the typed faults its file-system edges report (dispatch, inbox, intake). */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function root(): RootPaths {
  const paths = tempRoot();
  dirs.push(paths.root);
  return paths;
}

describe('fault wiring', () => {
  it('dispatch/<session> swapped for a link while the relay runs: that session is paused naming the path, the others flow, restoring it delivers', async () => {
    const paths = root();
    const away = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-away-'));
    dirs.push(away);
    const relay = openRelay(paths, { chat: scriptedChat(), maintenanceMs: 50 });
    const got = new Map<string, string[]>();
    await relay.start();
    enqueue(paths, 'a.json', { session_id: 'session-2', content: 'first' });
    await until(
      () => (got.get('session-2')?.length ?? 0) === 1,
      'the first reply',
      15_000,
      () => ackAll(paths, got),
    );
    // A second reply is delivered and not yet taken; then the session's directory is swapped for a link out of the root.
    enqueue(paths, 'b.json', { session_id: 'session-2', content: 'second' });
    const input = path.join(paths.dispatch, 'session-2', 'input.txt');
    await until(() => fs.existsSync(input), 'the second reply to be written');
    enqueue(paths, 'c.json', { session_id: 'session-2', content: 'third' });
    await until(() => relay.snapshot().status.sessions['session-2']?.pending === 1, 'the third reply to wait in the outbox');
    const dir = path.join(paths.dispatch, 'session-2');
    const parked = path.join(paths.root, 'parked');
    fs.renameSync(dir, parked);
    fs.symlinkSync(away, dir);
    await until(() => relay.snapshot().status.sessions['session-2']?.paused_reason === 'fault', 'session-2 to be paused for its fault');
    expect(relay.snapshot().status.sessions['session-2'].paused_message).toMatch(/dispatch\/session-2: is a symlink/);
    expect(relay.snapshot().status.state).toBe('running');
    expect(fs.readdirSync(away)).toEqual([]);
    // The other sessions flow meanwhile.
    enqueue(paths, 'd.json', { session_id: 'session-1', content: 'other' });
    await until(
      () => (got.get('session-1')?.length ?? 0) === 1,
      'session-1 to get its reply',
      15_000,
      () => ackAll(paths, got),
    );
    // Restored (the second reply taken by the session): the fault pause ends by itself and the waiting reply goes out.
    fs.unlinkSync(dir);
    fs.unlinkSync(path.join(parked, 'input.txt'));
    fs.renameSync(parked, dir);
    await until(
      () => (got.get('session-2')?.length ?? 0) === 2,
      'the third reply after the restore',
      15_000,
      () => ackAll(paths, got),
    );
    expect(got.get('session-2')?.[1]).toMatch(/third$/);
    expect(relay.snapshot().status.sessions['session-2'].paused_reason ?? null).toBeNull();
    await relay.stop();
    expect(fs.readFileSync(paths.audit, 'utf8')).toMatch(/"action":"session-resume".*session-2: fault/);
  });

  it('operator input over limits.max_operator_input_bytes is refused with a warning and an audit line, and is never sent', async () => {
    const paths = root();
    const chat = scriptedChat();
    const relay = openRelay(paths, { chat, config: testConfig({ limits: { max_operator_input_bytes: 64 } }) });
    const logs: string[] = [];
    relay.on('log', (e) => logs.push(`${e.level} ${e.message}`));
    await relay.start();
    fs.writeFileSync(paths.jcInput, 'x'.repeat(200));
    await until(() => logs.some((l) => l.includes('refused')), 'the refusal to be logged');
    expect(logs.find((l) => l.includes('refused'))).toMatch(/^warn operator input .*over limits\.max_operator_input_bytes \(64\)/);
    await relay.stop();
    expect(fs.readFileSync(paths.audit, 'utf8')).toMatch(/"action":"input-refused"/);
    expect(chat.requests).toHaveLength(0);
  });

  it('queue/ that cannot be listed puts the relay in state error naming it', async () => {
    const paths = root();
    const relay = openRelay(paths, { chat: scriptedChat() });
    fs.rmSync(paths.queue, { recursive: true });
    fs.writeFileSync(paths.queue, 'not a directory');
    await relay.start();
    await until(() => relay.snapshot().status.state === 'error', 'state error');
    expect(JSON.stringify(relay.snapshot().status)).toMatch(/queue/);
    await relay.stop();
  });
});
