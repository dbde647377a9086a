import { parseArgs } from 'node:util';
import { hookCommand } from './hook.js';

/**
 * bin/relay-tui-hook.js: `relay-tui-hook SUB --session ID --root DIR [--timeout S]`, the
 * same as `relay-tui hook SUB ...` but without the main CLI's imports (the config schema
 * is loaded only by the hook that needs it). Never exits non-zero for a hook: an argument
 * it does not know is ignored, so a newer install line cannot break an older checkout.
 */
export async function runHookCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: false,
    allowPositionals: true,
    options: { session: { type: 'string' }, root: { type: 'string' }, timeout: { type: 'string' } },
  });
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const timeout = s(values.timeout) !== undefined ? Number(values.timeout) : undefined;
  const [sub] = positionals;
  if (!sub || sub === 'install') {
    process.stderr.write(
      'relay-tui-hook: runs a Claude Code hook (stop, prompt, stop-failure, notify); to install them: relay-tui hook install\n',
    );
    return 0;
  }
  return hookCommand([sub], {
    session: s(values.session),
    root: s(values.root),
    timeoutS: timeout !== undefined && Number.isFinite(timeout) && timeout >= 0 ? timeout : undefined,
    print: false,
  });
}
