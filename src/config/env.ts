import crypto from 'node:crypto';
import fs from 'node:fs';
import dotenv from 'dotenv';
import { checkFile, ConfinementError, readTextConfined } from '../fs/confine.js';
import { writeAtomic } from '../fs/atomic.js';
import { ConfigError } from './errors.js';

/**
 * .env in the relay root. The real environment wins over the file; an empty value in
 * the real environment counts as unset so a stray `export ANTHROPIC_API_KEY=` does not
 * hide the key in .env.
 *
 * .env holds the API key, so it is the file a planted link would most like to point
 * somewhere (to read another file as "config", to chmod it, or to have the relay copy
 * the key over it). It must be a regular file: otherwise it is refused (ConfigError,
 * exit 4) and neither read, chmod'ed nor replaced.
 */

const MAX_DOTENV_BYTES = 64 * 1024;

function envError(file: string, err: unknown): ConfigError {
  return new ConfigError(
    file,
    '',
    err instanceof ConfinementError ? `cannot use it: ${err.message}` : `cannot read: ${(err as Error).message}`,
  );
}

export const ENV_KEYS = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_BASE_URL',
  'RELAY_ROOT',
  'NTFY_TOPIC',
  'NTFY_REPLY_TOPIC',
  'NTFY_SERVER',
  'NTFY_TOKEN',
] as const;

export type RelayEnv = Partial<Record<(typeof ENV_KEYS)[number], string>>;

export function readDotenv(file: string): Record<string, string> {
  let text: string | undefined;
  try {
    text = readTextConfined(file, { maxBytes: MAX_DOTENV_BYTES, limitName: 'the 64 KiB a .env may have' });
  } catch (err) {
    throw envError(file, err);
  }
  // dotenv.parse treats `KEY= # comment` as an empty value, which is what SPEC.md asks.
  return text === undefined ? {} : dotenv.parse(text);
}

/**
 * chmod 0600 through a descriptor opened without following links, so a link named
 * .env never makes the relay change its target's mode. Returns the reason when .env
 * is there but is not a regular file (the relay's own start refuses it via readDotenv;
 * commands that do not need .env just leave it alone).
 */
export function protectDotenv(file: string): string | undefined {
  let fd: number | undefined;
  try {
    if (!checkFile(file)) return undefined;
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) return `${file}: is not a regular file; refused`;
    fs.fchmodSync(fd, 0o600);
    return undefined;
  } catch (err) {
    return err instanceof ConfinementError ? err.message : `${file}: ${(err as Error).message}`;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function mergeEnv(fileVars: Record<string, string>, real: NodeJS.ProcessEnv): RelayEnv {
  const out: RelayEnv = {};
  for (const key of ENV_KEYS) {
    const fromReal = real[key];
    const value = fromReal !== undefined && fromReal !== '' ? fromReal : fileVars[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** 128 bits of randomness, URL-safe: a topic name nobody can guess. */
export function generateTopic(prefix = 'relay'): string {
  return `${prefix}-${crypto.randomBytes(16).toString('base64url')}`;
}

/**
 * Sets KEY=value in .env, keeping every other line (comments, order, other keys)
 * as it was. An existing line for KEY, even an empty one, is replaced in place.
 */
export function setDotenvValue(file: string, key: string, value: string): void {
  let text: string;
  try {
    text = readTextConfined(file, { maxBytes: MAX_DOTENV_BYTES, limitName: 'the 64 KiB a .env may have' }) ?? '';
  } catch (err) {
    throw envError(file, err);
  }
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const re = new RegExp(`^\\s*(export\\s+)?${key}\\s*=`);
  const at = lines.findIndex((l) => re.test(l));
  const line = `${key}=${value}`;
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  try {
    // Created 0600 and renamed over a regular file (writeAtomic refuses anything else).
    writeAtomic(file, lines.join('\n') + '\n', 0o600);
  } catch (err) {
    throw envError(file, err);
  }
}

/** Creates .env (0600) on first run with a fresh ntfy topic; returns the topic in force. */
export function ensureTopics(file: string, env: RelayEnv): { topic: string; replyTopic: string; created: string[] } {
  const created: string[] = [];
  let topic = env.NTFY_TOPIC;
  if (!topic) {
    topic = generateTopic('relay');
    setDotenvValue(file, 'NTFY_TOPIC', topic);
    created.push('NTFY_TOPIC');
  }
  let replyTopic = env.NTFY_REPLY_TOPIC;
  if (!replyTopic || replyTopic === topic) {
    replyTopic = generateTopic('relay-reply');
    setDotenvValue(file, 'NTFY_REPLY_TOPIC', replyTopic);
    created.push('NTFY_REPLY_TOPIC');
  }
  const refused = protectDotenv(file);
  if (refused) throw new ConfigError(file, '', `cannot use it: ${refused}`);
  return { topic, replyTopic, created };
}
