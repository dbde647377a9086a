import { parentPort, workerData } from 'node:worker_threads';
import { failureOf } from '../../cli/exit-codes.js';
import { recordedTurnView, type RelayEventName, type RelaySnapshot, type TailEntry } from '../../engine/api.js';
import { attachLog } from '../../log/sink.js';
import { openRelay, type OpenedRelay } from '../open-relay.js';
import { startMemLog } from './memlog.js';
import { yieldToView } from './priority.js';
import type { ForwardedEvent, FromWorker, HostOpenOptions, SnapDelta, ToWorker } from './protocol.js';

/**
 * The engine thread of the TUI: it owns the Relay (its fsyncs, the SDK's streams, the
 * watchers) so that none of them can delay a keystroke or a frame on the main thread.
 * What the view needs crosses as batches, at most one per BATCH_MS: the status whole,
 * the tail as what was appended, and the events the view shows.
 */

/**
 * Two batches stand between the engine and a frame, and both are meant: this one bounds
 * the messages the view's thread must take (each a structured clone and a task on the
 * thread that echoes keys; unbatched, the engine notifies once per streamed chunk), App's
 * ENGINE_FRAME_MS (200 ms) bounds the frames (each a whole-screen redraw of ~13-21 ms).
 * A frame shows the engine as it was at most BATCH_MS before; a first change after a
 * quiet spell, and an operator's result, go at once through both.
 */
const BATCH_MS = 50;
/** Events the view does not show, or that come thousands a second. */
const SKIP = new Set<RelayEventName>(['turn:delta']);
const MAX_EVENTS = 200;

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

let opened: OpenedRelay | null = null;
let closing: Promise<void> | null = null;

async function main(o: HostOpenOptions): Promise<void> {
  try {
    opened = await openRelay({
      root: o.root,
      configFile: o.configFile,
      interactive: true,
      envOverrides: o.envOverrides,
      backend: o.backend,
      chatEnv: o.chatEnv,
    });
  } catch (err) {
    post({ t: 'failed', failure: failureOf(err) });
    return;
  }
  const relay = opened.relay;
  // The first listener takes the relay's backlog (the start-up warnings) into logs/relay.log;
  // the view gets those warnings whole in 'ready', for the notice line under its header.
  const detachLog = attachLog(relay.events, { file: opened.paths.log, secrets: [opened.env.ANTHROPIC_API_KEY, opened.env.NTFY_TOKEN] });

  let events: ForwardedEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastFlush = 0;
  let sent: RelaySnapshot | null = null;
  let lastSeq = -1;
  let sentTail: TailEntry[] | null = null;
  let sentNotes: RelaySnapshot['notes'] | null = null;

  const delta = (): SnapDelta | null => {
    const snap = relay.snapshot();
    if (snap === sent) return null;
    sent = snap;
    let tail: TailEntry[] = [];
    let reset = false;
    if (snap.tail !== sentTail) {
      const first = snap.tail[0];
      // The tail only grows at the end (and drops its oldest); anything else is sent whole.
      if (sentTail && (!first || first.seq <= lastSeq + 1 || sentTail.length === 0)) tail = snap.tail.filter((e) => e.seq > lastSeq);
      else {
        tail = snap.tail;
        reset = true;
      }
      sentTail = snap.tail;
      if (snap.tail.length) lastSeq = snap.tail[snap.tail.length - 1].seq;
    }
    const notes = snap.notes !== sentNotes ? snap.notes : undefined;
    sentNotes = snap.notes;
    return { status: snap.status, streaming: snap.streaming, topic: snap.topic, tail, reset, ...(notes ? { notes } : {}) };
  };
  const flush = () => {
    timer = null;
    lastFlush = Date.now();
    const snap = delta();
    if (!snap && !events.length) return;
    const list = events;
    events = [];
    post({ t: 'batch', events: list, snap });
  };
  const schedule = (soon = false) => {
    if (timer) {
      if (!soon) return;
      clearTimeout(timer);
    }
    timer = setTimeout(flush, soon ? 0 : Math.max(0, lastFlush + BATCH_MS - Date.now()));
  };

  relay.subscribe(() => schedule());
  relay.events.onAny((name, payload) => {
    if (SKIP.has(name)) return;
    events.push([name, payload] as ForwardedEvent);
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
    schedule(name === 'operator:result');
  });

  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'submit': {
        let result;
        try {
          result = relay.submit(m.text, m.source, m.opts);
        } catch (err) {
          result = { ok: false, message: `failed: ${(err as Error)?.message ?? err}` };
        }
        post({ t: 'submitted', id: m.id, result: { ok: result.ok, message: result.message, quit: result.quit } });
        schedule(true);
        return;
      }
      case 'presence':
        relay.notePresence();
        return;
      case 'history': {
        try {
          const page = relay.historyPage({ beforeSeq: m.before, limit: m.limit });
          const turns = page.turns.map(recordedTurnView);
          post({ t: 'history', id: m.id, turns, atTop: page.atTop, notes: page.notes });
        } catch (err) {
          post({ t: 'history', id: m.id, turns: [], atTop: true, error: (err as Error)?.message ?? String(err) });
        }
        return;
      }
      case 'stop':
        // Said in logs/relay.log as --no-ui says it on SIGINT: a quit leaves a line, not silence.
        relay.events.emit('log', { level: 'info', message: 'quit: finishing the write in hand and stopping' });
        void stop().then((error) => {
          relay.events.emit(
            'log',
            error ? { level: 'error', message: `stopped with an error: ${error}` } : { level: 'info', message: 'stopped' },
          );
          detachLog();
          post({ t: 'stopped', error });
          // Whatever the SDK or a watcher still holds must not keep the thread alive.
          setImmediate(() => process.exit(0));
        });
        return;
    }
  });

  for (const n of o.notes ?? []) relay.events.emit('log', { level: 'info', message: n });
  try {
    await relay.start();
  } catch (err) {
    detachLog();
    await stop();
    post({ t: 'failed', failure: failureOf(err) });
    return;
  }
  post({
    t: 'ready',
    paths: { root: opened.paths.root, log: opened.paths.log, lock: opened.paths.lock },
    keys: opened.config.keys ?? {},
    warnings: opened.warnings,
  });
  schedule(true);
}

/** Finishes the write in hand, releases the lock. Resolves with what went wrong, if anything. */
function stop(): Promise<string | undefined> {
  closing ??= opened ? opened.close() : Promise.resolve();
  return closing.then(
    () => undefined,
    (err: unknown) => (err as Error)?.message ?? String(err),
  );
}

// An error nobody caught: say so to the main thread (which restores the terminal), then try
// to stop the relay cleanly so the lock is released; the main thread gives up after a while.
const crash = (err: unknown) => {
  post({ t: 'crashed', error: (err as Error)?.stack ?? String(err) });
  const hard = setTimeout(() => process.exit(1), 3000);
  void stop().finally(() => {
    clearTimeout(hard);
    process.exit(1);
  });
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

startMemLog();
yieldToView();
void main(workerData as HostOpenOptions).catch((err) => {
  if (!opened) post({ t: 'failed', failure: failureOf(err) });
  else crash(err);
});
