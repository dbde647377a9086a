#!/usr/bin/env node
// The late-reply waiter (Claude Code Stop hook with "asyncRewake": true). Its own entry
// point, so that nothing but a deliberate hand-over can exit 2 (which wakes the session):
// a usage error of the main CLI exits 2, and would wake it in a loop.
import v8 from 'node:v8';

// It idles for hours, once per open session, and nothing it runs is hot: V8's optimizing
// compilers would only hold ~3 MB of its RSS (BENCHMARKS.md row 12). The interpreter and
// the baseline compiler stay; these flags decide only whether code gets optimized, and
// are set before any of ours is loaded. Only on the Node these flags were checked on: V8
// prints "unrecognized flag" to stderr for one it lacks, and on a hand-over stderr is
// what the woken session reads.
if (process.versions.node.split('.')[0] === '20') for (const flag of ['--no-opt', '--no-maglev']) v8.setFlagsFromString(flag);

// --remote: the relay is on another machine, reached over ssh (src/commands/remote/waiter.ts).
const remote = process.argv.some((a) => a === '--remote' || a.startsWith('--remote='));
const entry = remote
  ? import('../dist/commands/remote/waiter.js').then((m) => ({ HANDED_OVER: m.HANDED_OVER, run: m.runRemoteWaiterCli }))
  : import('../dist/commands/hook/wait.js').then((m) => ({ HANDED_OVER: m.HANDED_OVER, run: m.runWaiterCli }));
entry
  .then(({ HANDED_OVER, run }) => run(process.argv.slice(2)).then((code) => (code === HANDED_OVER ? HANDED_OVER : 0)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`relay-tui hook wait: ${err?.message ?? err}\n`);
      process.exitCode = 0;
    },
  );
