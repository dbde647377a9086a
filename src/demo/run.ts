import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { writeAtomic } from '../fs/atomic.js';
import { DEFAULT_CONFIG_YAML } from '../config/defaults.js';
import { openRelay } from '../host/open-relay.js';
import { startFakeApi } from './fake-api.js';
import { startFakeNtfy } from './ntfy/fake-ntfy.js';
import { DEMO_SESSIONS, demoResponder } from './script.js';
import { startDemoSessions } from './sessions.js';
import { ensureLayout, rootPaths } from '../protocol/root.js';

const demoNote = (api: string, ntfy: string, root: string) =>
  `DEMO: simulated chat-Claude at ${api}, simulated ntfy at ${ntfy}, root ${root}. No API key, no spend: costs shown are what the real API would charge.`;

const startLine = (root: string, fate: RootFate) =>
  `relay-tui demo: root ${root}${FATE[fate]} (simulated chat-Claude and sessions; nothing is sent anywhere)\n`;

/**
 * relay-tui --demo: the real relay, the real SDK and the real files, with chat-Claude
 * and ntfy replaced by local fakes on 127.0.0.1 and three simulated sessions. Needs
 * no API key and spends nothing.
 */
export async function runDemo(o: { root?: string; headless: boolean; backend?: 'api' | 'claude-code' }): Promise<number> {
  // A root the demo made for itself is the demo's to remove: a user who tries it ten
  // times should not find ten roots in /tmp. RELAY_DEMO_KEEP=1 keeps it (and says where).
  const temporary = o.root === undefined;
  const keep = temporary && /^(1|true|yes)$/i.test(process.env.RELAY_DEMO_KEEP ?? '');
  const root = o.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'relay-tui-demo-'));
  if (!temporary) return runDemoIn(root, o.headless, 'yours', o.backend);
  // Also on 'exit': a second signal while stopping ends the process at once, past the
  // finally below.
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    endTemporaryRoot(root, keep);
  };
  process.once('exit', end);
  // A signal before the view has its own handlers (while it starts) would end the process
  // with no 'exit' event: remove the root, then let the signal do what it would have done.
  const early = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return; // the view stops cleanly; the finally removes it
    for (const s of SIGNALS) process.off(s, early);
    end();
    process.kill(process.pid, sig);
  };
  for (const s of SIGNALS) process.on(s, early);
  try {
    return await runDemoIn(root, o.headless, keep ? 'kept' : 'removed', o.backend);
  } finally {
    for (const s of SIGNALS) process.off(s, early);
    process.off('exit', end);
    end();
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** What becomes of the root on exit: the start-up line says so. */
type RootFate = 'removed' | 'kept' | 'yours';

const FATE: Record<RootFate, string> = {
  removed: ', removed on exit; RELAY_DEMO_KEEP=1 keeps it',
  kept: ', kept on exit (RELAY_DEMO_KEEP)',
  yours: '',
};

function endTemporaryRoot(root: string, keep: boolean): void {
  if (keep) {
    process.stderr.write(`relay-tui demo: kept the root at ${root} (remove it with: rm -r ${root})\n`);
    return;
  }
  try {
    // rmSync removes a symlink inside the root, never what it points to.
    fs.rmSync(root, { recursive: true, force: true });
  } catch (err) {
    process.stderr.write(`relay-tui demo: could not remove the temporary root ${root}: ${(err as Error)?.message ?? err}\n`);
  }
}

async function runDemoIn(root: string, headless: boolean, fate: RootFate, backend?: 'api' | 'claude-code'): Promise<number> {
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
    if (!headless) {
      // The TUI: the relay on its engine thread, opened there with the same overrides.
      const envOverrides = {
        ANTHROPIC_API_KEY: 'demo-key-not-secret',
        ANTHROPIC_BASE_URL: api.url,
        NTFY_SERVER: ntfy.url,
        NTFY_TOKEN: undefined,
      };
      process.stderr.write(startLine(root, fate));
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
        backend,
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
      interactive: !headless,
      backend,
      chatEnv,
      envOverrides: { ANTHROPIC_API_KEY: 'demo-key-not-secret', ANTHROPIC_BASE_URL: api.url, NTFY_SERVER: ntfy.url, NTFY_TOKEN: undefined },
    });
    opened.relay.events.emit('log', { level: 'info', message: demoNote(api.url, ntfy.url, root) });
    process.stderr.write(startLine(root, fate));
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
