import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * One long-lived `claude -p` in stream-json mode: JSON lines in on stdin, JSON events
 * out on stdout. Start-up (1–4 s on the pinned versions) is paid once; each turn is one
 * user line and ends with Claude Code's `result` event. One turn at a time: the caller
 * (claude-code.ts) never sends a second message before the first one's result.
 */

/** The events this adapter reads; everything else Claude Code prints is passed by. */
export interface CcEvent {
  type: string;
  subtype?: string;
  session_id?: string;
  uuid?: string;
  [k: string]: unknown;
}

export interface TurnHandlers {
  /** Every event of the turn, the result included. */
  onEvent(ev: CcEvent): void;
}

/** How a turn ended when it did not end with a result event. */
export class TurnCut extends Error {
  constructor(
    message: string,
    readonly why: 'exit' | 'idle' | 'deadline' | 'aborted' | 'stopped' | 'spawn',
    readonly errno?: string,
  ) {
    super(message);
  }
}

export interface SpawnSpec {
  bin: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

const STDERR_KEEP = 4096;
/**
 * Until its init event a process is starting (1–4 s measured, more on a cold disk): the
 * idle bound then is at least this, so a short api.idle_timeout_s does not kill every start.
 */
export const STARTUP_GRACE_MS = 30_000;
/** A cut process gets this long after SIGTERM to write its transcript and exit, then it is killed. */
export const TERM_GRACE_MS = 3000;

export class ClaudeProcess {
  readonly startedAt = Date.now();
  /** The init event's fields (session id, model, apiKeySource, version), once it arrived. */
  init: CcEvent | undefined;
  private child: ChildProcessWithoutNullStreams;
  private buf = '';
  private stderrTail = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: NodeJS.ErrnoException | undefined;
  private turn: { handlers: TurnHandlers; resolve(ev: CcEvent): void; reject(e: Error): void; bump(): void } | undefined;

  constructor(readonly spec: SpawnSpec) {
    this.child = spawn(spec.bin, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => this.onData(d));
    this.child.stderr.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-STDERR_KEEP);
    });
    // A child that dies mid-write makes stdin emit EPIPE: the exit handler reports it, this only keeps it from crashing us.
    this.child.stdin.on('error', () => {});
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      this.spawnError = err;
      this.failTurn(new TurnCut(`cannot start ${spec.bin}: ${err.message}`, 'spawn', err.code));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      const tail = this.stderrTail.trim().split('\n').slice(-3).join(' / ');
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.failTurn(new TurnCut(`Claude Code ${how} in the middle of a turn${tail ? `: ${tail}` : ''}`, 'exit'));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited && !this.spawnError && this.child.exitCode === null;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  /**
   * Sends one user message and resolves with the turn's `result` event. Rejects with a
   * TurnCut when the process exits, prints nothing for idleMs, runs past deadlineMs, or
   * the signal aborts; in each of those cases the process is killed, so a cut turn can
   * never answer later into the next one.
   */
  send(text: string, handlers: TurnHandlers, o: { idleMs: number; deadlineMs: number; signal?: AbortSignal }): Promise<CcEvent> {
    if (this.turn) return Promise.reject(new Error('a turn is already in flight on this Claude Code process'));
    if (this.spawnError)
      return Promise.reject(new TurnCut(`cannot start ${this.spec.bin}: ${this.spawnError.message}`, 'spawn', this.spawnError.code));
    if (!this.alive) return Promise.reject(new TurnCut('Claude Code is not running', 'exit'));
    return new Promise<CcEvent>((resolve, reject) => {
      let idle: NodeJS.Timeout | undefined;
      const cut = (why: 'idle' | 'deadline' | 'aborted', message: string) => {
        this.failTurn(new TurnCut(message, why));
        this.terminate();
      };
      const bump = () => {
        clearTimeout(idle);
        const ms = this.init ? o.idleMs : Math.max(o.idleMs, STARTUP_GRACE_MS);
        idle = setTimeout(() => cut('idle', `no output from Claude Code for ${ms / 1000} s`), ms);
      };
      const deadline = setTimeout(() => cut('deadline', `the turn took longer than ${o.deadlineMs / 1000} s`), o.deadlineMs);
      const onAbort = () => cut('aborted', 'request aborted');
      const done = () => {
        clearTimeout(idle);
        clearTimeout(deadline);
        o.signal?.removeEventListener('abort', onAbort);
        this.turn = undefined;
      };
      this.turn = {
        handlers,
        bump,
        resolve: (ev) => {
          done();
          resolve(ev);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      bump();
      this.child.stdin.write(JSON.stringify({ type: 'user', message: { role: 'user', content: text } }) + '\n');
    });
  }

  /** SIGKILL, at once: what the transcript had not yet written is lost (see terminate). */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /**
   * Ends a cut turn: SIGTERM, then SIGKILL if the process has not gone within graceMs.
   * Claude Code writes its transcript through a buffer it flushes on a timer and at exit
   * (2.1.197 measured: a session answered moments before a SIGKILL had no file at all, and
   * its --resume failed with "No conversation found"); SIGTERM lets it flush, so the
   * session can be resumed. The turn is already failed: nothing it prints reaches a caller.
   */
  terminate(graceMs = TERM_GRACE_MS): void {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.kill(), graceMs);
    this.child.once('exit', () => clearTimeout(t));
  }

  /** Ends the process: stdin closed, then killed if it has not gone within graceMs. */
  async stop(graceMs = 2000): Promise<void> {
    this.failTurn(new TurnCut('the Claude Code process was stopped', 'stopped'));
    if (!this.alive) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const t = setTimeout(() => this.kill(), graceMs);
    await gone;
    clearTimeout(t);
  }

  private failTurn(err: Error): void {
    this.turn?.reject(err);
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    this.turn?.bump();
    for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      let ev: CcEvent;
      try {
        ev = JSON.parse(line) as CcEvent;
      } catch {
        continue; // Claude Code prints the odd plain line (a warning); it is not part of the protocol.
      }
      if (!ev || typeof ev !== 'object' || typeof ev.type !== 'string') continue;
      if (ev.type === 'system' && ev.subtype === 'init') this.init = ev;
      this.turn?.handlers.onEvent(ev);
      if (ev.type === 'result') this.turn?.resolve(ev);
    }
  }
}
