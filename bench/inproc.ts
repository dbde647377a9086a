// Turn overhead and ack-to-next-delivery, with the relay in this process (openRelay,
// headless, the real SDK pointed at the fake), so every timestamp comes from one
// clock (performance.now()):
//   t0      the envelope renamed into queue/ (taken just before rename(2))
//   arrive  the fake has the whole request body (its onRequest listener)
//   sent    the fake has written the whole response (setImmediate after respond:
//           the fake writes a reply within the microtasks that follow it)
//   durable the relay's 'dispatch:written' event, emitted after input.txt was renamed
//           into place and its directory fsynced
// The chat client is the relay's own (createAnthropicChat), wrapped only to note when
// a call starts and when its result is back, which splits each leg into parts.
import fs from 'node:fs';
import path from 'node:path';
import { createAnthropicChat, type ChatClient } from '../src/adapters/anthropic.js';
import { openRelay, type OpenedRelay } from '../src/host/open-relay.js';
import type { RelayEventName, RelayEvents } from '../src/engine/kernel/events.js';
import { quickResponder, startFakes, TAG_RE } from './fakes.js';
import { log, makeRoot, now, prose, rng, sleep, writeEnvelope } from './util.js';

export interface InprocResult {
  turns: number;
  /** rename -> request at the fake, ms */
  leg1: number[];
  /** response sent -> input.txt durable, ms */
  leg2: number[];
  total: number[];
  /** parts, ms: rename -> turn:started, turn:started -> chat.complete(), complete() -> arrival, sent -> complete() resolved, resolved -> durable */
  parts: Record<'intake' | 'build' | 'send' | 'sdk' | 'commit', number[]>;
  summaryTurnsExcluded: number;
  maxBodyKiB: number;
  /** delete input.txt -> next reply durable, ms */
  ack: number[];
}

function once<K extends RelayEventName>(
  opened: OpenedRelay,
  name: K,
  pred: (p: RelayEvents[K]) => boolean,
  timeoutMs = 15_000,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const off = opened.relay.on(name, (p) => {
      if (!pred(p)) return;
      const t = now();
      off();
      clearTimeout(timer);
      resolve(t);
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`bench: no ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

export async function measureInproc(o: { turns: number; ackSamples: number; base?: string }): Promise<InprocResult> {
  const arrivals = new Map<number, number>();
  const sent = new Map<number, number>();
  let maxBody = 0;
  const respond = quickResponder();
  const fakes = await startFakes({
    respond: (req) => {
      const m = TAG_RE.exec(req.lastUserText);
      if (m && !req.lastUserText.startsWith('[relay]')) {
        const i = Number(m[1]);
        setImmediate(() => sent.set(i, now()));
      }
      return respond(req);
    },
  });
  fakes.api.onRequest((r) => {
    const t = now();
    const m = TAG_RE.exec(r.lastUserText);
    if (m && !r.lastUserText.startsWith('[relay]')) arrivals.set(Number(m[1]), t);
    maxBody = Math.max(maxBody, Buffer.byteLength(JSON.stringify(r.body ?? '')));
  });

  const sessions = ['s1', 's2', 's3', 's4'];
  const paths = makeRoot({ base: o.base, sessions, env: fakes.env, config: { history: { cap_tokens: 30_000, keep_recent: 10 } } });
  const calls = new Map<number, { start: number; end: number }>();
  const real = createAnthropicChat({ apiKey: fakes.env.ANTHROPIC_API_KEY, baseURL: fakes.api.url, maxRetries: 2, timeoutMs: 600_000 });
  const chat: ChatClient = {
    async complete(req, opts) {
      const last = req.messages[req.messages.length - 1]?.content ?? '';
      const m = last.startsWith('[relay]') ? null : TAG_RE.exec(last);
      const start = now();
      const res = await real.complete(req, opts);
      if (m) calls.set(Number(m[1]), { start, end: now() });
      return res;
    },
  };
  const opened = await openRelay({ root: paths.root, interactive: false, chat, realEnv: {}, envOverrides: fakes.env });
  const r = rng(7);
  const out: InprocResult = {
    turns: 0,
    leg1: [],
    leg2: [],
    total: [],
    parts: { intake: [], build: [], send: [], sdk: [], commit: [] },
    summaryTurnsExcluded: 0,
    maxBodyKiB: 0,
    ack: [],
  };
  try {
    await opened.relay.start();
    let started = 0;
    let summarized = false;
    opened.relay.on('turn:started', (p) => {
      if (p.kind === 'summary') summarized = true;
      else started = now();
    });

    // ---- turn overhead: one envelope at a time, its consumer acks at once, a small random gap.
    // Three unmeasured warm-up turns first: the first API call loads the SDK.
    const WARM = 3;
    log(`turn overhead: ${o.turns} turns (+${WARM} warm-up), in-process`);
    for (let i = 0; i < o.turns + WARM; i++) {
      const s = sessions[i % sessions.length];
      summarized = false;
      const durable = once(opened, 'dispatch:written', (p) => p.session === s);
      const t0 = writeEnvelope(paths, s, `${prose(r, 380)} #t${i}#`);
      const tW = await durable;
      const acked = once(opened, 'dispatch:acked', (p) => p.session === s);
      fs.unlinkSync(path.join(paths.dispatch, s, 'input.txt'));
      await acked;
      const tA = arrivals.get(i);
      const tS = sent.get(i);
      const c = calls.get(i);
      if (tA === undefined || tS === undefined || !c) throw new Error(`bench: turn ${i} has no arrival/response record`);
      if (i < WARM) {
        /* warm-up */
      } else if (summarized) {
        out.summaryTurnsExcluded++;
      } else {
        out.leg1.push(tA - t0);
        out.leg2.push(tW - tS);
        out.total.push(tA - t0 + (tW - tS));
        out.parts.intake.push(started - t0);
        out.parts.build.push(c.start - started);
        out.parts.send.push(tA - c.start);
        out.parts.sdk.push(c.end - tS);
        out.parts.commit.push(tW - c.end);
      }
      if (i >= WARM) out.turns++;
      await sleep(Math.floor(r() * 15));
    }
    out.maxBodyKiB = maxBody / 1024;

    // ---- ack -> next delivery: one session with replies waiting behind its input.txt.
    const s = sessions[0];
    log(`ack to next delivery: filling ${o.ackSamples} waiting replies for ${s}`);
    let completed = 0;
    const offDone = opened.relay.on('turn:completed', (p) => {
      if (p.route === s) completed++;
    });
    for (let i = 0; i <= o.ackSamples; i++) {
      writeEnvelope(paths, s, `${prose(r, 200)} #t${100_000 + i}#`);
      if (i % 20 === 19) await sleep(1);
    }
    const end = now() + 120_000;
    while (completed < o.ackSamples + 1) {
      if (now() > end) throw new Error(`bench: only ${completed} of ${o.ackSamples + 1} fill turns completed`);
      await sleep(10);
    }
    offDone();
    await sleep(300); // let the throttled status write and the last watcher events pass
    log(`ack to next delivery: ${o.ackSamples} samples`);
    const input = path.join(paths.dispatch, s, 'input.txt');
    for (let j = 0; j < o.ackSamples; j++) {
      const next = once(opened, 'dispatch:written', (p) => p.session === s);
      const t0 = now();
      fs.unlinkSync(input);
      out.ack.push((await next) - t0);
      await sleep(Math.floor(r() * 10));
    }
  } finally {
    await opened.close();
    await fakes.close();
  }
  return out;
}
