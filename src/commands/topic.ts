import { ensureTopics, mergeEnv, readDotenv } from '../config/env.js';
import type { RootPaths } from '../protocol/root.js';

export function topicCommand(p: RootPaths): number {
  const env = mergeEnv(readDotenv(p.env), process.env);
  const { topic, replyTopic } = ensureTopics(p.env, env);
  const server = (env.NTFY_SERVER ?? 'https://ntfy.sh').replace(/\/+$/, '');
  process.stdout.write(`${server}/${topic}\n`);
  process.stderr.write(
    `  pings: subscribe to the URL above in the ntfy app (or: curl -s ${server}/${topic}/json)\n` +
      `  replies from the phone (ntfy.accept_replies: true in config.yaml): ${server}/${replyTopic}\n` +
      `  keep both secret: anyone who knows a topic can read it or publish to it\n`,
  );
  return 0;
}
