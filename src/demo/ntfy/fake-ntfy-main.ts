import { pathToFileURL } from 'node:url';
import { startFakeNtfy } from './fake-ntfy.js';

// ---------------------------------------------------------------------------
// Standalone: node dist/demo/ntfy/fake-ntfy-main.js --port 8788 [--token tk_x] [--keepalive-ms 30000]
// ---------------------------------------------------------------------------

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

async function main(argv: string[]): Promise<void> {
  const portArg = argValue(argv, '--port');
  const keepaliveArg = argValue(argv, '--keepalive-ms');
  const fake = await startFakeNtfy({
    port: portArg !== undefined ? Number(portArg) : 8788,
    token: argValue(argv, '--token'),
    keepaliveMs: keepaliveArg !== undefined ? Number(keepaliveArg) : undefined,
    onPublish: (m) => {
      const extra = [
        m.title && `title=${JSON.stringify(m.title)}`,
        m.priority && `p=${m.priority}`,
        m.actions && `actions=${m.actions.length}`,
      ]
        .filter(Boolean)
        .join(' ');
      process.stdout.write(`[fake-ntfy] ${m.topic} ${m.id}: ${JSON.stringify(m.message)}${extra ? ` ${extra}` : ''}\n`);
    },
  });
  process.stdout.write(`fake ntfy listening on ${fake.url}\n`);
  const shutdown = (): void => {
    void fake.close().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`fake ntfy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
