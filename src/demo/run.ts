import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { writeAtomic } from '../fs/atomic.js';
import { DEFAULT_CONFIG_YAML } from '../config/defaults.js';
import { openRelay } from '../host/open-relay.js';
import { startFakeApi } from './fake-api.js';
import { startFakeNtfy } from './fake-ntfy.js';
import { DEMO_SESSIONS, demoResponder } from './script.js';
import { startDemoSessions } from './sessions.js';
import { ensureLayout, rootPaths } from '../protocol/root.js';

const demoNote = (api: string, ntfy: string, root: string) =>
  `DEMO: simulated chat-Claude at ${api}, simulated ntfy at ${ntfy}, root ${root}. No API key, no spend: costs shown are what the real API would charge.`;

/**
 * relay-tui --demo: the real relay, the real SDK and the real files, with chat-Claude
 * and ntfy replaced by local fakes on 127.0.0.1 and three simulated sessions. Needs
 * no API key and spends nothing.
 */
export async function runDemo(o: { root?: string; headless: boolean; backend?: 'api' | 'claude-code' }): Promise<number> {
  const root = o.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'relay-tui-demo-'));
  fs.mkdirSync(root, { recursive: true });
  const configFile = path.join(root, 'config.yaml');
  if (!fs.existsSync(configFile)) {
    const doc = YAML.parseDocument(DEFAULT_CONFIG_YAML);
    doc.set('sessions', DEMO_SESSIONS);
    writeAtomic(configFile, doc.toString(), 0o644);
  }
  // The demo's system prompt is short; a lower cache minimum lets the panes show what caching
  // does to a real, longer prompt (cache reads growing, the hit share near 90%).
  // RELAY_DEMO_LATENCY=1: chat-Claude answers at a real model's speed (fake-api-latency.ts), not at once.
  const latency = process.env.RELAY_DEMO_LATENCY === '1' ? { seed: 1 } : undefined;
  const api = await startFakeApi({ respond: demoResponder, chunkSize: 6, minCacheableTokens: 100, latency });
  const ntfy = await startFakeNtfy();
  const ac = new AbortController();
  // --demo --backend claude-code: the user's Claude Code as chat-Claude, pointed at the same fake (a throwaway key, no spend).
  const chatEnv = { ANTHROPIC_BASE_URL: api.url, ANTHROPIC_API_KEY: 'demo-key-not-secret' };
  try {
    if (!o.headless) {
      // The TUI: the relay on its engine thread, opened there with the same overrides.
      const envOverrides = {
        ANTHROPIC_API_KEY: 'demo-key-not-secret',
        ANTHROPIC_BASE_URL: api.url,
        NTFY_SERVER: ntfy.url,
        NTFY_TOKEN: undefined,
      };
      process.stderr.write(`relay-tui demo: root ${root} (simulated chat-Claude and sessions; nothing is sent anywhere)\n`);
      const paths = rootPaths(root);
      ensureLayout(paths);
      const sessions = startDemoSessions(
        paths,
        DEMO_SESSIONS.map((s) => s.id),
        ac.signal,
      );
      const { runHostedTui } = await (await import('../host/tui-entry.js')).loadHostedTui();
      const code = await runHostedTui({
        root,
        envOverrides,
        backend: o.backend,
        chatEnv,
        title: 'DEMO',
        notes: [demoNote(api.url, ntfy.url, root)],
      });
      ac.abort();
      await sessions;
      return code;
    }
    const opened = await openRelay({
      root,
      interactive: !o.headless,
      backend: o.backend,
      chatEnv,
      envOverrides: { ANTHROPIC_API_KEY: 'demo-key-not-secret', ANTHROPIC_BASE_URL: api.url, NTFY_SERVER: ntfy.url, NTFY_TOKEN: undefined },
    });
    opened.relay.events.emit('log', { level: 'info', message: demoNote(api.url, ntfy.url, root) });
    process.stderr.write(`relay-tui demo: root ${root} (simulated chat-Claude and sessions; nothing is sent anywhere)\n`);
    const sessions = startDemoSessions(
      opened.paths,
      DEMO_SESSIONS.map((s) => s.id),
      ac.signal,
    );
    const { runHeadless } = await import('../host/headless.js');
    const code = await runHeadless(opened, { json: false });
    ac.abort();
    await sessions;
    return code;
  } finally {
    ac.abort();
    await api.close();
    await ntfy.close();
  }
}
