import { afterEach, describe, expect, it } from 'vitest';
import { itemLines } from '../src/ui/panes/conversation-lines.js';
import { tailEntry } from '../src/engine/api.js';
import type { Relay } from '../src/engine/relay.js';
import { ackAll, enqueue, lastUser, openRelay, scriptedChat, tempRoot, until } from './helpers/inproc.js';

/**
 * Issue 27: an envelope's evidence reaches chat-Claude beside the message, in the fixed
 * labelled form, and the conversation pane shows its one-line summary instead of the block.
 */

const evidence = {
  from: 'transcript',
  files: [{ path: 'src/a.ts', action: 'edited', added: 3, removed: 1 }],
  commands: [{ command: 'npm test', exit: 1, tests: { failed: 2, passed: 5 }, tail: ['FAIL src/a.test.ts', 'Tests: 2 failed, 5 passed'] }],
};

let relay: Relay | null = null;
afterEach(async () => {
  await relay?.stop();
  relay = null;
});

describe('evidence in a turn', () => {
  it('is sent beside the message, kept whole in the record, and summarised in the pane', async () => {
    const paths = tempRoot();
    const chat = scriptedChat(() => ({ text: 'Two tests fail: fix them first.' }));
    relay = openRelay(paths, { chat });
    await relay.start();
    enqueue(paths, '1-session-1.json', { session_id: 'session-1', content: 'All tests pass. Awaiting review.', evidence });
    const got = new Map<string, string[]>();
    await until(
      () => (got.get('session-1')?.length ?? 0) > 0,
      'the reply',
      15_000,
      () => ackAll(paths, got),
    );

    const sent = lastUser(chat.requests[0]);
    expect(sent).toContain('All tests pass. Awaiting review.');
    expect(sent).toMatch(/<evidence source="transcript">[\s\S]*exit 1: npm test \[tests: 2 failed, 5 passed\][\s\S]*<\/evidence>$/);
    expect(sent.indexOf('Awaiting review.')).toBeLessThan(sent.indexOf('<evidence'));

    const turn = relay.historyPage({ beforeSeq: null, limit: 10 }).turns.at(-1)!;
    expect(turn.user).toContain('</evidence>');
    expect(turn.evidence).toMatch(/1 file.*npm test ✗ 2 failed/);

    const rows = itemLines({ kind: 'turn', e: tailEntry(turn) }, 80).map((l) => l.parts.map((p) => p.text).join(''));
    const shown = rows.join('\n');
    expect(shown).toContain('All tests pass. Awaiting review.');
    expect(shown).not.toContain('<evidence');
    expect(shown).toMatch(/⚙ 1 file.*npm test ✗ 2 failed/);
  });

  it('leaves a turn without evidence as it was', async () => {
    const paths = tempRoot();
    const chat = scriptedChat();
    relay = openRelay(paths, { chat });
    await relay.start();
    enqueue(paths, '1-session-1.json', { session_id: 'session-1', content: 'plain' });
    const got = new Map<string, string[]>();
    await until(
      () => (got.get('session-1')?.length ?? 0) > 0,
      'the reply',
      15_000,
      () => ackAll(paths, got),
    );
    expect(lastUser(chat.requests[0])).not.toContain('<evidence');
    expect(relay.historyPage({ beforeSeq: null, limit: 10 }).turns.at(-1)!.evidence).toBeUndefined();
  });
});
