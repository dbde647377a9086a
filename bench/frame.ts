// `node .bench/bench/frame.js [columns] [rows] [frames]`: what one TUI frame costs on the
// view's thread, without tmux or an engine. The real App renders into a fake TTY from a
// snapshot that changes as under load (a new turn, a streaming reply, new counters);
// each frame is timed from the change to Ink's write, and the thread's CPU is summed.
// For working on the TUI's frame cost; `npm run bench` measures echo end to end.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';
import type { Status } from '../src/protocol/status.js';
import type { RelayLike, RelaySnapshot, TailEntry } from '../src/engine/api.js';
import { median, pct, prose, rng, sleep } from './util.js';

process.env.NODE_ENV ??= 'production';
delete process.env.CI;

const columns = Number(process.argv[2] ?? 120);
const rows = Number(process.argv[3] ?? 40);
const frames = Number(process.argv[4] ?? 300);

const SESSIONS = ['api-refactor', 'billing-tests', 'docs-site', 'infra-ci'];

function baseStatus(n: number, chars: number): Status {
  const at = new Date().toISOString();
  const sessions: Status['sessions'] = {};
  for (const [i, id] of SESSIONS.entries())
    sessions[id] = {
      registered: true,
      description: `session ${id}`,
      pending: i % 2,
      awaiting_ack: i === 0,
      awaiting_ack_since: i === 0 ? at : null,
      turns: n + i,
      cost_usd: 0.0123 * (n + i),
      today_cost_usd: 0.0123 * (n + i),
      last_activity_at: at,
      paused_reason: null,
      paused_message: null,
      auto_turns: n % 7,
      hook_chain: 0,
      queued: (n + i) % 3,
    };
  return {
    state: 'running',
    pause_reason: null,
    pause_message: null,
    started_at: new Date(Date.now() - 3_725_000).toISOString(),
    updated_at: at,
    model: 'claude-opus-4-7',
    approval: 'needs_jc',
    queue_depth: n % 5,
    queue_oldest_at: at,
    rejected_count: 0,
    last_rejection: null,
    sessions,
    last_dispatch_at: at,
    last_dispatch_session: SESSIONS[n % SESSIONS.length],
    last_needs_jc_text: null,
    held: null,
    inflight: { kind: 'turn', session: SESSIONS[n % 4], route: SESSIONS[n % 4], started_at: at, chars, attempt: 1 },
    retry: null,
    last_error: null,
    history_turns: n,
    history_tokens: 120 * n,
    summaries: 0,
    total_input_tokens: 1500 * n,
    total_output_tokens: 140 * n,
    total_cache_read_tokens: 1200 * n,
    total_cache_write_tokens: 300 * n,
    total_cost_usd: 0.0123 * n,
    today_cost_usd: 0.0123 * n,
    last_turn_cost_usd: 0.0123,
    budget_usd_per_day: 20,
    ntfy_topic: 'relay-3f9a0c2b7d4e61aa',
    pid: process.pid,
  };
}

class BenchRelay implements RelayLike {
  private snap: RelaySnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly events = new EventEmitter();
  private readonly r = rng(3);
  private n = 0;
  private tail: TailEntry[] = [];
  constructor() {
    for (let i = 0; i < 30; i++) this.addTurn();
    this.snap = this.make(0);
  }
  private addTurn(): void {
    const s = SESSIONS[this.n % SESSIONS.length];
    this.tail = [
      ...this.tail,
      {
        seq: ++this.n,
        at: new Date().toISOString(),
        session: s,
        route: s,
        user: `[${s}] now\n${prose(this.r, 200)}`,
        reply: `${s}: ${prose(this.r, 160)}`,
        costUsd: 0.0123,
      },
    ].slice(-200);
  }
  private make(chars: number): RelaySnapshot {
    return {
      status: baseStatus(this.n, chars),
      tail: this.tail,
      notes: [],
      streaming: prose(this.r, chars),
      topic: 'relay-3f9a0c2b7d4e61aa',
    };
  }
  /** One change as under load: every other change lands a turn, the rest stream. */
  step(i: number): void {
    if (i % 2 === 0) this.addTurn();
    this.snap = this.make(i % 2 === 0 ? 0 : 40 + (i % 300));
    for (const fn of this.listeners) fn();
  }
  snapshot = () => this.snap;
  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  submit() {
    return { ok: true, message: '' };
  }
  notePresence() {}
  historyPage() {
    return { turns: [], atTop: true };
  }
  on: RelayLike['on'] = (name, fn) => {
    this.events.on(name, fn);
    return () => void this.events.off(name, fn);
  };
  async stop() {}
}

class FakeTty extends Writable {
  isTTY = true;
  columns = columns;
  rows = rows;
  writes = 0;
  onWrite: (() => void) | null = null;
  override _write(_c: unknown, _e: BufferEncoding, cb: () => void) {
    this.writes++;
    this.onWrite?.();
    cb();
  }
}

async function main(): Promise<void> {
  const { render } = await import('ink');
  const React = (await import('react')).default;
  const { App } = await import('../src/ui/App.js');
  const stdout = new FakeTty();
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined, ref() {}, unref() {} });
  const relay = new BenchRelay();
  const inst = render(React.createElement(App, { relay, onQuit: () => undefined, batchMs: 0 }), {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    patchConsole: false,
    exitOnCtrlC: false,
    maxFps: 1000,
  });
  await sleep(300);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    const start = performance.now();
    const drawn = new Promise<void>((resolve) => (stdout.onWrite = resolve));
    relay.step(i);
    await Promise.race([drawn, sleep(200)]);
    times.push(performance.now() - start);
    await sleep(2);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  inst.unmount();
  const mem = process.memoryUsage();
  console.log(
    JSON.stringify({
      size: `${columns}x${rows}`,
      frames,
      p50Ms: +median(times).toFixed(2),
      p99Ms: +pct(times, 99).toFixed(2),
      cpuMsPerFrame: +((cpu.user + cpu.system) / 1000 / frames).toFixed(2),
      wallS: +(wall / 1000).toFixed(2),
      heapMiB: +(mem.heapUsed / 2 ** 20).toFixed(1),
    }),
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
