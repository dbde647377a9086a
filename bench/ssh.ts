// The session side over ssh (issue 15): what a hook or a send costs when the relay is
// on another machine, with and without ssh connection sharing (ControlMaster), against
// a throwaway sshd on 127.0.0.1 and a spawned relay with the fake Messages API.
//
//   node .bench/bench/ssh.js      measures and rewrites the "Remote sessions" section of BENCHMARKS.md
//
// measureSsh() is also callable from run.ts. Everything it starts is ended in finally.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakes, type Fakes } from './fakes.js';
import { startSshd, sshdUnavailable, type Sshd } from './sshd.js';
import { childEnv, CLI, cleanupAll, log, makeRoot, median, now, pct, REPO, spawnRelay, stopChild, until } from './util.js';

export interface SshFigures {
  samples: number;
  /** ms, each a list of samples */
  sshTrueCold: number[];
  sshTrueShared: number[];
  sendLocal: number[];
  sendCold: number[];
  sendShared: number[];
  hookLocal: number[];
  hookCold: number[];
  hookShared: number[];
  load: string;
}

function run(
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<{ ms: number; code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = now();
    const child = spawn(args[0], args.slice(1), { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin!.end(input);
    child.once('exit', (code) => resolve({ ms: now() - t0, code: code ?? -1, stdout, stderr }));
  });
}

const stopJson = (n: number) =>
  JSON.stringify({
    session_id: 'bench',
    transcript_path: '/nonexistent',
    cwd: '/tmp',
    hook_event_name: 'Stop',
    stop_hook_active: false,
    last_assistant_message: `Step ${n} done; tests pass. #t${n}#`,
  });

export async function measureSsh(o: { samples: number }): Promise<SshFigures> {
  let sshd: Sshd | undefined;
  let fakes: Fakes | undefined;
  const relays: ReturnType<typeof spawnRelay>[] = [];
  try {
    sshd = await startSshd({ keys: ['main'] });
    fakes = await startFakes();
    const p = makeRoot({ sessions: ['bench-1', 'bench-2'], env: fakes.env, config: { hooks: { max_chain: 1_000_000 } } });
    const relay = spawnRelay(['--no-ui', '--root', p.root]);
    relays.push(relay);
    await until(
      () => {
        try {
          return JSON.parse(fs.readFileSync(p.status, 'utf8')).pid === relay.pid;
        } catch {
          return false;
        }
      },
      20_000,
      'the relay to start',
    );
    const base = childEnv({ RELAY_REMOTE_BIN: `${process.execPath} ${CLI}`, RELAY_SESSION_HOST: 'bench-box' });
    const shared = { ...base, RELAY_SSH: sshd.relaySsh };
    const cold = { ...base, RELAY_SSH: `ssh -F ${sshd.sshConfig} -o ControlPath=none` };
    const target = `relayhost:${p.root}`;
    const f: SshFigures = {
      samples: o.samples,
      sshTrueCold: [],
      sshTrueShared: [],
      sendLocal: [],
      sendCold: [],
      sendShared: [],
      hookLocal: [],
      hookCold: [],
      hookShared: [],
      load: '',
    };
    const check = (r: Awaited<ReturnType<typeof run>>, what: string, re: RegExp) => {
      if (r.code !== 0 || !re.test(r.stdout)) throw new Error(`bench ssh: ${what} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
      return r.ms;
    };
    // One unmeasured call opens the shared connection (it stays, ControlPersist) and warms the caches.
    check(
      await run(
        [
          'ssh',
          '-F',
          sshd.sshConfig,
          '-o',
          `ControlPath=${sshd.dir}/cm-%C`,
          '-o',
          'ControlMaster=auto',
          '-o',
          'ControlPersist=600',
          'relayhost',
          'true',
        ],
        base,
      ),
      'warm-up',
      /^/,
    );
    const ssh = (env: Record<string, string>) => [
      ...env.RELAY_SSH.split(' '),
      '-o',
      'BatchMode=yes',
      ...(env === shared ? ['-o', 'ControlMaster=auto', '-o', 'ControlPersist=600'] : []),
      'relayhost',
      'true',
    ];
    let n = 0;
    for (let i = 0; i < o.samples; i++) {
      // Interleaved, so that load from elsewhere falls on every variant alike.
      f.sshTrueCold.push(check(await run(ssh(cold), base), 'ssh true', /^/));
      f.sshTrueShared.push(check(await run(ssh(shared), base), 'ssh true (shared)', /^/));
      f.sendLocal.push(
        check(await run([process.execPath, CLI, 'send', '--root', p.root, '--session', 'bench-1', `local ${i}`], base), 'send', /^queue\//),
      );
      f.sendCold.push(
        check(
          await run([process.execPath, CLI, 'send', '--remote', target, '--session', 'bench-1', `cold ${i}`], cold),
          'send --remote',
          /^queue\//,
        ),
      );
      f.sendShared.push(
        check(
          await run([process.execPath, CLI, 'send', '--remote', target, '--session', 'bench-1', `shared ${i}`], shared),
          'send --remote (shared)',
          /^queue\//,
        ),
      );
      // bench-1's replies pile up in dispatch/; bench-2 is the hook's session, each reply consumed by its hook.
      f.hookLocal.push(
        check(
          await run([process.execPath, CLI, 'hook', 'stop', '--root', p.root, '--session', 'bench-2'], base, stopJson(++n)),
          'hook stop',
          /"decision":"block"/,
        ),
      );
      f.hookCold.push(
        check(
          await run([process.execPath, CLI, 'hook', 'stop', '--remote', target, '--session', 'bench-2'], cold, stopJson(++n)),
          'hook stop --remote',
          /"decision":"block"/,
        ),
      );
      f.hookShared.push(
        check(
          await run([process.execPath, CLI, 'hook', 'stop', '--remote', target, '--session', 'bench-2'], shared, stopJson(++n)),
          'hook stop --remote (shared)',
          /"decision":"block"/,
        ),
      );
    }
    f.load = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    return f;
  } finally {
    for (const r of relays) await stopChild(r);
    await fakes?.close();
    await sshd?.stop();
  }
}

const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ms (p90 ${pct(xs, 90).toFixed(0)})`;

export function renderSsh(f: SshFigures, date = new Date()): string {
  const d = (a: number[], b: number[]) => `${(median(a) - median(b)).toFixed(0)} ms`;
  return [
    '## Remote sessions over ssh',
    '',
    `Written by \`node .bench/bench/ssh.js\` (bench/ssh.ts) on ${date.toISOString()}; ${f.samples} samples of each, interleaved; load average at the end ${f.load} (2 cores: above 2, other work shared the CPUs). A throwaway sshd on 127.0.0.1 (so no network latency is in these figures: add your round-trip time once per connection, and the key exchange's round trips for a new one), a spawned \`relay-tui --no-ui\` against the fake Messages API, the far side the same checkout (RELAY_REMOTE_BIN). Each figure is spawn → exit of the whole command as a hook runs it. "New connection": \`RELAY_SSH\` with \`-o ControlPath=none\`; "shared": the default ControlMaster/ControlPersist socket, already open.`,
    '',
    '| # | figure (median, p90) | local (no ssh) | over ssh, new connection | over ssh, shared connection |',
    '|---|---|---|---|---|',
    `| S1 | \`ssh host true\` | — | ${fmt(f.sshTrueCold)} | ${fmt(f.sshTrueShared)} |`,
    `| S2 | \`relay-tui send\` (envelope durable in queue/) | ${fmt(f.sendLocal)} | ${fmt(f.sendCold)} | ${fmt(f.sendShared)} |`,
    `| S3 | \`relay-tui hook stop\` round trip (Stop JSON in → the relay's turn → decision out) | ${fmt(f.hookLocal)} | ${fmt(f.hookCold)} | ${fmt(f.hookShared)} |`,
    '',
    `Sharing saves ${d(f.hookCold, f.hookShared)} a hook call here (the key exchange and authentication of a new connection); what remains over the local figure is ssh's session set-up plus the far side's own Node start-up (relay-tui runs there as a new process: ${d(f.hookShared, f.hookLocal)} on top of the local hook).`,
    '',
  ].join('\n');
}

const START = '<!-- ssh-bench:start -->';
const END = '<!-- ssh-bench:end -->';

/** Replaces this section of BENCHMARKS.md (or appends it), leaving the rest as it is. */
export function writeSection(file: string, section: string): void {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${START}\n${section}${END}\n`;
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  const next = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length + 1) : `${text.trimEnd()}\n\n${block}`;
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, next);
  fs.renameSync(tmp, file);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const why = sshdUnavailable();
  if (why) {
    log(`ssh bench skipped: ${why}`);
    process.exit(0);
  }
  const samples = Number(process.env.SSH_BENCH_SAMPLES ?? 15);
  const stop = () => void cleanupAll().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  measureSsh({ samples })
    .then((f) => {
      const section = renderSsh(f);
      writeSection(path.join(REPO, 'BENCHMARKS.md'), section);
      process.stdout.write(section);
    })
    .catch((err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exitCode = 1;
    })
    .finally(() => cleanupAll());
}
