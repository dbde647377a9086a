import fs from 'node:fs';

type HostedTui = typeof import('./tui/start.js');

/**
 * The TUI's process: the bundle `npm run build` writes to dist/tui/ (scripts/bundle-tui.mjs:
 * the same modules, joined, which load ~4× faster and hold ~20 MB less), or the modules
 * themselves where no bundle was built (a bare `tsc`, or running from src/).
 */
export function loadHostedTui(): Promise<HostedTui> {
  const bundle = new URL('../tui/start.js', import.meta.url);
  if (fs.existsSync(bundle)) return import(bundle.href) as Promise<HostedTui>;
  return import('./tui/start.js');
}
