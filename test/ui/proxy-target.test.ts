import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayProxy, type PortLike } from '../../src/host/tui/proxy.js';
import type { FromWorker, ToWorker } from '../../src/host/tui/protocol.js';

/**
 * The selected inbox item's session crosses the thread boundary with the text: a real
 * MessageChannel (structured clone) between the view's proxy and a stand-in worker end.
 */

let close: (() => void) | undefined;
afterEach(() => close?.());

function channel() {
  const { port1, port2 } = new MessageChannel();
  close = () => {
    port1.close();
    port2.close();
  };
  const seen: ToWorker[] = [];
  // The worker's end: records each request and answers submits with what it received.
  port2.on('message', (m: ToWorker) => {
    seen.push(m);
    if (m.t === 'submit') {
      const reply: FromWorker = { t: 'submitted', id: m.id, result: { ok: true, message: `target ${m.opts?.target ?? 'none'}` } };
      port2.postMessage(reply);
    }
  });
  return { proxy: new RelayProxy(port1 as unknown as PortLike), seen };
}

describe('RelayProxy.submit', () => {
  it('carries { target } to the engine thread, and no opts when the caller gave none', async () => {
    const { proxy, seen } = channel();
    expect(await proxy.submit('yes, option B', 'tui', { target: 'session-2' })).toEqual({ ok: true, message: 'target session-2' });
    expect(await proxy.submit('/pause', 'tui')).toEqual({ ok: true, message: 'target none' });
    expect(seen).toEqual([
      { t: 'submit', id: 1, text: 'yes, option B', source: 'tui', opts: { target: 'session-2' } },
      { t: 'submit', id: 2, text: '/pause', source: 'tui' },
    ]);
  });
});
