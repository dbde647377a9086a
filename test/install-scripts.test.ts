import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * npm 11 runs no dependency's install script unless package.json's `allowScripts` covers
 * it, and ends every `npm ci` with a warning listing those it skipped. Every package the
 * lockfile marks as having an install script must be decided here (approved or denied),
 * so that a fresh install is quiet and a new one is noticed.
 */

const REPO = path.resolve(__dirname, '..');
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(REPO, f), 'utf8')) as Record<string, any>;

/** A name-only entry (`esbuild`) or a pinned one (`esbuild@0.28.2`) decides that package. */
function decided(allow: Record<string, boolean>, name: string, version: string): boolean {
  return Object.keys(allow).some((k) => k === name || k === `${name}@${version}`);
}

describe('install scripts (npm 11 allowScripts)', () => {
  it('every dependency with an install script in package-lock.json is decided in package.json', () => {
    const lock = readJson('package-lock.json');
    const allow = (readJson('package.json').allowScripts ?? {}) as Record<string, boolean>;
    const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean; version?: string }>)
      .filter(([key, p]) => key !== '' && p.hasInstallScript)
      .map(([key, p]) => ({ name: key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length), version: p.version ?? '' }));
    expect(withScripts.length, 'the lockfile lists no install script: is it the v3 format?').toBeGreaterThan(0);
    const undecided = withScripts.filter((p) => !decided(allow, p.name, p.version)).map((p) => `${p.name}@${p.version}`);
    expect(undecided).toEqual([]);
  });
});
