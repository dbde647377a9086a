import type { OpenedRelay } from './open-relay.js';

/** Runs an opened relay under one of the two views; only the TUI branch loads Ink and React. */
export async function runView(opened: OpenedRelay, o: { headless: boolean; json: boolean; title?: string }): Promise<number> {
  if (o.headless) return (await import('./headless.js')).runHeadless(opened, { json: o.json });
  // React's development build records a performance.measure() per render and Node keeps
  // them all: hundreds of MB after a few hundred turns (BENCHMARKS.md). Set before React loads.
  process.env.NODE_ENV ??= 'production';
  // Ink draws no live frames when it sees CI=true (it checks at import). Someone who starts
  // the TUI on a terminal wants it live, whatever their shell exports.
  if (process.stdout.isTTY) {
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
  }
  const { runTui } = await import('../ui/run-tui.js');
  const { attachLog } = await import('../log/sink.js');
  const detach = attachLog(opened.relay.events, { file: opened.paths.log, secrets: [opened.env.ANTHROPIC_API_KEY, opened.env.NTFY_TOKEN] });
  for (const w of opened.warnings) opened.relay.events.emit('log', { level: 'warn', message: w });
  await opened.relay.start();
  try {
    return await runTui(opened.relay, { onExit: () => opened.close(), title: o.title });
  } finally {
    await opened.close();
    detach();
  }
}
