import path from 'node:path';
import { createAnthropicChat, type ChatClient } from '../adapters/anthropic.js';
import { createClaudeCodeChat } from '../adapters/claude-code.js';
import type { RelayEnv } from '../config/env.js';
import { MissingKeyError } from '../config/errors.js';
import type { Config } from '../config/schema.js';
import { ensureDir } from '../fs/confine.js';
import type { RootPaths } from '../protocol/root.js';

/**
 * Who answers as chat-Claude: the Messages API with the relay's key (chat.backend: api),
 * or the user's own Claude Code CLI (claude-code). open-relay.ts asks here, so the TUI,
 * --no-ui and --demo cannot differ in how the backend is chosen.
 */

export const BACKENDS = ['api', 'claude-code'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface BackendChoice {
  backend: Backend;
  config: Config;
  paths: RootPaths;
  /** The relay's environment (.env merged over the shell's): the API backend's key and base URL. */
  env: RelayEnv;
  /**
   * The user's own environment, for Claude Code: it finds its own sign-in there. Not the
   * .env merge — a relay ANTHROPIC_API_KEY there would take over from the user's subscription.
   */
  realEnv: NodeJS.ProcessEnv;
  onNotice: (message: string) => void;
  /** This run made the root: a missing key's message says so (first run). */
  created?: { root: string; configFile: string };
}

/** A thrown MissingKeyError when the API backend has no key; the claude-code backend needs none of ours. */
export function createChat(c: BackendChoice): ChatClient & { close?: () => Promise<void> } {
  if (c.backend === 'claude-code') {
    const stateDir = path.join(c.paths.state, 'claude-code');
    // 0700: Claude Code's private working directory and the supervisor's session id live here.
    ensureDir(stateDir, 0o700);
    return createClaudeCodeChat({
      claudePath: c.config.chat.claude_path,
      stateDir,
      idleTimeoutMs: c.config.api.idle_timeout_s * 1000,
      timeoutMs: c.config.api.timeout_s * 1000,
      maxRetries: c.config.api.max_retries,
      env: c.realEnv,
      onNotice: c.onNotice,
    });
  }
  if (!c.env.ANTHROPIC_API_KEY) throw new MissingKeyError(c.paths.env, c.created);
  return createAnthropicChat({
    onNotice: c.onNotice,
    apiKey: c.env.ANTHROPIC_API_KEY,
    baseURL: c.env.ANTHROPIC_BASE_URL,
    maxRetries: c.config.api.max_retries,
    timeoutMs: c.config.api.timeout_s * 1000,
    idleTimeoutMs: c.config.api.idle_timeout_s * 1000,
  });
}
