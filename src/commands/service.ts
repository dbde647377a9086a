import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomic } from '../fs/atomic.js';
import type { RootPaths } from '../protocol/root.js';

/**
 * `relay-tui service install`: a systemd unit that keeps `relay-tui --no-ui` running
 * on one root. Absolute paths for node and for the entry point, so the unit does not
 * depend on a PATH that systemd does not have; the root's .env as the environment;
 * stdout to the journal while the relay writes logs/relay.log itself.
 */

export interface ServiceOptions {
  paths: RootPaths;
  user: boolean;
  print: boolean;
  env?: NodeJS.ProcessEnv;
  out?: (s: string) => void;
  err?: (s: string) => void;
}

/** The entry a shell would run: bin/relay-tui.js of this very install. */
export function entryPath(): string {
  return fileURLToPath(new URL('../../bin/relay-tui.js', import.meta.url));
}

/**
 * systemd splits ExecStart like a shell, with its own specifiers: `%` is doubled,
 * `$` would expand a variable. Quote a word only when it needs it.
 */
export function systemdWord(s: string): string {
  const escaped = s.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A unit name per root: the folder's name, and a short hash of its path so two "relay" folders differ. */
export function unitName(root: string): string {
  const base =
    path
      .basename(root)
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'root';
  const hash = crypto.createHash('sha256').update(root).digest('hex').slice(0, 6);
  return `relay-tui-${base}-${hash}.service`;
}

/** The user name of uid, from /etc/passwd; the number when it is not there (systemd takes both). */
function userName(uid: number): string {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid) return f[0];
    }
  } catch {
    /* no /etc/passwd: fall back to the number */
  }
  return String(uid);
}

/** The exit codes the relay uses for what a restart cannot fix: usage (2), lock held (3), config or key (4). */
const NO_RESTART = '2 3 4';

export function renderUnit(o: { root: string; user: boolean; node: string; entry: string; runAs?: string }): string {
  const exec = [o.node, o.entry, '--no-ui', '--root', o.root].map(systemdWord).join(' ');
  const lines = [
    '# Written by relay-tui service install. Rewrite it with the same command after moving',
    '# relay-tui or node; the paths below are absolute on purpose (systemd has no PATH of yours).',
    '[Unit]',
    `Description=relay-tui relay on ${o.root}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    ...(o.runAs ? [`User=${o.runAs}`] : []),
    `WorkingDirectory=${systemdWord(o.root)}`,
    // "-": a missing .env is the relay's to report (it names the file and the key).
    `EnvironmentFile=-${systemdWord(path.join(o.root, '.env'))}`,
    `ExecStart=${exec}`,
    'Restart=on-failure',
    'RestartSec=5',
    `RestartPreventExitStatus=${NO_RESTART}`,
    // The relay finishes the write in hand on SIGTERM and exits 0; give it time.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'StandardOutput=journal',
    'StandardError=journal',
    'SyslogIdentifier=relay-tui',
    '',
    '[Install]',
    `WantedBy=${o.user ? 'default.target' : 'multi-user.target'}`,
    '',
  ];
  return lines.join('\n');
}

/**
 * systemd reads EnvironmentFile with its own rules, and the real environment wins
 * over .env for the relay: a line the two read differently would override the key.
 */
export function envFileHazards(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith(';')) return;
    const m = t.match(/^(export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!m) return;
    if (m[1]) out.push(`line ${i + 1}: "export ${m[2]}=": systemd does not take "export"; write ${m[2]}=...`);
    const v = m[3];
    if (!/^["']/.test(v) && /(^|\s)#/.test(v))
      out.push(`line ${i + 1}: ${m[2]} has a # comment after it: systemd keeps it as part of the value; put the comment on its own line`);
  });
  return out;
}

export function serviceInstallCommand(o: ServiceOptions): number {
  const env = o.env ?? process.env;
  const out = o.out ?? ((s: string) => process.stdout.write(s));
  const err = o.err ?? ((s: string) => process.stderr.write(s));
  const root = o.paths.root;
  const name = unitName(root);
  const dir = o.user ? path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'systemd', 'user') : '/etc/systemd/system';
  const file = path.join(dir, name);
  // A system unit runs as whoever owns the root, so the files it writes keep their owner and modes.
  const runAs = o.user ? undefined : userName(fs.statSync(root).uid);
  const unit = renderUnit({ root, user: o.user, node: process.execPath, entry: entryPath(), runAs });

  try {
    for (const h of envFileHazards(fs.readFileSync(o.paths.env, 'utf8'))) err(`relay-tui service: warning: ${o.paths.env} ${h}\n`);
  } catch {
    err(`relay-tui service: warning: ${o.paths.env} does not exist yet; put ANTHROPIC_API_KEY=... in it before starting the service\n`);
  }

  const ctl = o.user ? 'systemctl --user' : 'sudo systemctl';
  const journal = o.user ? 'journalctl --user' : 'journalctl';
  const steps = [
    `${ctl} daemon-reload`,
    `${ctl} enable --now ${name}`,
    `${ctl} status ${name}`,
    `${journal} -u ${name} -f          # the log (also in ${path.join(root, 'logs', 'relay.log')})`,
    ...(o.user ? [`loginctl enable-linger ${os.userInfo().username}   # keep it running when you are logged out`] : []),
  ];

  if (o.print) {
    out(unit);
    err(`relay-tui service: would write ${file}; nothing was written. Then:\n${steps.map((s) => `  ${s}`).join('\n')}\n`);
    return 0;
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    writeAtomic(file, unit, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint =
      code === 'EACCES' || code === 'EPERM'
        ? o.user
          ? ''
          : '; a system unit needs root: sudo relay-tui service install, or use --user'
        : '';
    err(`relay-tui service: cannot write ${file}: ${code ?? (e as Error).message}${hint}\n`);
    return 1;
  }
  out(`wrote ${file}\n  runs: ${unit.match(/^ExecStart=(.*)$/m)![1]}\nnow:\n${steps.map((s) => `  ${s}`).join('\n')}\n`);
  return 0;
}
