import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FALLBACK_MS, watchDir } from '../src/fs/watch.js';

describe('watchDir', () => {
  it('reports the changed name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-'));
    const seen = new Promise<string | null>((resolve) => {
      const stop = watchDir(dir, (name) => {
        if (name === 'a.json') {
          stop();
          resolve(name);
        }
      });
    });
    fs.writeFileSync(path.join(dir, 'a.json'), '{}');
    expect(await seen).toBe('a.json');
    fs.rmSync(dir, { recursive: true });
  });

  it('a directory that cannot be watched is reported and rescanned instead of going deaf', async () => {
    const missing = path.join(os.tmpdir(), `watch-missing-${process.pid}`);
    const errors: string[] = [];
    let rescans = 0;
    let stop = () => {};
    await new Promise<void>((resolve) => {
      stop = watchDir(
        missing,
        (name) => {
          expect(name).toBeNull();
          if (++rescans === 2) resolve();
        },
        (message) => errors.push(message),
      );
    });
    stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(missing);
    expect(errors[0]).toContain(`every ${FALLBACK_MS / 1000} s`);
  });
});
