import YAML from 'yaml';
import type { z } from 'zod';
import { ConfinementError, readTextConfined } from '../fs/confine.js';
import { writeAtomic } from '../fs/atomic.js';
import { DEFAULT_CONFIG_YAML } from './defaults.js';
import { configSchema, type Config } from './schema.js';

import { ConfigError } from './errors.js';

export interface LoadedConfig {
  config: Config;
  warnings: string[];
  seeded: boolean;
}

function keyPath(path: PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/** The value at `path` inside a parsed YAML document (mappings and sequences), or undefined. */
function valueAt(doc: unknown, path: PropertyKey[]): unknown {
  let at = doc;
  for (const p of path) at = at !== null && at !== undefined ? (at as Record<PropertyKey, unknown>)[p] : undefined;
  return at;
}

function dropKeys(obj: unknown, path: PropertyKey[], keys: string[]): void {
  const at = valueAt(obj, path);
  if (at && typeof at === 'object') for (const k of keys) delete (at as Record<string, unknown>)[k];
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const value = valueAt(raw, issue.path);
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

/** config.yaml is read by hand, not by a tool: anything bigger is not a config file. */
const MAX_CONFIG_BYTES = 1024 * 1024;
/** yaml's own default; named here because the error message quotes it. */
const MAX_ALIAS_COUNT = 100;

function readConfigText(file: string, seed: boolean): { text: string; seeded: boolean } {
  let text: string | undefined;
  try {
    // Not followed if it is a link, not opened blocking if it is a FIFO (see adapters/confine).
    text = readTextConfined(file, { maxBytes: MAX_CONFIG_BYTES, limitName: 'the 1 MiB a config file may have' });
  } catch (err) {
    throw new ConfigError(
      file,
      '',
      err instanceof ConfinementError ? `cannot use it: ${err.message}` : `cannot read: ${(err as Error).message}`,
    );
  }
  if (text !== undefined) return { text, seeded: false };
  if (!seed) throw new ConfigError(file, '', 'cannot read: it does not exist');
  try {
    writeAtomic(file, DEFAULT_CONFIG_YAML, 0o644);
  } catch (err) {
    throw new ConfigError(file, '', `cannot create it: ${(err as Error).message}`);
  }
  return { text: DEFAULT_CONFIG_YAML, seeded: true };
}

function lineOf(lc: YAML.LineCounter, offset: number | undefined): string {
  if (offset === undefined) return '';
  const { line, col } = lc.linePos(offset);
  return `line ${line}, column ${col}`;
}

/**
 * doc.toJS() with alias expansion capped (a "billion laughs" document expands a few
 * lines into gigabytes). yaml's error has no position, so each alias notes itself as it
 * is expanded: the one being expanded when the cap trips is the line reported.
 */
function toJsBounded(doc: YAML.Document.Parsed, lc: YAML.LineCounter, file: string): unknown {
  let current: YAML.Alias | undefined;
  YAML.visit(doc, {
    Alias(_key, node) {
      // Document#toJS converts every node through its toJSON(arg, ctx).
      const original = node.toJSON.bind(node);
      node.toJSON = ((...args: Parameters<YAML.Alias['toJSON']>) => {
        current = node;
        return original(...args);
      }) as YAML.Alias['toJSON'];
    },
  });
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const where = lineOf(lc, current?.range?.[0]);
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      throw new ConfigError(
        file,
        where,
        `refused: aliases expand beyond ${MAX_ALIAS_COUNT} nodes (${current ? `*${current.source}` : 'an alias'}; a YAML alias bomb?)`,
      );
    }
    throw new ConfigError(file, where, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

export function loadConfig(file: string, opts: { seed?: boolean } = {}): LoadedConfig {
  const { text, seeded } = readConfigText(file, opts.seed !== false);
  const lc = new YAML.LineCounter();
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { prettyErrors: true, lineCounter: lc, maxAliasCount: MAX_ALIAS_COUNT } as YAML.ParseOptions);
  } catch (err) {
    throw new ConfigError(file, '', `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc.errors.length) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new ConfigError(file, where, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const { config, warnings } = validateConfig(toJsBounded(doc, lc, file), file);
  return { config, warnings, seeded };
}
