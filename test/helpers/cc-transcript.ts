import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A small transcript in the shape Claude Code 2.1.x writes at a Stop hook's `transcript_path`
 * (one JSON object a line, each chained to the one before by parentUuid), for a turn that
 * creates a file, edits another, runs a failing test and a passing command, and ends with a
 * claim the test run contradicts. Around the turn's own lines, the other entry types the CLI
 * writes (queue-operation, attachment, api-request-blob with the whole request, last-prompt):
 * a secret planted in those must never reach a digest. The real CLI's transcripts are read in
 * test/e2e/evidence.test.ts; this one is for the tests that need a session on "another machine".
 */

export const TURN_CLAIM = 'All tests pass. Awaiting review.';

export interface TurnTranscript {
  file: string;
  /** What the Stop hook's JSON would carry for it. */
  stopInput: Record<string, unknown>;
}

export function writeTurnTranscript(
  dir: string,
  o: { cwd: string; sessionId?: string; command?: string; plantedInBlob?: string; version?: string },
): TurnTranscript {
  const sessionId = o.sessionId ?? crypto.randomUUID();
  const version = o.version ?? '2.1.332';
  const file = path.join(dir, `${sessionId}.jsonl`);
  const lines: string[] = [];
  let parent: string | null = null;
  let t = Date.parse('2026-12-07T08:00:00.000Z');
  const common = () => ({
    parentUuid: parent,
    isSidechain: false,
    userType: 'external',
    entrypoint: 'cli',
    cwd: o.cwd,
    sessionId,
    version,
    gitBranch: 'main',
    timestamp: new Date((t += 700)).toISOString(),
  });
  const push = (e: Record<string, unknown>) => {
    const uuid = crypto.randomUUID();
    lines.push(JSON.stringify({ ...common(), ...e, uuid }));
    parent = uuid;
    return uuid;
  };
  const side = (e: Record<string, unknown>) =>
    lines.push(JSON.stringify({ ...e, sessionId, timestamp: new Date((t += 10)).toISOString() }));
  let msg = 0;
  const assistant = (content: unknown[]) =>
    push({
      type: 'assistant',
      requestId: `req_${++msg}`,
      message: {
        id: `msg_${msg}`,
        type: 'message',
        role: 'assistant',
        model: 'claude-opus-5-5',
        content,
        stop_reason: content.some((c) => (c as { type: string }).type === 'tool_use') ? 'tool_use' : 'end_turn',
        usage: { input_tokens: 12, output_tokens: 40, cache_read_input_tokens: 1800 },
      },
    });
  const toolResult = (id: string, content: string, isError: boolean, toolUseResult: unknown) =>
    push({
      type: 'user',
      message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content, is_error: isError }] },
      toolUseResult,
    });

  side({ type: 'queue-operation', operation: 'enqueue', content: 'Fix add() in src/calc.js and run the tests' });
  side({ type: 'queue-operation', operation: 'dequeue' });
  push({
    type: 'user',
    promptId: crypto.randomUUID(),
    permissionMode: 'default',
    promptSource: 'user',
    message: { role: 'user', content: 'Fix add() in src/calc.js and run the tests' },
  });
  side({ type: 'attachment', attachment: { type: 'todo_reminder', content: [] } });
  side({
    type: 'api-request-blob',
    // The whole request, environment and all: never parsed for a digest.
    blob: `system: You are Claude Code.\nenv: DEPLOY_KEY=${o.plantedInBlob ?? 'none'}\n<tool npm test>`,
  });

  const extra = path.join(o.cwd, 'src/extra.js');
  const extraText = 'export const one = 1;\nexport const two = 2;\n';
  assistant([{ type: 'tool_use', id: 'toolu_01', name: 'Write', input: { file_path: extra, content: extraText } }]);
  toolResult('toolu_01', `File created successfully at: ${extra}`, false, {
    type: 'create',
    filePath: extra,
    content: extraText,
    structuredPatch: [],
    originalFile: null,
  });

  const calc = path.join(o.cwd, 'src/calc.js');
  assistant([
    {
      type: 'tool_use',
      id: 'toolu_02',
      name: 'Edit',
      input: {
        file_path: calc,
        old_string: 'export const add = (a, b) => a - b;',
        new_string: '// fixed\nexport const add = (a, b) => a + b;',
      },
    },
  ]);
  toolResult('toolu_02', `The file ${calc} has been updated.`, false, {
    filePath: calc,
    oldString: 'export const add = (a, b) => a - b;',
    newString: '// fixed\nexport const add = (a, b) => a + b;',
    structuredPatch: [
      {
        oldStart: 1,
        oldLines: 2,
        newStart: 1,
        newLines: 3,
        lines: [
          '-export const add = (a, b) => a - b;',
          '+// fixed',
          '+export const add = (a, b) => a + b;',
          ' export const sub = (a, b) => a - b;',
        ],
      },
    ],
    userModified: false,
    replaceAll: false,
  });

  const failing =
    'Exit code 1\n\n> calc@1.0.0 test\n> node run-tests.js\n\nFAIL test/calc.test.js > add\nAssertionError: expected -1 to be 3\nTests: 2 failed, 5 passed, 7 total';
  assistant([{ type: 'tool_use', id: 'toolu_03', name: 'Bash', input: { command: 'npm test', description: 'Run the tests' } }]);
  toolResult('toolu_03', failing, true, `Error: ${failing}`);

  const command = o.command ?? 'git status --short';
  assistant([{ type: 'tool_use', id: 'toolu_04', name: 'Bash', input: { command, description: 'Check the work tree' } }]);
  toolResult('toolu_04', ' M src/calc.js\n?? src/extra.js', false, {
    stdout: ' M src/calc.js\n?? src/extra.js',
    stderr: '',
    interrupted: false,
    isImage: false,
  });

  assistant([{ type: 'text', text: TURN_CLAIM }]);
  side({ type: 'last-prompt', lastPrompt: 'Fix add() in src/calc.js and run the tests', leafUuid: parent });
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return {
    file,
    stopInput: {
      session_id: sessionId,
      transcript_path: file,
      cwd: o.cwd,
      permission_mode: 'default',
      hook_event_name: 'Stop',
      stop_hook_active: false,
      last_assistant_message: TURN_CLAIM,
    },
  };
}
