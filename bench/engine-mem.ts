// Run as a child process by the bench: `node .bench/bench/engine-mem.js ROOT TURNS`.
// The relay engine exactly as the CLI opens it (openRelay, headless), with the API
// replaced by an in-process stub whose usage figures grow with the prompt (so
// history.cap_tokens triggers summarization as it would), pushed through TURNS turns
// while its RSS is printed every 1,000: what the engine keeps in memory per turn.
// A real API call costs the relay the same allocations every turn, all garbage after.
import fs from 'node:fs';
import path from 'node:path';
import type { ChatClient } from '../src/adapters/anthropic.js';
import { openRelay } from '../src/host/open-relay.js';
import { writeEnvelope } from '../src/protocol/envelope.js';
import { prose, rng } from './util.js';

async function main(root: string, turns: number): Promise<void> {
  const reply = 'Reviewed the update. Carry on with the next step and report back when the tests pass.';
  const chat: ChatClient = {
    async complete(req) {
      const promptChars = req.system.length + req.messages.reduce((s, m) => s + m.content.length, 0);
      const last = Math.ceil((req.messages[req.messages.length - 1]?.content.length ?? 0) / 4);
      const prompt = Math.ceil(promptChars / 4);
      return {
        text: req.messages[req.messages.length - 1]?.content.startsWith('[relay]') ? `Summary: ${reply}` : reply,
        usage: {
          input_tokens: 0,
          cache_creation_input_tokens: last,
          cache_read_input_tokens: prompt - last,
          output_tokens: Math.ceil(reply.length / 4),
        },
        stopReason: 'end_turn',
        model: req.model,
        requestId: null,
      };
    },
  };
  const opened = await openRelay({ root, interactive: false, chat, realEnv: {} });
  const queue = path.join(root, 'queue');
  const sessions = opened.config.sessions.map((s) => s.id);
  const r = rng(3);
  let written = 0;
  let delivered = 0;
  let next = 1000;
  // Started with --expose-gc: the heap is measured after a full collection, so growth is what is kept.
  const gc = (globalThis as { gc?: () => void }).gc;
  const report = (n: number) => {
    gc?.();
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ turns: n, rss: m.rss, heap: m.heapUsed })}\n`);
  };
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((res) => (resolveDone = res));
  const feed = () => {
    while (written < turns && written - delivered < 32) {
      const s = sessions[written % sessions.length];
      const name = `${String(written).padStart(8, '0')}-${s}.json`;
      writeEnvelope(queue, { session_id: s, content: `${prose(r, 300)} #t${written}#` }, { name, durable: false });
      written++;
    }
  };
  opened.relay.on('dispatch:written', ({ session }) => {
    fs.rmSync(path.join(root, 'dispatch', session, 'input.txt'), { force: true });
    delivered++;
    if (delivered >= next) {
      report(delivered);
      next += 1000;
    }
    if (delivered >= turns) resolveDone();
    else setImmediate(feed);
  });
  await opened.relay.start();
  report(0);
  feed();
  await done;
  await opened.close();
}

const [root, n] = process.argv.slice(2);
main(root, Number(n)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`engine-mem: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
