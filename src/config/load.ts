import fs from 'node:fs';
import YAML from 'yaml';
import type { z } from 'zod';
import { writeAtomic } from '../adapters/fs-atomic.js';
import { DEFAULT_CONFIG_YAML } from './defaults.js';
import { configSchema, type Config } from './schema.js';

/** A config problem the user must fix: names the file, the key and what is wrong. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${file}: ${key ? `${key}: ` : ''}${reason}`);
  }
}

export interface LoadedConfig {
  config: Config;
  warnings: string[];
  seeded: boolean;
}

function keyPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

function dropKeys(obj: any, path: PropertyKey[], keys: string[]): void {
  let at = obj;
  for (const p of path) at = at?.[p as any];
  if (at && typeof at === 'object') for (const k of keys) delete at[k];
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  let value: any = raw;
  for (const p of issue.path) value = value?.[p as any];
  const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
  return `${issue.message}${got}`;
}

/** Validates an already-parsed YAML document; exported for tests and `relay-tui check`. */
export function validateConfig(raw: unknown, file: string): { config: Config; warnings: string[] } {
  const doc = raw ?? {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(file, '', 'expected a mapping of keys at the top level');
  }
  const warnings: string[] = [];
  let result = configSchema.safeParse(doc);
  if (!result.success) {
    const unknown = result.error.issues.filter((i) => i.code === 'unrecognized_keys');
    const real = result.error.issues.filter((i) => i.code !== 'unrecognized_keys');
    if (real.length) {
      const first = real[0];
      throw new ConfigError(file, keyPath(first.path), describeIssue(first, doc));
    }
    const copy = structuredClone(doc);
    for (const issue of unknown) {
      const keys = (issue as z.core.$ZodIssueUnrecognizedKeys).keys;
      for (const k of keys) warnings.push(`${file}: unknown key ${keyPath([...issue.path, k])} (ignored; is it a typo?)`);
      dropKeys(copy, issue.path, keys);
    }
    result = configSchema.safeParse(copy);
    if (!result.success) {
      const first = result.error.issues[0];
      throw new ConfigError(file, keyPath(first.path), first.message);
    }
  }
  const config = result.data;
  const seen = new Set<string>();
  config.sessions.forEach((s, i) => {
    if (seen.has(s.id)) throw new ConfigError(file, `sessions[${i}].id`, `duplicate session id ${s.id}`);
    seen.add(s.id);
  });
  return { config, warnings };
}

export function loadConfig(file: string, opts: { seed?: boolean } = {}): LoadedConfig {
  let text: string;
  let seeded = false;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || opts.seed === false) {
      throw new ConfigError(file, '', `cannot read: ${(err as Error).message}`);
    }
    writeAtomic(file, DEFAULT_CONFIG_YAML, 0o644);
    text = DEFAULT_CONFIG_YAML;
    seeded = true;
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new ConfigError(file, where, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const { config, warnings } = validateConfig(doc.toJS(), file);
  return { config, warnings, seeded };
}
