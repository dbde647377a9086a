#!/usr/bin/env node
// The late-reply waiter (Claude Code Stop hook with "asyncRewake": true). Its own entry
// point, so that nothing but a deliberate hand-over can exit 2 (which wakes the session):
// a usage error of the main CLI exits 2, and would wake it in a loop.
import { HANDED_OVER, runWaiterCli } from '../dist/commands/hook/wait.js';

runWaiterCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code === HANDED_OVER ? HANDED_OVER : 0;
  },
  (err) => {
    process.stderr.write(`relay-tui hook wait: ${err?.message ?? err}\n`);
    process.exitCode = 0;
  },
);
