import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ensureLayout, rootPaths } from '../src/protocol/root.js';
import { CLI } from './helpers/harness.js';

/**
 * The README's hook table is what a user copies when they install by hand or check
 * `/hooks` in Claude Code: it must say what `hook install` really writes. The expected
 * side is the real CLI's `--print` output, never a string copied into this test.
 */

const README = path.resolve(__dirname, '../README.md');
const BIN_DIR = path.dirname(CLI);

interface Row {
  event: string;
  timeout: number;
  async: boolean;
  asyncRewake: boolean;
  command: string;
}

/** The table under `| event | command | what it does |`, one Row per line. */
function readmeRows(): Row[] {
  const lines = fs.readFileSync(README, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^\|\s*event\s*\|\s*command\s*\|/.test(l));
  expect(start, 'README: the hook table (| event | command | …) is missing').toBeGreaterThanOrEqual(0);
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [eventCell, commandCell] = line.split('|').slice(1, 3);
    const event = /`(\w+)`/.exec(eventCell)?.[1] ?? '';
    const timeout = Number(/\((?:timeout )?(\d+)\)/.exec(eventCell)?.[1]);
    rows.push({
      event,
      timeout,
      async: /"async":\s*true/.test(eventCell),
      asyncRewake: /"asyncRewake":\s*true/.test(eventCell),
      command: /`([^`]+)`/.exec(commandCell)?.[1] ?? '',
    });
  }
  return rows;
}

/** What `hook install --print` writes, with this machine's paths put the README's way. */
async function installedRows(): Promise<Row[]> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-readme-'));
  try {
    const root = path.join(base, 'root');
    const project = path.join(base, 'project');
    fs.mkdirSync(project);
    ensureLayout(rootPaths(root));
    const r = await execa(process.execPath, [CLI, 'hook', 'install', '--session', 'S', '--root', root, '--project', project, '--print'], {
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const settings = JSON.parse(r.stdout) as {
      hooks: Record<string, Array<{ hooks: Array<{ command: string; timeout: number; async?: boolean; asyncRewake?: boolean }> }>>;
    };
    const rows: Row[] = [];
    for (const [event, groups] of Object.entries(settings.hooks))
      for (const g of groups)
        for (const h of g.hooks)
          rows.push({
            event,
            timeout: h.timeout,
            async: h.async === true,
            asyncRewake: h.asyncRewake === true,
            command: h.command.split(BIN_DIR).join('…/bin').split(root).join('R'),
          });
    return rows;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

describe('README: the hook table', () => {
  it('lists exactly the hooks `hook install` writes: event, timeout, async flags and command line', async () => {
    const readme = readmeRows();
    const installed = await installedRows();
    expect(installed.length).toBeGreaterThan(0);
    expect(readme).toEqual(installed);
  });
});
