// The floor: one durable atomic write of 1 KiB (temp file, write, fsync, rename,
// fsync the directory) through the relay's own writeAtomic. Every other figure is
// also given as a multiple of its median, so the table reads the same on a slow disk.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeAtomic } from '../src/fs/atomic.js';
import { tempDir } from './util.js';

export interface FloorResult {
  samples: number[];
}

export function measureFloor(n = 400, base?: string): FloorResult {
  const dir = tempDir('relay-bench-floor-', base);
  const file = path.join(dir, 'floor.txt');
  const data = Buffer.alloc(1024, 0x61);
  for (let i = 0; i < 20; i++) writeAtomic(file, data);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    writeAtomic(file, data);
    samples.push((performance.now() - t) * 1000);
  }
  return { samples };
}
