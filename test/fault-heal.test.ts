import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RootPaths } from '../src/protocol/root.js';
import { ackAll, enqueue, openRelay, queueNames, scriptedChat, tempRoot, until } from './helpers/inproc.js';

/**
 * A session's own fault ends when the session fixes it: the relay watches what caused
 * it. The safety rescan and the root-fault retry are an hour away here and nobody types
 * /resume, so only the watch on the cause can deliver the reply that waits.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function temp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

interface Kind {
  name: string;
  /** Makes the fault; returns what the pause message must say. */
  plant(paths: RootPaths, away: string): RegExp;
  /** What the session does to fix it. */
  fix(paths: RootPaths): void;
}

const sessionDir = (p: RootPaths) => path.join(p.dispatch, 'session-2');
const input = (p: RootPaths) => path.join(sessionDir(p), 'input.txt');

const kinds: Kind[] = [
  {
    name: 'input.txt a symlink to a file outside the root',
    plant: (p, away) => {
      fs.writeFileSync(path.join(away, 'target.txt'), 'theirs');
      fs.symlinkSync(path.join(away, 'target.txt'), input(p));
      return /dispatch\/session-2\/input\.txt: is a symlink/;
    },
    fix: (p) => fs.unlinkSync(input(p)),
  },
  {
    name: 'input.txt a FIFO',
    plant: (p) => {
      execFileSync('mkfifo', [input(p)]);
      return /input\.txt: is a FIFO/;
    },
    fix: (p) => fs.unlinkSync(input(p)),
  },
  {
    name: 'input.txt a directory',
    plant: (p) => {
      fs.mkdirSync(input(p));
      return /input\.txt: is a directory/;
    },
    fix: (p) => fs.rmdirSync(input(p)),
  },
  {
    name: 'dispatch/session-2 a symlink to a directory outside the root',
    plant: (p, away) => {
      fs.rmSync(sessionDir(p), { recursive: true });
      fs.symlinkSync(away, sessionDir(p));
      return /dispatch\/session-2: is a symlink/;
    },
    fix: (p) => (fs.unlinkSync(sessionDir(p)), fs.mkdirSync(sessionDir(p))),
  },
  {
    name: 'dispatch/session-2 a regular file',
    plant: (p) => {
      fs.rmSync(sessionDir(p), { recursive: true });
      fs.writeFileSync(sessionDir(p), 'not a directory');
      return /dispatch\/session-2: is a regular file/;
    },
    // Removed: the relay makes the directory itself.
    fix: (p) => fs.unlinkSync(sessionDir(p)),
  },
];

describe('a session fault clears itself when the session fixes it', () => {
  for (const kind of kinds) {
    it(`${kind.name}: nothing is written through it, the session is paused; once fixed the waiting reply lands without /resume`, async () => {
      const paths = tempRoot();
      dirs.push(paths.root);
      const away = temp('relay-away-');
      const chat = scriptedChat();
      const relay = openRelay(paths, { chat });
      const got = new Map<string, string[]>();
      await relay.start();
      const expected = kind.plant(paths, away);
      enqueue(paths, 'a.json', { session_id: 'session-2', content: 'for two' });
      await until(() => relay.snapshot().status.sessions['session-2']?.paused_reason === 'fault', 'session-2 paused for its fault');
      const st = relay.snapshot().status;
      expect(st.sessions['session-2'].paused_message).toMatch(expected);
      expect(st.state).toBe('running');
      // Whether the fault was found before the call or after it, the envelope or its reply waits: nothing went outside.
      for (const n of fs.readdirSync(away)) expect(fs.readFileSync(path.join(away, n), 'utf8')).toBe('theirs');

      kind.fix(paths);
      await until(
        () => (got.get('session-2')?.length ?? 0) === 1,
        'the waiting reply after the fix',
        15_000,
        () => ackAll(paths, got),
      );
      expect(got.get('session-2')).toEqual(['reply: [session-2]\nfor two']);
      const after = relay.snapshot().status;
      expect(after.sessions['session-2'].paused_reason ?? null).toBeNull();
      expect(queueNames(paths)).toEqual([]);
      expect(chat.requests).toHaveLength(1);
      await relay.stop();
      const audit = fs.readFileSync(paths.audit, 'utf8');
      expect(audit).toMatch(/"source":"relay","action":"session-resume".*session-2: fault/);
      expect(audit).not.toMatch(/"source":"(cli|tui|phone|operator)"/);
    });
  }
});
