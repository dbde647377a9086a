import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hookSpecs, installCommand, mergeHookSettings, shellQuote } from '../src/commands/hook/install.js';
import { appendNotice, HookNoticeReader, noticesFile, type HookNotice } from '../src/protocol/hook-notices.js';
import {
  describeToolUse,
  fitEnvelopeContent,
  frameReply,
  lastAssistantText,
  lastAssistantTextFromFile,
  lastToolUse,
  MAX_REASON_CHARS,
  replyReason,
} from '../src/commands/hook/text.js';
import { chainCount } from '../src/commands/hook/chain.js';
import { rootPaths } from '../src/protocol/root.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-hook-unit-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const line = (o: unknown) => JSON.stringify(o);
const user = (text: string) => line({ type: 'user', isSidechain: false, message: { role: 'user', content: text }, uuid: 'u' });
const toolResult = () =>
  line({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] } });
const asst = (id: string, content: unknown, extra: Record<string, unknown> = {}) =>
  line({
    type: 'assistant',
    isSidechain: false,
    message: { id, type: 'message', role: 'assistant', model: 'claude-opus-4-7', content },
    ...extra,
  });

describe('transcript parsing', () => {
  it('takes the text blocks of the last assistant message, joined across its lines', () => {
    const jsonl = [
      line({ type: 'summary', summary: 'x', leafUuid: 'l' }),
      user('Refactor the API'),
      asst('msg_1', [{ type: 'text', text: 'Looking at it.' }]),
      asst('msg_1', [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }]),
      toolResult(),
      asst('msg_2', [{ type: 'thinking', thinking: 'hmm' }]),
      asst('msg_2', [{ type: 'text', text: 'Done: 3 files changed.' }]),
      asst('msg_2', [{ type: 'text', text: 'Tests pass.' }]),
      line({ type: 'system', content: 'Stop hook ran' }),
      '',
    ].join('\n');
    expect(lastAssistantText(jsonl)).toBe('Done: 3 files changed.\n\nTests pass.');
  });

  it('skips sub-agent lines, torn lines and string content', () => {
    const jsonl = [
      user('go'),
      asst('msg_1', 'Main answer as a string.'),
      asst('msg_9', [{ type: 'text', text: 'sub-agent chatter' }], { isSidechain: true }),
      '{"type":"assistant","message":{"content":[{"type":"te', // torn last line
    ].join('\n');
    expect(lastAssistantText(jsonl)).toBe('Main answer as a string.');
  });

  it('never reaches back past the prompt that started the turn', () => {
    const jsonl = [
      user('first'),
      asst('msg_1', [{ type: 'text', text: 'old answer' }]),
      user('second'),
      asst('msg_2', [{ type: 'tool_use', id: 't', name: 'x', input: {} }]),
    ].join('\n');
    expect(lastAssistantText(jsonl)).toBeUndefined();
    expect(lastAssistantText('')).toBeUndefined();
    expect(lastAssistantText('not json\n[1,2]\n')).toBeUndefined();
  });

  it('reads a transcript file, and a missing one is undefined', () => {
    const file = path.join(dir, 't.jsonl');
    fs.writeFileSync(file, [user('hi'), asst('m', [{ type: 'text', text: 'from the file' }])].join('\n') + '\n');
    expect(lastAssistantTextFromFile(file)).toBe('from the file');
    expect(lastAssistantTextFromFile(path.join(dir, 'nope.jsonl'))).toBeUndefined();
  });
});

describe('the tool a permission prompt is about', () => {
  it('is the last tool call of the transcript, named with its one telling argument', () => {
    const jsonl = [
      user('run the tests'),
      asst('m1', [{ type: 'tool_use', id: 't1', name: 'Read', input: { file_path: '/a.ts' } }]),
      asst('m2', [
        { type: 'text', text: 'now' },
        { type: 'tool_use', id: 't2', name: 'Bash', input: { command: 'npm   test\n -- --run', description: 'Run tests' } },
      ]),
    ].join('\n');
    const t = lastToolUse(jsonl)!;
    expect(t.name).toBe('Bash');
    expect(describeToolUse(t)).toBe('Bash: npm test -- --run');
    expect(describeToolUse({ name: 'Edit', input: { file_path: '/src/x.ts', old_string: 'a' } })).toBe('Edit: /src/x.ts');
    expect(describeToolUse({ name: 'mcp__db__query', input: {} })).toBe('mcp__db__query');
    expect(describeToolUse({ name: 'Bash', input: { command: 'x'.repeat(500) } }).length).toBeLessThan(180);
    expect(lastToolUse(user('hi'))).toBeUndefined();
  });
});

describe('settings merge', () => {
  const specs = hookSpecs({ bin: '/opt/relay tui/bin/relay-tui.js', session: 'session-1', root: '/srv/relay' });
  const F = '/p/.claude/settings.json';

  it('adds every hook to an empty file: Stop, the late-reply waiter, UserPromptSubmit, StopFailure, Notification', () => {
    const { settings, changes } = mergeHookSettings(undefined, specs, F);
    expect(changes).toEqual([
      'added the Stop hook',
      'added the Stop (late-reply waiter) hook',
      'added the UserPromptSubmit hook',
      'added the StopFailure hook',
      'added the Notification hook',
    ]);
    const hooks = settings.hooks as any;
    expect(hooks.Stop[0].hooks[0]).toEqual({
      type: 'command',
      command: "node '/opt/relay tui/bin/relay-tui-hook.js' stop --session session-1 --root /srv/relay",
      timeout: 600,
    });
    // Its own entry point, so nothing but a hand-over exits 2; long timeout, since Claude Code kills it at that.
    expect(hooks.Stop[1].hooks[0]).toEqual({
      type: 'command',
      command: "node '/opt/relay tui/bin/relay-tui-hook-wait.js' --session session-1 --root /srv/relay",
      timeout: 86_400,
      async: true,
      asyncRewake: true,
    });
    expect(hooks.UserPromptSubmit[0].hooks[0].command).toContain("relay-tui-hook.js' prompt --session session-1 ");
    expect(hooks.StopFailure[0].hooks[0].command).toContain("relay-tui-hook.js' stop-failure --session session-1 ");
    expect(hooks.Notification[0].hooks[0].command).toContain("relay-tui-hook.js' notify --session session-1 ");
  });

  it('the Stop hook window is passed on when given', () => {
    const withWindow = hookSpecs({ bin: '/b/relay-tui.js', session: 's', root: '/r', windowS: 5 });
    expect(withWindow[0].command).toBe('node /b/relay-tui-hook.js stop --session s --root /r --timeout 5');
    expect(withWindow[1].command).not.toContain('--timeout');
  });

  it('keeps every other key and hook, and a second merge changes nothing', () => {
    const existing = {
      $schema: 'https://json.schemastore.org/claude-code-settings.json',
      permissions: { allow: ['Bash(npm test:*)'] },
      env: { FOO: '1' },
      hooks: {
        PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'echo pre' }] }],
        Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }],
      },
    };
    const before = structuredClone(existing);
    const first = mergeHookSettings(existing, specs, F);
    expect(existing).toEqual(before); // not mutated
    const s = first.settings as any;
    expect(s.$schema).toBe(existing.$schema);
    expect(s.permissions).toEqual(existing.permissions);
    expect(s.env).toEqual({ FOO: '1' });
    expect(s.hooks.PreToolUse).toEqual(existing.hooks.PreToolUse);
    expect(s.hooks.Stop).toHaveLength(3); // theirs, ours, the waiter
    expect(s.hooks.Stop[0]).toEqual({ hooks: [{ type: 'command', command: 'say done' }] });
    const second = mergeHookSettings(first.settings, specs, F);
    expect(second.changes).toEqual([]);
    expect(JSON.stringify(second.settings)).toBe(JSON.stringify(first.settings));
  });

  it('updates an entry of ours in place (new session, moved checkout) and drops duplicates', () => {
    const old = 'node /old/bin/relay-tui.js hook stop --session session-9 --root /srv/relay';
    const existing = {
      hooks: {
        Stop: [
          {
            hooks: [
              { type: 'command', command: 'say done' },
              { type: 'command', command: old, timeout: 60 },
            ],
          },
          { hooks: [{ type: 'command', command: old }] },
        ],
        Notification: [{ matcher: 'permission_prompt', hooks: [{ type: 'command', command: 'npx relay-tui hook notify --session x' }] }],
      },
    };
    const { settings, changes } = mergeHookSettings(existing, specs, F);
    expect(changes).toEqual([
      'updated the Stop hook',
      'removed 1 duplicate Stop hook(s)',
      'added the Stop (late-reply waiter) hook',
      'added the UserPromptSubmit hook',
      'added the StopFailure hook',
      'updated the Notification hook',
    ]);
    const s = settings as any;
    expect(s.hooks.Stop).toHaveLength(2);
    expect(s.hooks.Stop[0].hooks).toEqual([
      { type: 'command', command: 'say done' },
      { type: 'command', command: specs[0].command, timeout: 600 },
    ]);
    expect(s.hooks.Notification[0].matcher).toBe('permission_prompt');
    expect(s.hooks.Notification[0].hooks[0].command).toBe(specs[4].command);
    // A waiter entry that lost its asyncRewake flag (hand edit) is put right.
    delete s.hooks.Stop[1].hooks[0].asyncRewake;
    expect(mergeHookSettings(s, specs, F).changes).toEqual(['updated the Stop (late-reply waiter) hook']);
  });

  it('refuses shapes Claude Code would not accept', () => {
    expect(() => mergeHookSettings([], specs, F)).toThrow(/top level/);
    expect(() => mergeHookSettings({ hooks: [] }, specs, F)).toThrow(/"hooks" must be an object/);
    expect(() => mergeHookSettings({ hooks: { Stop: {} } }, specs, F)).toThrow(/hooks.Stop" must be an array/);
  });

  it('quotes for the shell only when needed', () => {
    expect(shellQuote('/a/b-c_d.js')).toBe('/a/b-c_d.js');
    expect(shellQuote("/it's here")).toBe(`'/it'\\''s here'`);
  });

  it('installCommand: writes atomically, keeps indentation, is idempotent; a malformed file is exit 4 and untouched', () => {
    const project = path.join(dir, 'proj');
    fs.mkdirSync(path.join(project, '.claude'), { recursive: true });
    const file = path.join(project, '.claude', 'settings.json');
    fs.writeFileSync(file, '{\n    "model": "opus"\n}\n');
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
    expect(installCommand({ session: 'session-1', project, root: dir, print: false }, io)).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/^\{\n {4}"model": "opus",\n {4}"hooks"/);
    expect(installCommand({ session: 'session-1', project, root: dir, print: false }, io)).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(out.join('')).toContain('nothing changed');
    fs.writeFileSync(file, '{ "model": "opus", }');
    out.length = 0;
    expect(installCommand({ session: 'session-1', project, root: dir, print: false }, io)).toBe(4);
    expect(out.join('')).toContain(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('{ "model": "opus", }');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['settings.json']);
  });
});

describe('long replies', () => {
  it('a reply that fits is the reason as it is, framed: the hook itself asks, and says where it comes from', () => {
    const r = replyReason('short', { session: 's', root: '/srv/relay', repliesDir: path.join(dir, 'replies') });
    expect(r.reason).toBe(frameReply('short', { session: 's', root: '/srv/relay' }));
    expect(r.reason).toMatch(/^relay-tui, the Stop hook configured in this project, asks you to continue/);
    expect(r.reason).toContain("this project's configured reviewer relay (relay-tui, root /srv/relay, session s)");
    expect(r.reason.endsWith('<reviewer-reply>\nshort\n</reviewer-reply>')).toBe(true);
    expect(frameReply('x', { session: 's', root: '/r', late: true })).toContain('arrived after your previous turn had ended');
    expect(fs.existsSync(path.join(dir, 'replies'))).toBe(false);
  });

  it('a reply of 29,000 characters (under the measured 30,010 that reached the model) is not spilled', () => {
    const r = replyReason('a'.repeat(29_000), { session: 's', root: '/r', repliesDir: path.join(dir, 'replies') });
    expect(r.file).toBeUndefined();
    expect(r.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
  });

  it('a long reply goes whole to a 0600 file; the reason has its start and says where', () => {
    const para = (i: number) => `Paragraph ${i}: ${'lorem ipsum '.repeat(40)}\n`;
    const reply = Array.from({ length: 80 }, (_, i) => para(i)).join('');
    expect(reply.length).toBeGreaterThan(MAX_REASON_CHARS);
    const repliesDir = path.join(dir, 'replies');
    const r = replyReason(reply, { session: 'session-1', root: '/r', repliesDir, now: new Date('2026-05-02T15:30:00.123Z') });
    expect(r.file).toBe(path.join(repliesDir, 'session-1-2026-05-02T15-30-00-123Z.md'));
    expect(fs.readFileSync(r.file!, 'utf8')).toBe(reply);
    expect(fs.statSync(r.file!).mode & 0o777).toBe(0o600);
    expect(r.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(r.reason).toContain(r.file!);
    expect(r.reason).toContain('Paragraph 0:');
    expect(r.reason).toMatch(/continues in .*\.md\]\n<\/reviewer-reply>$/);
    // Cut at a line break, not mid-paragraph.
    const inline = r.reason.split('\n\n[relay-tui: the reply continues')[0];
    expect(r.reason).toContain('<reviewer-reply>');
    expect(inline.endsWith('lorem ipsum')).toBe(true);
  });

  it('never splits a surrogate pair', () => {
    const reply = '😀'.repeat(6000);
    const r = replyReason(reply, { session: 's', root: '/r', repliesDir: path.join(dir, 'r'), max: 901 });
    expect(r.reason.length).toBeLessThanOrEqual(901);
    expect(() => encodeURIComponent(r.reason)).not.toThrow();
  });

  it('an oversized message is cut to fit the envelope limit, start and end kept', () => {
    const msg = `START ${'x"\n'.repeat(50_000)} END`;
    const fitted = fitEnvelopeContent(msg, 16_384);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(16_384 - 1024);
    expect(fitted.startsWith('START')).toBe(true);
    expect(fitted.endsWith('END')).toBe(true);
    expect(fitted).toContain('cut by relay-tui');
    expect(fitEnvelopeContent('small', 16_384)).toBe('small');
  });
});

describe('chain count and notices', () => {
  it('counts from the baseline set at the human prompt; a relay reset clears it', () => {
    expect(chainCount(4, 0)).toEqual({ count: 4, base: 0 });
    expect(chainCount(9, 6)).toEqual({ count: 3, base: 6 });
    expect(chainCount(1, 6)).toEqual({ count: 1, base: 0 });
  });

  it('appends notices the engine can read incrementally', () => {
    const p = rootPaths(dir);
    fs.mkdirSync(p.logs, { recursive: true });
    const n = (message: string): HookNotice => ({
      at: '2026-05-02T15:30:00.000Z',
      kind: 'notification',
      session: 'session-1',
      title: 'Claude Code',
      message,
      priority: 4,
    });
    appendNotice(p, n('old one'));
    const reader = new HookNoticeReader(noticesFile(p));
    reader.skipExisting();
    expect(reader.readNew()).toEqual([]);
    appendNotice(p, n('Claude needs your permission to use Bash'));
    fs.appendFileSync(noticesFile(p), '{"partial":');
    expect(reader.readNew().map((x) => x.message)).toEqual(['Claude needs your permission to use Bash']);
    fs.appendFileSync(noticesFile(p), '1}\n');
    expect(reader.readNew()).toEqual([]); // not a notice, skipped
    expect(fs.statSync(noticesFile(p)).mode & 0o777).toBe(0o600);
  });

  it('never creates a relay root that is not there', () => {
    const p = rootPaths(path.join(dir, 'nothing-here'));
    expect(appendNotice(p, { at: '', kind: 'chain_cap', session: 's', title: 't', message: 'm', priority: 4 })).toBe(false);
    expect(fs.existsSync(p.root)).toBe(false);
  });
});
