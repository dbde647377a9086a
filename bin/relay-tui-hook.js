#!/usr/bin/env node
// Claude Code's hook commands (stop, prompt, stop-failure, notify) without the main CLI's
// start-up: they run on every turn and every typed prompt, and Claude Code waits for them.
import { runHookCli } from '../dist/commands/hook/entry.js';

runHookCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`relay-tui hook: ${err?.message ?? err}\n`);
    process.exitCode = 0;
  },
);
