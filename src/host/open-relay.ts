import type { ChatClient } from '../adapters/anthropic.js';
import { acquireLock } from '../fs/lock.js';
import { createPublisher, subscribe } from '../adapters/ntfy.js';
import { ensureTopics, mergeEnv, protectDotenv, readDotenv, type RelayEnv } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { PhoneReplies } from '../engine/kernel/ports.js';
import { localDay } from '../engine/journals/ledger.js';
import { lifecycleWarning } from '../pricing/prices.js';
import { Relay } from '../engine/relay.js';
import { createChat, type Backend } from './chat-backend.js';
import { ensureLayout, resolveRoot, rootPaths, type RootPaths } from '../protocol/root.js';

/**
 * Everything between "the user ran relay-tui" and a Relay ready to start: the root, the
 * config, .env, the lock and the adapters. Shared by the TUI's engine thread, --no-ui and
 * --demo so the three cannot differ in how they start. The caller attaches its view and
 * then calls relay.start().
 */

export interface OpenOptions {
  root?: string;
  configFile?: string;
  interactive: boolean;
  /** Replaces the Anthropic client (the demo's in-process fake goes through the real SDK via baseURL instead). */
  chat?: ChatClient;
  envOverrides?: RelayEnv;
  realEnv?: NodeJS.ProcessEnv;
  /** --backend: overrides chat.backend from the config. */
  backend?: Backend;
  /** Laid over the user's environment for Claude Code only (the demo points it at its fake API). */
  chatEnv?: Record<string, string | undefined>;
}

export interface OpenedRelay {
  relay: Relay;
  paths: RootPaths;
  config: Config;
  env: RelayEnv;
  /** Start-up warnings (config, a retiring model): already emitted as `log` warn events; the TUI also shows them under its header. */
  warnings: string[];
  topic: string;
  replyTopic: string;
  ntfyServer: string;
  /** Stops the relay and releases the lock. Idempotent. */
  close(): Promise<void>;
}

export function openPaths(root?: string): RootPaths {
  const paths = rootPaths(resolveRoot(root));
  ensureLayout(paths);
  protectDotenv(paths.env); // never through a link; the relay's readDotenv refuses a bad .env (exit 4)
  return paths;
}

export async function openRelay(o: OpenOptions): Promise<OpenedRelay> {
  const paths = openPaths(o.root);
  const configFile = o.configFile ?? paths.config;
  const { config, warnings, seeded } = loadConfig(configFile);
  // A config.yaml seeded just now: this run made the root, and the user should hear where and what to edit next.
  const created = seeded ? { root: paths.root, configFile } : undefined;
  const retiring = lifecycleWarning(config.model, localDay(Date.now()));
  if (retiring) warnings.push(retiring);
  const env: RelayEnv = { ...mergeEnv(readDotenv(paths.env), o.realEnv ?? process.env), ...o.envOverrides };
  const backend = o.backend ?? config.chat.backend;
  const late: { relay?: Relay } = {};
  const log = (level: 'info' | 'warn', message: string) => late.relay?.events.emit('log', { level, message });
  // Before the lock: a missing key is said without touching the root's lock.
  const chat =
    o.chat ??
    createChat({
      backend,
      config,
      paths,
      env,
      realEnv: { ...(o.realEnv ?? process.env), ...o.chatEnv },
      // The API adapter's notices are warnings (SDK deprecations); Claude Code's say what it did (a fresh session, a resume).
      onNotice: (message) => log(backend === 'api' ? 'warn' : 'info', message),
      created,
    });
  const closeChat = () => (chat as { close?: () => Promise<void> }).close?.() ?? Promise.resolve();
  const lock = acquireLock(paths.lock);
  try {
    const { topic, replyTopic } = ensureTopics(paths.env, env);
    env.NTFY_TOPIC = topic;
    env.NTFY_REPLY_TOPIC = replyTopic;
    const ntfyServer = (env.NTFY_SERVER ?? 'https://ntfy.sh').replace(/\/+$/, '');
    const notifier = createPublisher({ server: ntfyServer, topic, token: env.NTFY_TOKEN });
    const phone: PhoneReplies = {
      replyUrl: `${ntfyServer}/${replyTopic}`,
      token: env.NTFY_TOKEN,
      subscribe: (since, onMessage, onState) =>
        subscribe({ server: ntfyServer, topic: replyTopic, token: env.NTFY_TOKEN, since, onMessage, onState }),
    };
    const relay = new Relay({ paths, config, chat, notifier, topic, phone, interactive: o.interactive });
    late.relay = relay;
    // Said once, here: no view listens yet, so the relay's events keep them until the
    // first one attaches (RelayEmitter's backlog) and no host repeats them.
    for (const message of warnings) relay.events.emit('log', { level: 'warn', message });
    if (created)
      relay.events.emit('log', {
        level: 'info',
        message: `created a new relay root in ${created.root}; next: list your Claude Code sessions under sessions: in ${created.configFile}`,
      });
    let closed: Promise<void> | undefined;
    return {
      relay,
      paths,
      config,
      env,
      warnings,
      topic,
      replyTopic,
      ntfyServer,
      close() {
        closed ??= relay
          .stop()
          .then(closeChat)
          .finally(() => lock.release());
        return closed;
      },
    };
  } catch (err) {
    lock.release();
    void closeChat();
    throw err;
  }
}
