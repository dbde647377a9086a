import { EventEmitter } from 'node:events';
import { render, type Instance } from 'ink';
import type { ReactElement } from 'react';
import { vi } from 'vitest';

/**
 * ink-testing-library's stdout is fixed at 100 columns and has no rows; the layout
 * depends on both, so this is the same idea with a size (and resize).
 */
export class SizedStdout extends EventEmitter {
  frames: string[] = [];
  bells = 0;
  isTTY = false;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (data: string) => {
    if (data === '\x07') {
      this.bells++;
      return true;
    }
    this.frames.push(data);
    return true;
  };
}

export class TestStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (data: string) => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  rawModes: boolean[] = [];
  setRawMode(on: boolean) {
    this.rawModes.push(on);
  }
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

export interface Rendered {
  stdin: TestStdin;
  stdout: SizedStdout;
  instance: Instance;
  lastFrame: () => string;
  /** Resolves once the app listens to the keyboard (useInput subscribed). */
  ready: () => Promise<void>;
  /** Types keys one write at a time, yielding between them so React commits. */
  type: (...keys: string[]) => Promise<void>;
  waitFor: (text: string | RegExp) => Promise<string>;
  resize: (columns: number, rows: number) => void;
  unmount: () => void;
}

const immediate = () => new Promise<void>((r) => setImmediate(r));

/**
 * Yields until React has settled: Ink renders in legacy mode, where a keypress's passive
 * effects (a text input re-subscribing with its new value) run on a later macrotask, and
 * a remounted input renders twice. Settled = no new frame across two macrotasks.
 */
export const tick = async (stdout?: { frames: string[] }) => {
  for (let i = 0; i < 50; i++) {
    const n = stdout?.frames.length ?? 0;
    await immediate();
    await immediate();
    if (!stdout || stdout.frames.length === n) break;
  }
  if (!stdout) await immediate();
};

export const KEY = {
  enter: '\r',
  up: '\x1b[A',
  down: '\x1b[B',
  tab: '\t',
  esc: '\x1b',
  pageUp: '\x1b[5~',
  pageDown: '\x1b[6~',
  ctrl: (letter: string) => String.fromCharCode(letter.toLowerCase().charCodeAt(0) - 96),
};

export function renderSized(tree: ReactElement, size: { columns?: number; rows?: number } = {}): Rendered {
  const stdout = new SizedStdout(size.columns ?? 80, size.rows ?? 24);
  const stdin = new TestStdin();
  const stderr = new SizedStdout(size.columns ?? 80, size.rows ?? 24);
  const instance = render(tree, {
    stdout: stdout as any,
    stderr: stderr as any,
    stdin: stdin as any,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const lastFrame = () => stdout.frames[stdout.frames.length - 1] ?? '';
  const waitFor = async (text: string | RegExp) => {
    await vi.waitFor(
      () => {
        const f = lastFrame();
        if (typeof text === 'string' ? !f.includes(text) : !text.test(f)) throw new Error(`frame lacks ${text}:\n${f}`);
      },
      { timeout: 3000, interval: 5 },
    );
    return lastFrame();
  };
  const ready = async () => {
    await vi.waitFor(
      () => {
        if (stdin.listenerCount('readable') === 0) throw new Error('not listening to stdin yet');
      },
      { timeout: 3000, interval: 2 },
    );
    await tick(stdout);
  };
  const type = async (...keys: string[]) => {
    await ready();
    for (const k of keys) {
      stdin.write(k);
      await tick(stdout);
    }
  };
  const resize = (columns: number, rows: number) => {
    stdout.columns = columns;
    stdout.rows = rows;
    stdout.emit('resize');
  };
  return { stdin, stdout, instance, lastFrame, ready, type, waitFor, resize, unmount: () => instance.unmount() };
}

/** Strips colour codes (frames are compared as text). */
export const plain = (frame: string) => frame.replace(/\x1b\[[0-9;]*m/g, '');
export const lines = (frame: string) => plain(frame).split('\n');

/** The prompt line's text ('' while the placeholder shows). Ink trims trailing spaces. */
export function promptText(frame: string): string {
  const row =
    plain(frame)
      .split('\n')
      .filter((l) => l.startsWith('› '))
      .pop() ?? '';
  const text = row.slice(2);
  // The placeholder names the selected question's session ("answer session-1, …").
  return /^answer \S+, @session:/.test(text) ? '' : text.trimEnd();
}
