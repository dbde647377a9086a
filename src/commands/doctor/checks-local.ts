import fs from 'node:fs';
import path from 'node:path';
import { lockHolder } from '../../fs/lock.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { localDay } from '../../engine/journals/ledger.js';
import { lifecycleWarning } from '../../pricing/prices.js';
import { INPUT_FILE, type RootPaths } from '../../protocol/root.js';
import { whyNotRoot, type ChosenRoot } from '../require-root.js';

/** One line of the doctor's report. */
export interface Finding {
  level: 'ok' | 'warn' | 'fail';
  text: string;
  fix?: string;
}

export const ok = (text: string): Finding => ({ level: 'ok', text });
export const warn = (text: string, fix?: string): Finding => ({ level: 'warn', text, fix });
export const bad = (text: string, fix?: string): Finding => ({ level: 'fail', text, fix });

/** engines.node in package.json: the oldest Node the code runs on. */
const NODE_MIN = [20, 19];

export function checkNode(version = process.versions.node): Finding {
  const [maj, min] = version.split('.').map(Number);
  const fine = maj > NODE_MIN[0] || (maj === NODE_MIN[0] && min >= NODE_MIN[1]);
  return fine
    ? ok(`node ${version} (needs >= ${NODE_MIN.join('.')})`)
    : bad(
        `node ${version} is too old (needs >= ${NODE_MIN.join('.')})`,
        'install a current Node LTS (https://nodejs.org), then npm install -g relay-tui again',
      );
}

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

function kind(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'a regular file';
}

const lstat = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false });

/** The root exists, is one, and holds what the relay expects, of the right kind and mode. */
export function checkLayout(chosen: ChosenRoot, p: RootPaths): { findings: Finding[]; isRoot: boolean } {
  const why = whyNotRoot(chosen.dir);
  if (why) {
    return {
      isRoot: false,
      findings: [
        bad(
          `not a relay root: ${chosen.dir} (from ${chosen.source}): ${why}`,
          `start the relay there once: relay-tui --no-ui --root ${chosen.dir} (or give doctor the right --root)`,
        ),
      ],
    };
  }
  const out: Finding[] = [ok(`relay root ${chosen.dir} (from ${chosen.source})`)];
  const state = lstat(p.state)!;
  if (state.mode & 0o077) out.push(bad(`state/ is mode ${octal(state.mode)}: others can read the conversation`, `chmod 700 ${p.state}`));
  else out.push(ok(`state/ is mode ${octal(state.mode)}`));

  for (const dir of [p.queue, p.dispatch, p.logs]) {
    const st = lstat(dir);
    const name = path.relative(p.root, dir) + '/';
    if (!st) out.push(warn(`${name} is missing`, 'the relay creates it when it starts'));
    else if (!st.isDirectory())
      out.push(
        bad(
          `${name} is ${kind(st)}, not a directory: the relay refuses to use it`,
          `move it away (mv ${dir} ${dir}.old); the relay recreates it`,
        ),
      );
  }

  const env = lstat(p.env);
  if (!env)
    out.push(
      warn(
        '.env is missing: no API key or ntfy topic stored in the root',
        `the relay creates it on start; put ANTHROPIC_API_KEY=sk-ant-... in ${p.env}`,
      ),
    );
  else if (!env.isFile())
    out.push(
      bad(
        `.env is ${kind(env)}, not a regular file`,
        `replace it with a regular file: rm ${p.env}, then write ANTHROPIC_API_KEY=... into a new one`,
      ),
    );
  else if (env.mode & 0o077) out.push(bad(`.env is mode ${octal(env.mode)}: the API key is readable by others`, `chmod 600 ${p.env}`));
  else out.push(ok(`.env is mode ${octal(env.mode)}`));

  const cfg = lstat(p.config);
  if (cfg && !cfg.isFile())
    out.push(
      bad(
        `config.yaml is ${kind(cfg)}, not a regular file`,
        `replace it with a regular file (the relay seeds one with defaults if none is there)`,
      ),
    );

  out.push(...checkLinks(p));
  const holder = lockHolder(p.lock);
  out.push(
    holder
      ? ok(`a relay is running on this root (pid ${holder.pid})`)
      : warn(
          'no relay is running on this root',
          `start one: relay-tui --root ${p.root} (TUI), relay-tui --no-ui, or relay-tui service install`,
        ),
  );
  return { findings: out, isRoot: true };
}

/** How many entries to look at per directory: a doctor answers in seconds even on a flooded queue. */
const SCAN_LIMIT = 2000;

/** Symlinks or odd files where the relay reads and writes: it refuses them, a session stalls. */
function checkLinks(p: RootPaths): Finding[] {
  const found: string[] = [];
  const look = (file: string, wantDir: boolean) => {
    const st = lstat(file);
    if (!st) return;
    if (st.isSymbolicLink() || (wantDir ? !st.isDirectory() : !st.isFile())) found.push(`${path.relative(p.root, file)} is ${kind(st)}`);
  };
  const list = (dir: string) => {
    try {
      return fs.readdirSync(dir).slice(0, SCAN_LIMIT);
    } catch {
      return [];
    }
  };
  for (const name of list(p.state)) {
    const st = lstat(path.join(p.state, name));
    if (st?.isSymbolicLink()) found.push(`state/${name} is a symlink`);
  }
  for (const id of list(p.dispatch)) {
    const dir = path.join(p.dispatch, id);
    look(dir, true);
    if (lstat(dir)?.isDirectory()) look(path.join(dir, INPUT_FILE), false);
  }
  if (!found.length) return [ok('no symlinks or special files in state/ and dispatch/')];
  const more = found.length > 3 ? ` and ${found.length - 3} more` : '';
  return [
    bad(
      `${found.slice(0, 3).join('; ')}${more}: the relay refuses these (a session's replies would stall)`,
      'replace each with a regular file or directory (or remove it: the relay recreates what it needs)',
    ),
  ];
}

/** The config as the relay would read it; doctor needs its model and sessions. */
export function checkConfig(file: string): { finding: Finding; config?: Config } {
  if (!fs.existsSync(file))
    return { finding: warn(`${file} does not exist`, 'the relay seeds it with defaults on start; edit sessions: and model: then') };
  try {
    const { config, warnings } = loadConfig(file, { seed: false });
    const retiring = lifecycleWarning(config.model, localDay(Date.now()));
    if (retiring) warnings.push(retiring);
    if (warnings.length) {
      const fix = retiring && warnings.length === 1 ? 'change model: in config.yaml' : 'fix or remove the keys named';
      return { config, finding: warn(`${file}: ${warnings.join('; ')}`, fix) };
    }
    return { config, finding: ok(`${file} is valid (model ${config.model}, ${config.sessions.length} session(s))`) };
  } catch (err) {
    return { finding: bad(`config: ${(err as Error).message}`, `fix ${file}; the relay will not start until it parses`) };
  }
}

/** Defaults on most distributions are 8192 watches / 128 instances; editors and Claude Code take their share. */
const MIN_WATCHES = 8192;
const MIN_INSTANCES = 128;

export function checkInotify(procDir = '/proc/sys/fs/inotify', platform: NodeJS.Platform = process.platform): Finding[] {
  // macOS watches through FSEvents, which has no per-user limit to check; no claim beyond that.
  if (platform !== 'linux') return [ok(`${platform}: file watching does not use inotify; no watch limits to check`)];
  const read = (name: string): number | undefined => {
    try {
      return Number(fs.readFileSync(path.join(procDir, name), 'utf8').trim());
    } catch {
      return undefined;
    }
  };
  const watches = read('max_user_watches');
  const instances = read('max_user_instances');
  if (watches === undefined && instances === undefined)
    return [warn(`cannot read ${procDir} (not Linux?): file watching may fall back to slower paths`)];
  const out: Finding[] = [];
  const fixW = `sudo sysctl fs.inotify.max_user_watches=524288 (and in /etc/sysctl.d/60-inotify.conf to keep it)`;
  const fixI = `sudo sysctl fs.inotify.max_user_instances=512 (and in /etc/sysctl.d/60-inotify.conf to keep it)`;
  if (watches === undefined || !Number.isFinite(watches)) out.push(warn('fs.inotify.max_user_watches unreadable', fixW));
  else if (watches < MIN_WATCHES)
    out.push(warn(`fs.inotify.max_user_watches is ${watches}: the relay may miss queue/ and dispatch/ changes`, fixW));
  else out.push(ok(`fs.inotify.max_user_watches ${watches}`));
  if (instances === undefined || !Number.isFinite(instances)) out.push(warn('fs.inotify.max_user_instances unreadable', fixI));
  else if (instances < MIN_INSTANCES)
    out.push(warn(`fs.inotify.max_user_instances is ${instances}: a relay beside editors and several Claude Codes may run out`, fixI));
  else out.push(ok(`fs.inotify.max_user_instances ${instances}`));
  return out;
}
