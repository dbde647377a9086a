import crypto from 'node:crypto';
import fs from 'node:fs';
import dotenv from 'dotenv';
import { writeAtomic } from '../adapters/fs-atomic.js';

/**
 * .env in the relay root. The real environment wins over the file; an empty value in
 * the real environment counts as unset so a stray `export ANTHROPIC_API_KEY=` does not
 * hide the key in .env.
 */

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
  try {
    // dotenv.parse treats `KEY= # comment` as an empty value, which is what SPEC.md asks.
    return dotenv.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
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
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const re = new RegExp(`^\\s*(export\\s+)?${key}\\s*=`);
  const at = lines.findIndex((l) => re.test(l));
  const line = `${key}=${value}`;
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  writeAtomic(file, lines.join('\n') + '\n', 0o600);
  fs.chmodSync(file, 0o600);
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
  if (fs.existsSync(file)) fs.chmodSync(file, 0o600);
  return { topic, replyTopic, created };
}
