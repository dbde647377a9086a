import { render, type Instance } from 'ink';
import React from 'react';
import { App } from './App.js';
import type { RelayLike } from '../engine/api.js';

export interface RunTuiOptions {
  /** Called once after the relay stopped (e.g. release the lock). */
  onExit?: () => void | Promise<void>;
  /** Shown in the header, e.g. "DEMO". */
  title?: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** Ink shows stray console output above the frame (default true; vitest's console cannot be patched). */
  patchConsole?: boolean;
  /** A second Ctrl+C/SIGTERM while stopping ends the process with this (default process.exit). */
  forceExit?: (code: number) => void;
  /** config.yaml's keys: section. */
  keys?: Record<string, string>;
  /** Start-up warnings, shown under the header until dismissed. */
  warnings?: readonly string[];
  tmuxPrefix?: string | null;
  /** Receives the function that ends the UI as a crash (the engine thread died). */
  onFatal?: (crash: (err: unknown) => void) => void;
}

export const NO_TTY_MESSAGE = 'relay-tui: the terminal UI needs a TTY; run `relay-tui --no-ui` for the headless daemon\n';
/** The cap on frames Ink draws: high, so typing is drawn at once. */
const KEY_FRAME_FPS = 200;
const SHOW_CURSOR = '\x1b[?25h';
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs the TUI until /quit, Ctrl+C, a signal or a crash. On every path: Ink is unmounted
 * exactly once, the relay is stopped, the terminal is restored (raw mode off, cursor
 * visible). Resolves with the exit code: 0 normal, 1 crash, 2 no TTY.
 */
export async function runTui(relay: RelayLike, opts: RunTuiOptions = {}): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') {
    stderr.write(NO_TTY_MESSAGE);
    return 2;
  }

  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (resolveDone = r));
  let instance: Instance | null = null;
  let unmounted = false;
  let stopping: Promise<void> | null = null;

  const restoreTerminal = () => {
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {
      /* already closed */
    }
    try {
      stdout.write(SHOW_CURSOR);
    } catch {
      /* already closed */
    }
  };
  const unmountOnce = () => {
    if (unmounted) return;
    unmounted = true;
    try {
      instance?.unmount();
    } catch (err) {
      stderr.write(`relay-tui: while closing the UI: ${(err as Error)?.message ?? err}\n`);
    }
  };
  const detach = () => {
    for (const sig of SIGNALS) process.off(sig, onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  };

  const shutdown = (code: number, err?: unknown): void => {
    if (stopping) return;
    stopping = (async () => {
      let rc = code;
      unmountOnce();
      restoreTerminal();
      if (err !== undefined) stderr.write(`relay-tui: crashed: ${(err as Error)?.stack ?? err}\n`);
      try {
        await relay.stop();
      } catch (e) {
        stderr.write(`relay-tui: while stopping the relay: ${(e as Error)?.message ?? e}\n`);
        rc = rc || 1;
      }
      try {
        await opts.onExit?.();
      } catch (e) {
        stderr.write(`relay-tui: while closing: ${(e as Error)?.message ?? e}\n`);
        rc = rc || 1;
      }
      detach();
      try {
        stdin.pause();
      } catch {
        /* ignore */
      }
      restoreTerminal();
      resolveDone(rc);
    })();
  };

  function onSignal(): void {
    if (stopping) {
      // A second signal while stopping: do not wait any longer.
      restoreTerminal();
      detach();
      (opts.forceExit ?? ((c: number) => process.exit(c)))(1);
      return;
    }
    shutdown(0);
  }
  function onCrash(err: unknown): void {
    shutdown(1, err ?? new Error('unknown error'));
  }

  opts.onFatal?.(onCrash);
  for (const sig of SIGNALS) process.on(sig, onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  try {
    instance = render(
      <App
        relay={relay}
        title={opts.title}
        keys={opts.keys}
        warnings={opts.warnings}
        tmuxPrefix={opts.tmuxPrefix}
        onQuit={() => setImmediate(() => shutdown(0))}
      />,
      {
        stdin,
        stdout,
        stderr,
        exitOnCtrlC: false,
        patchConsole: opts.patchConsole ?? true,
        // Ink's own throttle (30/s by default) would hold a keystroke's frame up to 33 ms
        // behind the last engine frame; engine frames are paced by App (ENGINE_FRAME_MS).
        maxFps: KEY_FRAME_FPS,
      },
    );
    instance.waitUntilExit().then(
      () => shutdown(0),
      (err: unknown) => shutdown(1, err),
    );
  } catch (err) {
    shutdown(1, err);
  }
  return done;
}
