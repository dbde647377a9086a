import { afterEach, describe, expect, it, vi } from 'vitest';
import { NO_TTY_MESSAGE, runTui } from '../../src/ui/run-tui.js';
import { FakeRelay } from './fake-relay.js';
import { KEY, SizedStdout, TestStdin, tick } from './harness.js';

const unmounts = vi.hoisted(() => ({ count: 0 }));
vi.mock('ink', async (importOriginal) => {
  const ink = await importOriginal<typeof import('ink')>();
  return {
    ...ink,
    render: (...args: Parameters<typeof ink.render>) => {
      const instance = ink.render(...args);
      const unmount = instance.unmount;
      instance.unmount = (...a: Parameters<typeof unmount>) => {
        unmounts.count++;
        return unmount(...a);
      };
      return instance;
    },
  };
});

function io() {
  const stdin = new TestStdin();
  const stdout = new SizedStdout(80, 24);
  const stderr = new SizedStdout(80, 24);
  const written = () => stdout.frames.join('');
  const ready = () =>
    vi.waitFor(() => {
      if (stdin.listenerCount('readable') === 0) throw new Error('not listening yet');
    });
  const type = async (...keys: string[]) => {
    await ready();
    for (const k of keys) {
      stdin.write(k);
      await tick(stdout);
    }
  };
  return {
    stdin,
    stdout,
    stderr,
    written,
    type,
    opts: { stdin: stdin as any, stdout: stdout as any, stderr: stderr as any, patchConsole: false },
  };
}

afterEach(() => {
  unmounts.count = 0;
});

describe('runTui', () => {
  it('without a TTY: says so, suggests --no-ui, returns 2', async () => {
    const t = io();
    t.stdin.isTTY = false;
    const relay = new FakeRelay();
    expect(await runTui(relay, t.opts)).toBe(2);
    expect(t.stderr.frames.join('')).toBe(NO_TTY_MESSAGE);
    expect(NO_TTY_MESSAGE).toContain('relay-tui --no-ui');
    expect(unmounts.count).toBe(0);
  });

  it('/quit: unmounts once, stops the relay, restores the terminal, returns 0', async () => {
    const t = io();
    const relay = new FakeRelay();
    relay.reply = (text) => (text === '/quit' ? { ok: true, message: 'shutting down', quit: true } : { ok: true, message: 'ok' });
    const onExit = vi.fn();
    const done = runTui(relay, { ...t.opts, onExit, title: 'DEMO' });
    await t.type('/quit', KEY.enter);
    expect(await done).toBe(0);
    expect(unmounts.count).toBe(1);
    expect(relay.stopped).toBe(1);
    expect(onExit).toHaveBeenCalledTimes(1);
    expect(t.stdin.rawModes.at(-1)).toBe(false);
    expect(t.written()).toContain('\x1b[?25h');
    expect(t.written()).toContain('DEMO');
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('text and Enter in one read (tmux send-keys "/quit" Enter): the last frame says it is shutting down', async () => {
    const t = io();
    t.stdout.isTTY = true; // Ink throttles frames on a TTY: the final one must still be drawn
    const relay = new FakeRelay();
    relay.reply = (text) => ({ ok: true, message: 'shutting down', quit: text === '/quit' });
    const done = runTui(relay, t.opts);
    await t.type('/quit\r');
    expect(await done).toBe(0);
    expect(relay.submits).toEqual([{ text: '/quit', source: 'tui' }]);
    expect(t.written()).toContain('shutting down');
    expect(unmounts.count).toBe(1);
  });

  it('Ctrl+C: graceful, exit 0', async () => {
    const t = io();
    const relay = new FakeRelay();
    const done = runTui(relay, t.opts);
    await t.type(KEY.ctrl('c'));
    expect(await done).toBe(0);
    expect(unmounts.count).toBe(1);
    expect(relay.stopped).toBe(1);
    expect(relay.submits).toHaveLength(0);
  });

  it('SIGTERM: graceful, exit 0; a second signal while stopping forces', async () => {
    const t = io();
    const relay = new FakeRelay();
    let release: () => void = () => {};
    relay.stop = vi.fn(() => new Promise<void>((r) => (release = r)));
    const forceExit = vi.fn();
    const done = runTui(relay, { ...t.opts, forceExit });
    await t.type();
    process.emit('SIGTERM');
    await vi.waitFor(() => expect(relay.stop).toHaveBeenCalledTimes(1));
    process.emit('SIGTERM');
    expect(forceExit).toHaveBeenCalledWith(1);
    release();
    expect(await done).toBe(0);
    expect(unmounts.count).toBe(1);
  });

  it('a crash while rendering: unmounted once, relay stopped, terminal restored, exit 1', async () => {
    const t = io();
    const relay = new FakeRelay();
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const done = runTui(relay, t.opts);
    await t.type();
    relay.snapshot = () => {
      throw new Error('boom');
    };
    relay.update({ queue_depth: 1 });
    expect(await done).toBe(1);
    consoleError.mockRestore();
    expect(unmounts.count).toBe(1);
    expect(relay.stopped).toBe(1);
    expect(t.stderr.frames.join('')).toContain('crashed');
    expect(t.stderr.frames.join('')).toContain('boom');
    expect(t.written()).toContain('\x1b[?25h');
  });

  it('a relay that fails to stop: exit 1, said on stderr', async () => {
    const t = io();
    const relay = new FakeRelay();
    relay.stop = async () => {
      throw new Error('disk full');
    };
    const done = runTui(relay, t.opts);
    await t.type(KEY.ctrl('c'));
    expect(await done).toBe(1);
    expect(t.stderr.frames.join('')).toContain('disk full');
  });
});
