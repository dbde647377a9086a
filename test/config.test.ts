import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DEFAULT_CONFIG_YAML } from '../src/config/defaults.js';
import { ensureTopics, generateTopic, mergeEnv, readDotenv, setDotenvValue } from '../src/config/env.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig, validateConfig } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';

const REPO_CONFIG = path.resolve(__dirname, '..', 'config.yaml');

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-config-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});

function writeConfig(text: string): string {
  const file = path.join(tmp(), 'config.yaml');
  fs.writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('defaults', () => {
  it('seeds config.yaml on first run and it parses to the schema defaults', () => {
    const file = path.join(tmp(), 'config.yaml');
    expect(fs.existsSync(file)).toBe(false);
    const loaded = loadConfig(file);
    expect(loaded.seeded).toBe(true);
    expect(loaded.warnings).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe(DEFAULT_CONFIG_YAML);
    expect(loaded.config).toEqual(configSchema.parse({}));
    // A second load reads the file it seeded and does not seed again.
    const again = loadConfig(file);
    expect(again.seeded).toBe(false);
    expect(again.config).toEqual(loaded.config);
  });

  it('DEFAULT_CONFIG_YAML spells out every default exactly (no trailing-newline drift in block scalars)', () => {
    const raw = YAML.parse(DEFAULT_CONFIG_YAML);
    const defaults = configSchema.parse({});
    expect(raw.model).toBe(defaults.model);
    expect(raw.system_prompt).toBe(defaults.system_prompt);
    expect(raw.history.summarization_prompt).toBe(defaults.history.summarization_prompt);
    expect(configSchema.parse(raw)).toEqual(defaults);
    // Every top-level key of the schema appears in the seeded file.
    expect(Object.keys(raw).sort()).toEqual(Object.keys(defaults).sort());
  });

  it('does not seed when told not to, and says it cannot read the file', () => {
    const file = path.join(tmp(), 'config.yaml');
    const err = configError(() => loadConfig(file, { seed: false }));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/cannot read/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it.skipIf(!fs.existsSync(REPO_CONFIG))('the committed top-level config.yaml equals DEFAULT_CONFIG_YAML', () => {
    expect(fs.readFileSync(REPO_CONFIG, 'utf8')).toBe(DEFAULT_CONFIG_YAML);
  });

  it('an empty file means all defaults', () => {
    const file = writeConfig('');
    const loaded = loadConfig(file);
    expect(loaded.seeded).toBe(false);
    expect(loaded.config).toEqual(configSchema.parse({}));
  });
});

describe('unknown keys', () => {
  it('a top-level unknown key is a warning naming it, and the rest of the file still applies', () => {
    const file = writeConfig('modle: claude-haiku-4-5\nmax_tokens: 1000\n');
    const { config, warnings } = loadConfig(file);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('modle');
    expect(warnings[0]).toContain(file);
    expect(config.max_tokens).toBe(1000);
    expect(config.model).toBe('claude-opus-5-5');
    expect(config).not.toHaveProperty('modle');
  });

  it('a nested unknown key is a warning naming its full path', () => {
    const file = writeConfig('guardrails:\n  budget_usd_per_dya: 50\n  max_auto_turns: 3\n');
    const { config, warnings } = loadConfig(file);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('guardrails.budget_usd_per_dya');
    expect(config.guardrails.max_auto_turns).toBe(3);
    expect(config.guardrails.budget_usd_per_day).toBe(20);
    expect(config.guardrails).not.toHaveProperty('budget_usd_per_dya');
  });

  it('an unknown key inside a session entry names the index', () => {
    const file = writeConfig('sessions:\n  - id: s1\n    descripton: typo\n');
    const { config, warnings } = loadConfig(file);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('sessions[0].descripton');
    expect(config.sessions).toEqual([{ id: 's1' }]);
  });

  it('several unknown keys give one warning each', () => {
    const { warnings } = validateConfig({ foo: 1, bar: 2, ntfy: { alway: true } }, 'c.yaml');
    expect(warnings).toHaveLength(3);
    expect(warnings.join('\n')).toMatch(/foo/);
    expect(warnings.join('\n')).toMatch(/bar/);
    expect(warnings.join('\n')).toMatch(/ntfy\.alway/);
  });

  it('an unknown key next to a wrong type still fails on the wrong type', () => {
    const file = writeConfig('foo: 1\nmax_tokens: lots\n');
    const err = configError(() => loadConfig(file));
    expect(err.key).toBe('max_tokens');
  });
});

describe('wrong types are ConfigErrors naming file, key and problem', () => {
  it('max_tokens: "lots"', () => {
    const file = writeConfig('max_tokens: "lots"\n');
    const err = configError(() => loadConfig(file));
    expect(err.file).toBe(file);
    expect(err.key).toBe('max_tokens');
    expect(err.message).toContain(file);
    expect(err.message).toContain('max_tokens');
    expect(err.message).toMatch(/number/i);
    expect(err.message).toContain('"lots"');
  });

  it('sessions: [{id: "bad id"}]', () => {
    const file = writeConfig('sessions:\n  - id: "bad id"\n');
    const err = configError(() => loadConfig(file));
    expect(err.key).toBe('sessions[0].id');
    expect(err.message).toContain(file);
    expect(err.message).toContain('sessions[0].id');
    expect(err.message).toContain('bad id');
    expect(err.message).toMatch(/must match/);
  });

  it('history.cap_tokens: -1', () => {
    const file = writeConfig('history:\n  cap_tokens: -1\n');
    const err = configError(() => loadConfig(file));
    expect(err.key).toBe('history.cap_tokens');
    expect(err.message).toContain(file);
    expect(err.message).toContain('history.cap_tokens');
    expect(err.message).toMatch(/-1/);
    expect(err.message).toMatch(/>0|positive|greater/i);
  });

  it('strict_sessions: "yes" (a string, not a boolean)', () => {
    const err = configError(() => validateConfig({ strict_sessions: 'yes' }, 'x.yaml'));
    expect(err.key).toBe('strict_sessions');
    expect(err.message).toMatch(/boolean/i);
  });

  it('a top level that is not a mapping', () => {
    const file = writeConfig('- a\n- b\n');
    const err = configError(() => loadConfig(file));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/mapping/);
  });

  it('invalid YAML names the line', () => {
    const file = writeConfig('model: claude-opus-4-7\nmax_tokens: 4096\nsessions: [\n  - id: x\nhistory: {\n');
    const err = configError(() => loadConfig(file));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/line \d+/);
    expect(err.message).toMatch(/not valid YAML/);
  });

  it('invalid YAML on a known line reports that line', () => {
    const file = writeConfig('model: a\nmax_tokens: 1\nsystem_prompt: @bad\n');
    const err = configError(() => loadConfig(file));
    expect(err.key).toBe('line 3, column 16');
    expect(err.message).toMatch(/reserved character @/);
  });

  it('a key given twice in the YAML is an error naming the line', () => {
    const file = writeConfig('model: a\nmax_tokens: 1\nmodel: b\n');
    const err = configError(() => loadConfig(file));
    expect(err.key).toMatch(/^line 3\b/);
    expect(err.message).toMatch(/unique/);
  });

  it('duplicate session ids', () => {
    const file = writeConfig('sessions:\n  - id: s1\n  - id: s2\n  - id: s1\n');
    const err = configError(() => loadConfig(file));
    expect(err.key).toBe('sessions[2].id');
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/duplicate session id s1/);
  });
});

describe('.env', () => {
  it('the real environment wins over .env', () => {
    const env = mergeEnv({ ANTHROPIC_API_KEY: 'from-file', NTFY_TOPIC: 't-file' }, { ANTHROPIC_API_KEY: 'from-real' });
    expect(env.ANTHROPIC_API_KEY).toBe('from-real');
    expect(env.NTFY_TOPIC).toBe('t-file');
  });

  it('an empty real variable counts as unset', () => {
    const env = mergeEnv({ ANTHROPIC_API_KEY: 'from-file' }, { ANTHROPIC_API_KEY: '' });
    expect(env.ANTHROPIC_API_KEY).toBe('from-file');
  });

  it('empty in both places is absent, and unrelated keys are not carried over', () => {
    const env = mergeEnv({ NTFY_TOKEN: '', OTHER: 'x' }, { NTFY_TOKEN: '', PATH: '/bin' });
    expect(env).not.toHaveProperty('NTFY_TOKEN');
    expect(env).not.toHaveProperty('OTHER');
    expect(env).not.toHaveProperty('PATH');
  });

  it('KEY= # comment is an empty value, not the comment', () => {
    const file = path.join(tmp(), '.env');
    fs.writeFileSync(file, 'ANTHROPIC_API_KEY= # paste your key here\nNTFY_TOPIC=abc # trailing\nNTFY_SERVER="http://x#y"\n');
    const vars = readDotenv(file);
    expect(vars.ANTHROPIC_API_KEY).toBe('');
    expect(vars.NTFY_TOPIC).toBe('abc');
    expect(vars.NTFY_SERVER).toBe('http://x#y');
    expect(mergeEnv(vars, {})).not.toHaveProperty('ANTHROPIC_API_KEY');
  });

  it('a missing .env reads as empty', () => {
    expect(readDotenv(path.join(tmp(), '.env'))).toEqual({});
  });

  it('setDotenvValue replaces in place and keeps every other line, comment and the order', () => {
    const file = path.join(tmp(), '.env');
    const before = [
      '# relay secrets',
      'ANTHROPIC_API_KEY=sk-1',
      '',
      '# ntfy',
      'NTFY_TOPIC= # generated',
      'NTFY_SERVER=https://ntfy.example',
    ];
    fs.writeFileSync(file, before.join('\n') + '\n');
    setDotenvValue(file, 'NTFY_TOPIC', 'relay-abc');
    const after = fs.readFileSync(file, 'utf8').split('\n');
    expect(after).toEqual([
      '# relay secrets',
      'ANTHROPIC_API_KEY=sk-1',
      '',
      '# ntfy',
      'NTFY_TOPIC=relay-abc',
      'NTFY_SERVER=https://ntfy.example',
      '',
    ]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('setDotenvValue appends a new key at the end and creates the file 0600', () => {
    const dir = tmp();
    const file = path.join(dir, '.env');
    setDotenvValue(file, 'NTFY_TOPIC', 'one');
    expect(fs.readFileSync(file, 'utf8')).toBe('NTFY_TOPIC=one\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    setDotenvValue(file, 'NTFY_TOKEN', 'tok');
    expect(fs.readFileSync(file, 'utf8')).toBe('NTFY_TOPIC=one\nNTFY_TOKEN=tok\n');
    // No temp file left behind.
    expect(fs.readdirSync(dir)).toEqual(['.env']);
  });

  it('setDotenvValue replaces an `export KEY=` line and tightens an existing file to 0600', () => {
    const file = path.join(tmp(), '.env');
    fs.writeFileSync(file, 'export NTFY_TOPIC=old\nX=1\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    setDotenvValue(file, 'NTFY_TOPIC', 'new');
    expect(fs.readFileSync(file, 'utf8')).toBe('NTFY_TOPIC=new\nX=1\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('setDotenvValue does not touch a key that merely starts with the same name', () => {
    const file = path.join(tmp(), '.env');
    fs.writeFileSync(file, 'NTFY_TOPIC_OLD=keep\n');
    setDotenvValue(file, 'NTFY_TOPIC', 'x');
    expect(fs.readFileSync(file, 'utf8')).toBe('NTFY_TOPIC_OLD=keep\nNTFY_TOPIC=x\n');
  });
});

describe('topics', () => {
  it('generateTopic is URL-safe with at least 128 bits (22 base64url chars after the prefix), and never repeats', () => {
    const a = generateTopic();
    const b = generateTopic();
    expect(a).toMatch(/^relay-[A-Za-z0-9_-]{22}$/);
    expect(b).toMatch(/^relay-[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
    expect(encodeURIComponent(a)).toBe(a);
    expect(generateTopic('relay-reply')).toMatch(/^relay-reply-[A-Za-z0-9_-]{22}$/);
    // 22 base64url chars carry 132 bits; the 16 random bytes decode back.
    expect(Buffer.from(a.slice('relay-'.length), 'base64url')).toHaveLength(16);
  });

  it('ensureTopics creates NTFY_TOPIC and NTFY_REPLY_TOPIC once (0600) and keeps them on a second call', () => {
    const file = path.join(tmp(), '.env');
    const first = ensureTopics(file, mergeEnv(readDotenv(file), {}));
    expect(first.created.sort()).toEqual(['NTFY_REPLY_TOPIC', 'NTFY_TOPIC']);
    expect(first.topic).toMatch(/^relay-[A-Za-z0-9_-]{22}$/);
    expect(first.replyTopic).toMatch(/^relay-reply-[A-Za-z0-9_-]{22}$/);
    expect(first.topic).not.toBe(first.replyTopic);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const vars = readDotenv(file);
    expect(vars.NTFY_TOPIC).toBe(first.topic);
    expect(vars.NTFY_REPLY_TOPIC).toBe(first.replyTopic);

    const text = fs.readFileSync(file, 'utf8');
    const second = ensureTopics(file, mergeEnv(readDotenv(file), {}));
    expect(second.created).toEqual([]);
    expect(second.topic).toBe(first.topic);
    expect(second.replyTopic).toBe(first.replyTopic);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it('ensureTopics keeps a topic from the real environment and does not write it to .env', () => {
    const file = path.join(tmp(), '.env');
    fs.writeFileSync(file, 'ANTHROPIC_API_KEY=sk\n');
    const r = ensureTopics(file, mergeEnv(readDotenv(file), { NTFY_TOPIC: 'mine' }));
    expect(r.topic).toBe('mine');
    expect(r.created).toEqual(['NTFY_REPLY_TOPIC']);
    const vars = readDotenv(file);
    expect(vars.NTFY_TOPIC).toBeUndefined();
    expect(vars.ANTHROPIC_API_KEY).toBe('sk');
  });

  it('a reply topic equal to the topic is replaced, so the two never collide', () => {
    const file = path.join(tmp(), '.env');
    fs.writeFileSync(file, 'NTFY_TOPIC=same\nNTFY_REPLY_TOPIC=same\n');
    const r = ensureTopics(file, mergeEnv(readDotenv(file), {}));
    expect(r.topic).toBe('same');
    expect(r.replyTopic).not.toBe('same');
    expect(r.created).toEqual(['NTFY_REPLY_TOPIC']);
    expect(fs.readFileSync(file, 'utf8')).toBe(`NTFY_TOPIC=same\nNTFY_REPLY_TOPIC=${r.replyTopic}\n`);
  });
});
