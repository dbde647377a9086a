// A throwaway OpenSSH server on 127.0.0.1 for the SSH tests and the SSH bench: its own
// host key, client keys and authorized_keys in a temp dir, run in the foreground
// (`sshd -D -e`) so that killing it ends it. Never part of the CLI.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SSHD_BIN = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((f) => fs.existsSync(f));

/** Why a throwaway sshd cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (!SSHD_BIN) return 'sshd is not installed (Debian: apt-get install openssh-server)';
  for (const tool of ['ssh', 'ssh-keygen']) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${tool} is not installed (Debian: apt-get install openssh-client)`;
    }
  }
  if (process.getuid?.() !== 0) return 'sshd runs as root here (it needs /run/sshd and to switch users)';
  return undefined;
}

export interface ClientKey {
  name: string;
  file: string;
  pub: string;
}

export interface Sshd {
  dir: string;
  port: number;
  /** -F this file: Host aliases below, each with its key and the temp known_hosts. */
  sshConfig: string;
  /** `ssh -F <sshConfig> -o ControlPath=<dir>/cm-%C` as RELAY_SSH wants it. */
  relaySsh: string;
  user: string;
  keys: Record<string, ClientKey>;
  /** What sshd wrote (-e), for a failing test's message. */
  log(): string;
  /** Appends authorized_keys lines (read by sshd on every login). */
  authorize(lines: string[]): void;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(file: string, comment: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });
  return fs.readFileSync(`${file}.pub`, 'utf8').trim();
}

/**
 * Hosts in the generated ssh_config:
 *   relayhost        127.0.0.1:port with key "main"
 *   relayhost-<key>  the same server with another key (e.g. one restricted by command=)
 *   relayhost-down   a port nothing listens on
 * `authorizedKeys` get the keys' public halves (the test chooses which, and how restricted).
 */
export async function startSshd(o: {
  keys: string[];
  authorized?: (keys: Record<string, ClientKey>) => string[];
  base?: string;
}): Promise<Sshd> {
  const dir = fs.mkdtempSync(path.join(o.base ?? os.tmpdir(), 'relay-sshd-'));
  fs.chmodSync(dir, 0o700);
  let child: ChildProcess | undefined;
  let out = '';
  try {
    // The privilege-separation directory sshd insists on; the package creates it at boot normally.
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const hostKey = path.join(dir, 'host_ed25519');
    const hostPub = keygen(hostKey, 'relay-test-host');
    const keys: Record<string, ClientKey> = {};
    for (const name of o.keys) {
      const file = path.join(dir, `id_${name}`);
      keys[name] = { name, file, pub: keygen(file, `relay-test-${name}`) };
    }
    const authorizedFile = path.join(dir, 'authorized_keys');
    fs.writeFileSync(authorizedFile, (o.authorized ? o.authorized(keys) : Object.values(keys).map((k) => k.pub)).join('\n') + '\n', {
      mode: 0o600,
    });
    const user = os.userInfo().username;
    const downPort = await freePort();
    let port = 0;
    // A port found free can be taken before sshd binds it: try a few.
    for (let attempt = 0; attempt < 5 && !child; attempt++) {
      port = await freePort();
      const config = path.join(dir, 'sshd_config');
      fs.writeFileSync(
        config,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKey}`,
          `AuthorizedKeysFile ${authorizedFile}`,
          'PidFile none',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'PermitRootLogin prohibit-password',
          // The temp dir's modes are not what sshd checks for in a home directory.
          'StrictModes no',
          'PermitUserEnvironment no',
          'AcceptEnv none',
          'MaxSessions 50',
          'MaxStartups 50:30:100',
          'LogLevel INFO',
          '',
        ].join('\n'),
      );
      const c = spawn(SSHD_BIN!, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      out = '';
      c.stderr!.on('data', (d) => (out += d));
      const up = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 15_000);
        const onData = () => {
          if (/Server listening on 127\.0\.0\.1 port/.test(out)) {
            clearTimeout(timer);
            resolve(true);
          }
        };
        c.stderr!.on('data', onData);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (up) child = c;
      else {
        c.kill('SIGKILL');
        if (!/Address already in use|Cannot bind/.test(out)) throw new Error(`sshd did not start:\n${out}`);
      }
    }
    if (!child) throw new Error(`sshd did not start:\n${out}`);
    const knownHosts = path.join(dir, 'known_hosts');
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`);
    const common = (p: number) => [
      '  HostName 127.0.0.1',
      `  Port ${p}`,
      `  User ${user}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  CheckHostIP no',
    ];
    const lines: string[] = [];
    const main = o.keys[0];
    lines.push('Host relayhost', ...common(port), `  IdentityFile ${keys[main].file}`, '');
    for (const name of o.keys) lines.push(`Host relayhost-${name}`, ...common(port), `  IdentityFile ${keys[name].file}`, '');
    lines.push('Host relayhost-down', ...common(downPort), `  IdentityFile ${keys[main].file}`, '');
    const sshConfig = path.join(dir, 'ssh_config');
    fs.writeFileSync(sshConfig, lines.join('\n'));
    const running = child;
    return {
      dir,
      port,
      sshConfig,
      relaySsh: `ssh -F ${sshConfig} -o ControlPath=${dir}/cm-%C`,
      user,
      keys,
      log: () => out,
      authorize(more) {
        fs.appendFileSync(authorizedFile, more.join('\n') + '\n');
      },
      async stop() {
        // Masters (ControlPersist) end when the server goes; ask them first so none lingers.
        for (const host of ['relayhost', ...o.keys.map((k) => `relayhost-${k}`)]) {
          try {
            execFileSync('ssh', ['-F', sshConfig, '-o', `ControlPath=${dir}/cm-%C`, '-O', 'exit', host], {
              stdio: 'ignore',
              timeout: 5000,
            });
          } catch {
            /* no master for that host */
          }
        }
        if (running.exitCode === null) {
          const gone = new Promise((r) => running.once('exit', r));
          running.kill('SIGTERM');
          await gone;
        }
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    child?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
