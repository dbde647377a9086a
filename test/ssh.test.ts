import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildSshPlan,
  classifyFailure,
  controlDir,
  formatTarget,
  parseTarget,
  quoteFarPath,
  quoteWord,
  remoteProgram,
  RemoteSpecError,
  sshBaseCommand,
  splitShellWords,
} from '../src/adapters/ssh.js';
import { remoteHookSpecs } from '../src/commands/hook/install.js';
import { frame, readFrame } from '../src/commands/remote/guard.js';
import { allowRequest, Refused } from '../src/commands/remote/shell.js';
import { remoteEntry } from '../src/commands/remote/remote.js';

/** What sh itself makes of a command line: the reference for quoting. */
function shWords(line: string): string[] {
  const out = execFileSync('sh', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('parseTarget', () => {
  it('reads [USER@]HOST[:ROOT]', () => {
    expect(parseTarget('workstation')).toEqual({ user: undefined, host: 'workstation', root: undefined });
    expect(parseTarget('jc@workstation:/home/jc/relay')).toEqual({ user: 'jc', host: 'workstation', root: '/home/jc/relay' });
    expect(parseTarget('ws.lan:relay')).toEqual({ user: undefined, host: 'ws.lan', root: 'relay' });
    expect(parseTarget('jc@[fe80::1%eth0]:/r')).toEqual({ user: 'jc', host: 'fe80::1%eth0', root: '/r' });
    expect(parseTarget('[::1]')).toEqual({ user: undefined, host: '::1', root: undefined });
    // A root may itself hold a colon: only the first one splits.
    expect(parseTarget('h:/srv/a:b').root).toBe('/srv/a:b');
  });

  it('refuses what ssh would read as an option, or what is not a host', () => {
    for (const bad of [
      '',
      '-oProxyCommand=x',
      'jc@-oProxyCommand=x',
      '@host',
      'h:',
      'a b',
      '[::1',
      '[::1]x',
      'jc;id@h',
      'h\n',
      'h:/r\nx',
    ]) {
      expect(() => parseTarget(bad), bad).toThrow(RemoteSpecError);
    }
    expect(() => parseTarget('-x')).toThrow(/expected \[USER@\]HOST\[:ROOT\]/);
  });

  it('formats back to the same spelling', () => {
    for (const s of ['h', 'jc@h:/r', '[::1]:/r', 'u@[fe80::1]']) expect(formatTarget(parseTarget(s))).toBe(s);
  });
});

describe('splitShellWords', () => {
  it('splits RELAY_SSH like sh would (quotes, backslashes, $VAR, ~)', () => {
    const env = { HOME: '/home/jc', K: 'key file' };
    expect(splitShellWords('ssh -F ~/.ssh/relay_config', { env, home: '/home/jc' })).toEqual(['ssh', '-F', '/home/jc/.ssh/relay_config']);
    expect(splitShellWords(`ssh -i "$HOME/\${K}" -o 'ProxyJump bastion' a\\ b`, { env, home: '/home/jc' })).toEqual([
      'ssh',
      '-i',
      '/home/jc/key file',
      '-o',
      'ProxyJump bastion',
      'a b',
    ]);
    expect(splitShellWords('a\'b\'"c"d \'\' ""', { env: {} })).toEqual(['abcd', '', '']);
    expect(splitShellWords('mid~/x a#b', { env: {}, home: '/h' })).toEqual(['mid~/x', 'a#b']);
  });

  it('refuses shell syntax rather than guess at it', () => {
    for (const bad of [
      'ssh | tee',
      'ssh; id',
      'ssh && id',
      'ssh > f',
      'ssh $(id)',
      'ssh `id`',
      "ssh 'open",
      'ssh "open',
      'ssh *',
      'ssh # comment',
      'ssh \\',
    ]) {
      expect(() => splitShellWords(bad, { env: {} }), bad).toThrow(/shell syntax is not run here/);
    }
  });

  it('expands nothing for a line from the far end', () => {
    expect(() => splitShellWords('send $HOME')).toThrow(/\$ expansion/);
    expect(splitShellWords("send '$HOME'")).toEqual(['send', '$HOME']);
    expect(splitShellWords('x ~/r', { home: null })).toEqual(['x', '~/r']);
  });

  it('reads back what quoteWord writes, as sh does', () => {
    const samples = ['plain', 'with space', "it's", '$HOME `id` $(x)', 'a\nb', '', '-', '--', 'x;y|z&', 'quote " and \\ back', 'ünïcødé'];
    for (const s of samples) {
      const q = quoteWord(s);
      expect(splitShellWords(q), s).toEqual([s]);
      expect(shWords(q), s).toEqual([s]);
    }
  });

  it("keeps a far path's leading ~/ for the far shell to expand", () => {
    expect(quoteFarPath('~/relay root')).toBe("~/'relay root'");
    expect(quoteFarPath('/srv/relay')).toBe('/srv/relay');
    expect(quoteFarPath("~/it's")).toBe(`~/'it'\\''s'`);
  });
});

describe('the ssh argv', () => {
  const target = parseTarget('jc@ws:/srv/relay');
  it('puts the defaults after $RELAY_SSH (the first -o wins in ssh) and the command last', () => {
    const plan = buildSshPlan({
      target,
      argv: ['hook', 'stop', '--session', 's1'],
      env: { RELAY_SSH: 'ssh -F ./cfg -o ControlPath=none' },
      sessionHost: 'devbox',
      controlDir: '/run/user/1/relay-tui',
    });
    expect(plan.file).toBe('ssh');
    expect(plan.args.slice(0, 4)).toEqual(['-F', './cfg', '-o', 'ControlPath=none']);
    const opts = plan.args.slice(4, -3);
    expect(opts).toEqual(
      expect.arrayContaining([
        'BatchMode=yes',
        'ConnectTimeout=10',
        'ControlMaster=auto',
        'ControlPath=/run/user/1/relay-tui/relay-tui-%C',
        'ControlPersist=600',
        '-T',
        '-l',
        'jc',
      ]),
    );
    expect(opts).not.toContain('-n');
    expect(plan.args.slice(-3)).toEqual([
      '--',
      'ws',
      'env RELAY_REMOTE= RELAY_SESSION_HOST=devbox relay-tui hook stop --session s1 --root /srv/relay',
    ]);
  });

  it('leaves the socket to $RELAY_SSH when it names one', () => {
    const plan = buildSshPlan({
      target,
      argv: ['status'],
      env: { RELAY_SSH: 'ssh -o ControlPath=/tmp/x-%C' },
      controlDir: controlDir({ RELAY_SSH: 'ssh -o ControlPath=/tmp/x-%C' }),
    });
    expect(plan.args.filter((a) => a.startsWith('ControlPath='))).toEqual(['ControlPath=/tmp/x-%C']);
    expect(plan.args).toContain('ControlMaster=auto');
  });

  it('puts control sockets only in a private directory of its own user', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-cdir-'));
    try {
      expect(controlDir({ XDG_RUNTIME_DIR: base, HOME: '/nonexistent' })).toBe(path.join(base, 'relay-tui'));
      expect(fs.statSync(path.join(base, 'relay-tui')).mode & 0o777).toBe(0o700);
      // Shared by others: not for sockets; a symlink neither.
      fs.chmodSync(path.join(base, 'relay-tui'), 0o777);
      const home = path.join(base, 'home');
      fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
      expect(controlDir({ XDG_RUNTIME_DIR: base, HOME: home })).toBe(path.join(home, '.ssh'));
      fs.rmSync(path.join(base, 'relay-tui'), { recursive: true });
      fs.symlinkSync(home, path.join(base, 'relay-tui'));
      expect(controlDir({ XDG_RUNTIME_DIR: base, HOME: home })).toBe(path.join(home, '.ssh'));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('shares no connection without a control dir, and keeps stdin out of commands that read none', () => {
    const plan = buildSshPlan({ target: parseTarget('ws'), argv: ['status', '--json'], env: {}, noStdin: true });
    expect(plan.args.join(' ')).not.toMatch(/Control/);
    expect(plan.args).toContain('-n');
    expect(plan.args).not.toContain('-l');
    expect(plan.remoteCommand).toBe('env RELAY_REMOTE= relay-tui status --json');
  });

  it('runs $RELAY_REMOTE_BIN on the far side, quoted for its shell', () => {
    expect(remoteProgram({ RELAY_REMOTE_BIN: '~/bin/relay-tui' })).toEqual(['~/bin/relay-tui']);
    const plan = buildSshPlan({
      target: parseTarget('h:~/my relay'),
      argv: ['say', '--', "it's $5"],
      env: { RELAY_REMOTE_BIN: "node '/opt/relay tui/bin/relay-tui.js'" },
    });
    expect(plan.remoteCommand).toBe(`env RELAY_REMOTE= node '/opt/relay tui/bin/relay-tui.js' say --root ~/'my relay' -- 'it'\\''s $5'`);
    // What the far shell gets is exactly these words (~ aside, which it expands).
    expect(shWords(plan.remoteCommand.replace('~/', '/HOME/'))).toEqual([
      'env',
      'RELAY_REMOTE=',
      'node',
      '/opt/relay tui/bin/relay-tui.js',
      'say',
      '--root',
      '/HOME/my relay',
      '--',
      "it's $5",
    ]);
  });

  it('says which variable is wrong', () => {
    expect(() => sshBaseCommand({ RELAY_SSH: 'ssh | cat' })).toThrow(/^RELAY_SSH: .*put the command in a script/);
    expect(sshBaseCommand({ RELAY_SSH: '  ' })).toEqual(['ssh']);
    expect(() => remoteProgram({ RELAY_REMOTE_BIN: 'relay-tui; rm -rf ~' })).toThrow(/^RELAY_REMOTE_BIN: /);
  });
});

describe('classifyFailure', () => {
  const t = parseTarget('jc@ws:/srv/relay');
  it("reads ssh's own failures (exit 255) as one line each", () => {
    const cases: Array<[string, string, RegExp]> = [
      ['ssh: connect to host ws port 22: Connection refused', 'unreachable', /^cannot reach jc@ws over ssh: connection refused/],
      ['ssh: Could not resolve hostname ws: Name or service not known', 'unreachable', /name does not resolve/],
      ['ssh: connect to host 10.9.9.9 port 22: Connection timed out', 'unreachable', /no answer within 10 s/],
      ['ssh: connect to host ws port 22: No route to host', 'unreachable', /no route/],
      ['kex_exchange_identification: Connection closed by remote host', 'unreachable', /connection was closed/],
      ['jc@ws: Permission denied (publickey).', 'auth', /^jc@ws refused the ssh login as jc \(Permission denied \(publickey\)\.\)/],
      ['Host key verification failed.', 'hostkey', /host key is not known here or has changed/],
      ['something new', 'ssh', /^ssh to jc@ws failed: something new$/],
    ];
    for (const [stderr, kind, line] of cases) {
      const f = classifyFailure(255, stderr + '\n', t);
      expect(f?.kind, stderr).toBe(kind);
      expect(f?.line, stderr).toMatch(line);
      expect(f?.line).not.toContain('\n');
    }
  });

  it("tells a missing relay-tui and a folder that is not a relay root from the command's own results", () => {
    expect(classifyFailure(127, 'bash: line 1: relay-tui: command not found\n', t)?.kind).toBe('not-installed');
    expect(classifyFailure(127, "env: 'relay-tui': No such file or directory\n", t)?.line).toMatch(
      /relay-tui is not installed on jc@ws .*RELAY_REMOTE_BIN/,
    );
    expect(classifyFailure(1, "Error: Cannot find module '/opt/relay/dist/cli/main.js'\n", t)?.kind).toBe('not-installed');
    const root = classifyFailure(2, 'relay-tui remote-shell: /srv/relay is not a relay root (it does not exist; ...)\n', t);
    expect(root?.kind).toBe('not-root');
    expect(root?.line).toMatch(/^\/srv\/relay on jc@ws is not a relay root/);
    // The far command's own outcomes pass through.
    expect(classifyFailure(1, 'no reply waiting for s1\n', t)).toBeUndefined();
    expect(classifyFailure(2, 'relay-tui remote-shell: refused: relay-tui doctor is not allowed\n', t)).toBeUndefined();
    expect(classifyFailure(0, '', t)).toBeUndefined();
  });
});

describe('remote-shell (the forced command)', () => {
  const root = '/srv/relay';
  const ok = (cmd: string) => allowRequest(cmd, root, '/home/jc');
  const no = (cmd: string | undefined) => () => allowRequest(cmd, root, '/home/jc');

  it("allows the session commands as relay-tui's client sends them, pinned to its root", () => {
    expect(ok('env RELAY_REMOTE= RELAY_SESSION_HOST=devbox relay-tui send --session s1 - --root /srv/relay')).toEqual({
      argv: ['send', '--session', 's1', '--root', root, '--', '-'],
      env: { RELAY_REMOTE: '', RELAY_SESSION_HOST: 'devbox' },
    });
    expect(ok('env RELAY_REMOTE= node /opt/r/bin/relay-tui.js hook stop --session s1 --timeout 30').argv).toEqual([
      'hook',
      'stop',
      '--session',
      's1',
      '--timeout',
      '30',
      '--root',
      root,
    ]);
    expect(ok("relay-tui say -- 'hi there' --root ~/../../srv/relay").argv).toEqual([
      'say',
      '--root',
      root,
      '--',
      'hi there',
      '--root',
      '~/../../srv/relay',
    ]);
    expect(ok('/usr/local/bin/relay-tui status --json').argv).toEqual(['status', '--json', '--root', root]);
    expect(ok('relay-tui recv --session s1 --wait --timeout 5').argv).toEqual([
      'recv',
      '--session',
      's1',
      '--wait',
      '--timeout',
      '5',
      '--root',
      root,
    ]);
    expect(ok('relay-tui hook notify --session s1').argv[1]).toBe('notify');
  });

  it('refuses anything else, saying what', () => {
    const refused: Array<[string | undefined, RegExp]> = [
      [undefined, /no shell/],
      ['id', /not a relay-tui command/],
      ['sh -c relay-tui', /not a relay-tui command/],
      ['relay-tui', /relay-tui \(nothing\) is not allowed/],
      ['relay-tui doctor', /relay-tui doctor is not allowed/],
      ['relay-tui hook install --session s1', /hook install is not allowed/],
      ['relay-tui --no-ui', /not allowed/],
      ['relay-tui send --session s1 --root /etc', /only the relay root \/srv\/relay, not \/etc/],
      ['relay-tui status --config /etc/shadow', /Unknown option '--config'/],
      ['relay-tui recv --session s1 extra', /unexpected arguments/],
      ['relay-tui status; id', /shell syntax/],
      ['relay-tui status $(id)', /\$ expansion/],
      ['env LD_PRELOAD=/tmp/x.so relay-tui status', /LD_PRELOAD is not allowed/],
      ['env RELAY_REMOTE=elsewhere relay-tui status', /RELAY_REMOTE is not allowed/],
      ['env RELAY_SESSION_HOST=a/b relay-tui status', /RELAY_SESSION_HOST is not allowed/],
    ];
    // --no-say: a machine that may relay its sessions but not act as the operator.
    expect(() => allowRequest('relay-tui say /approve', root, '/home/jc', { noSay: true })).toThrow(
      /relay-tui say is not allowed with this key \(allowed: send, recv, status/,
    );
    expect(allowRequest('relay-tui status', root, '/home/jc', { noSay: true }).argv[0]).toBe('status');
    for (const [cmd, why] of refused) {
      expect(no(cmd), String(cmd)).toThrow(Refused);
      expect(no(cmd), String(cmd)).toThrow(why);
    }
  });
});

describe('remote-guard framing', () => {
  it('reads "<bytes>\\n<json>" only once all of it is there, in bytes not characters', () => {
    const f = Buffer.from(frame('{"m":"ünï"}'));
    expect(f.toString().startsWith('13\n')).toBe(true);
    expect(readFrame(f.subarray(0, 5))).toBeUndefined();
    expect(readFrame(f)?.payload.toString()).toBe('{"m":"ünï"}');
    expect(() => readFrame(Buffer.from('{"no":"header"}\n'))).toThrow(/bad frame header/);
    expect(() => readFrame(Buffer.from('x'.repeat(20)))).toThrow(/no frame header/);
  });

  it("is allowed through the forced command for hook stop and the waiter's channel only", () => {
    expect(allowRequest('relay-tui remote-guard hook stop --session s1', '/srv/relay', '/h')).toEqual({
      argv: ['hook', 'stop', '--session', 's1', '--root', '/srv/relay'],
      env: {},
      guard: true,
    });
    expect(allowRequest('relay-tui remote-guard hook wait --session s1 --since 1796628064662', '/srv/relay', '/h')).toEqual({
      argv: ['hook', 'wait', '--session', 's1', '--since', '1796628064662', '--root', '/srv/relay'],
      env: {},
      guard: true,
    });
    expect(() => allowRequest('relay-tui remote-guard status', '/srv/relay', '/h')).toThrow(/only for hook stop and hook wait/);
    // The waiter's far half only under the guard, which holds the channel and ends it with the channel.
    expect(() => allowRequest('relay-tui hook wait --session s1', '/srv/relay', '/h')).toThrow(/only under remote-guard/);
    // --far is the guard's to add; the client cannot, nor a --since that is not a number, nor another root.
    expect(() => allowRequest('relay-tui remote-guard hook wait --session s1 --far', '/srv/relay', '/h')).toThrow(/Unknown option '--far'/);
    expect(() => allowRequest('relay-tui remote-guard hook wait --session s1 --since 12x', '/srv/relay', '/h')).toThrow(
      /--since takes milliseconds/,
    );
    expect(() => allowRequest('relay-tui remote-guard hook wait --session s1 --root /etc', '/srv/relay', '/h')).toThrow(
      /only the relay root/,
    );
    expect(allowRequest('relay-tui hook prompt --session s1', '/srv/relay', '/h').argv).toEqual([
      'hook',
      'prompt',
      '--session',
      's1',
      '--root',
      '/srv/relay',
    ]);
  });
});

describe('hook install --remote', () => {
  it('writes hooks that call relay-tui --remote, with the ssh settings of the install', () => {
    const specs = remoteHookSpecs({
      bin: '/opt/relay tui/bin/relay-tui.js',
      session: 's1',
      target: 'jc@ws:/srv/relay',
      env: { RELAY_SSH: 'ssh -F ~/.ssh/relay' },
    });
    const stop = specs.find((x) => x.event === 'Stop' && !x.async)!;
    const notify = specs.find((x) => x.event === 'Notification')!;
    const waiter = specs.find((x) => x.asyncRewake)!;
    expect(waiter.command).toBe(
      `RELAY_SSH='ssh -F ~/.ssh/relay' node '/opt/relay tui/bin/relay-tui-hook-wait.js' --session s1 --remote jc@ws:/srv/relay`,
    );
    expect(waiter.ours.test(waiter.command)).toBe(true);
    expect(specs.find((x) => x.event === 'UserPromptSubmit')!.command).toMatch(/ hook prompt --session s1 --remote jc@ws:\/srv\/relay$/);
    // StopFailure only tells the operator why a turn failed: it does not go over ssh.
    expect(specs.some((x) => x.event === 'StopFailure')).toBe(false);
    expect(stop.event).toBe('Stop');
    expect(stop.command).toBe(
      `RELAY_SSH='ssh -F ~/.ssh/relay' node '/opt/relay tui/bin/relay-tui.js' hook stop --session s1 --remote jc@ws:/srv/relay`,
    );
    expect(notify.command).toMatch(/ hook notify --session s1 --remote jc@ws:\/srv\/relay$/);
    // Still recognised as ours, so a reinstall updates the entry instead of adding one.
    expect(stop.ours.test(stop.command)).toBe(true);
    expect(shWords(stop.command.replace(/^RELAY_SSH=('[^']*') /, ''))).toEqual([
      'node',
      '/opt/relay tui/bin/relay-tui.js',
      'hook',
      'stop',
      '--session',
      's1',
      '--remote',
      'jc@ws:/srv/relay',
    ]);
  });
});

describe('hook install --remote --timeout', () => {
  const run = async (argv: string[]) => {
    let err = '';
    let out = '';
    const code = await remoteEntry(argv, { RELAY_SSH: 'ssh -F /k/cfg' }, { err: (s) => (err += s), out: (s) => (out += s) });
    return { code, err, out };
  };

  it("carries the Stop hook's window into the far hook stop, and only there", async () => {
    const specs = remoteHookSpecs({ bin: '/opt/rt/bin/relay-tui.js', session: 's1', target: 'ws:/srv/relay', env: {}, windowS: 5 });
    expect(specs.find((x) => x.event === 'Stop' && !x.async)!.command).toBe(
      'node /opt/rt/bin/relay-tui.js hook stop --session s1 --remote ws:/srv/relay --timeout 5',
    );
    for (const x of specs.filter((x) => !(x.event === 'Stop' && !x.async))) expect(x.command).not.toContain('--timeout');

    // As a user runs it (--print: nothing written, no ssh): the settings say what the far hook stop is given.
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-remote-install-'));
    try {
      const r = await run([
        'hook',
        'install',
        '--remote',
        'ws:/srv/relay',
        '--session',
        's1',
        '--project',
        project,
        '--timeout',
        '5',
        '--print',
      ]);
      expect(r.code, r.err).toBe(0);
      const stops = JSON.parse(r.out).hooks.Stop.flatMap((g: { hooks: { command: string; async?: boolean }[] }) => g.hooks);
      const stop = stops.find((x: { async?: boolean }) => !x.async);
      expect(stop.command).toMatch(/^RELAY_SSH='ssh -F \/k\/cfg' node \S+ hook stop --session s1 --remote ws:\/srv\/relay --timeout 5$/);
      // The far side parses it back: remote.ts sends it on as the far hook stop's --timeout.
      expect(shWords(stop.command.replace(/^RELAY_SSH='[^']*' /, '')).slice(-2)).toEqual(['--timeout', '5']);
      expect(stops.find((x: { async?: boolean }) => x.async).command).not.toContain('--timeout');
      // Without --timeout the far hook keeps its default window.
      const plain = await run(['hook', 'install', '--remote', 'ws:/srv/relay', '--session', 's1', '--project', project, '--print']);
      expect(plain.out).not.toContain('--timeout');
      expect(fs.readdirSync(project)).toEqual([]);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  it('refuses a window that is not a number, naming it, and writes nothing', async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-remote-install-'));
    try {
      for (const bad of ['soon', '-3', '']) {
        const r = await run(['hook', 'install', '--remote', 'ws:/srv/relay', '--session', 's1', '--project', project, `--timeout=${bad}`]);
        expect(r.code, bad).toBe(2);
        expect(r.err).toBe(`relay-tui: --timeout takes a number, got ${bad}\n`);
      }
      expect(fs.readdirSync(project)).toEqual([]);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});

describe('remoteEntry: which calls go over ssh', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    let err = '';
    let out = '';
    const code = await remoteEntry(argv, env, { err: (s) => (err += s), out: (s) => (out += s) });
    return { code, err, out };
  };

  it('leaves local calls alone', async () => {
    expect((await run(['send', '--session', 's1', 'x'])).code).toBeUndefined();
    // RELAY_REMOTE names where the relay is; the relay itself, doctor and cost stay local.
    expect((await run(['--no-ui'], { RELAY_REMOTE: 'ws' })).code).toBeUndefined();
    expect((await run(['doctor', '--remote', 'ws'])).code).toBeUndefined();
    expect((await run(['cost'], { RELAY_REMOTE: 'ws' })).code).toBeUndefined();
    expect((await run(['send', '--session', 's1', 'x'], { RELAY_REMOTE: '' })).code).toBeUndefined();
  });

  it('refuses --remote where it means nothing, with a usage exit', async () => {
    const r = await run(['topic', '--remote', 'ws']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--remote is for send, recv, say, status and hook stop\|notify\|prompt\|install, not topic/);
    expect((await run(['send', '--remote=-oProxyCommand=id', '--session', 's'])).err).toMatch(/is not a host name/);
    expect((await run(['send', '--remote', 'ws:/a', '--root', '/b', '--session', 's'])).err).toMatch(/differ: give it once/);
    expect((await run(['hook', 'install', '--remote', 'ws:relay', '--session', 's'])).err).toMatch(
      /needs the relay root's absolute path on ws/,
    );
  });

  it('keeps a hook quiet and at exit 0 even when its arguments are wrong', async () => {
    const r = await run(['hook', 'stop', '--remote', '-bad', '--session', 's1']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
