import type { OpenedRelay } from './open-relay.js';
import { attachLog } from '../log/sink.js';

/**
 * --no-ui: the same relay, its events as lines on stdout and in logs/relay.log.
 * Operator input arrives only by file (state/jc_input.txt) or `relay-tui say`.
 * First SIGINT/SIGTERM: finish the write in hand, release the lock, exit 0; a
 * second one forces.
 */
export async function runHeadless(opened: OpenedRelay, opts: { json: boolean }): Promise<number> {
  const { relay, paths } = opened;
  // The first listener: it takes what the relay said before (the start-up warnings) first.
  const detach = attachLog(relay.events, {
    file: paths.log,
    secrets: [opened.env.ANTHROPIC_API_KEY, opened.env.NTFY_TOKEN],
    stream: process.stdout,
    json: opts.json,
  });
  relay.events.emit('log', {
    level: 'info',
    message: `ntfy topic: ${opened.ntfyServer}/${opened.topic} (subscribe on your phone for pings)`,
  });
  relay.events.emit('log', { level: 'info', message: `operator input: relay-tui say TEXT, or write ${paths.jcInput}` });

  let signals = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`relay-tui: second ${sig}, exiting now\n`);
        process.exit(130);
      }
      relay.events.emit('log', { level: 'info', message: `${sig}: finishing the write in hand and stopping` });
      opened.close().then(
        () => resolve(0),
        (err) => {
          process.stderr.write(`relay-tui: error while stopping: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A closed tmux pane or ssh session: stop as gracefully as on SIGTERM.
    process.on('SIGHUP', onSignal);
  });
  await relay.start();
  const code = await stopped;
  relay.events.emit('log', { level: 'info', message: 'stopped' });
  detach();
  return code;
}
