/**
 * The Anthropic SDK prints some notices with console.warn on every request, with no
 * option to turn them off: a deprecated model ("The model '…' is deprecated and will
 * reach end-of-life on …"), a thinking mode it advises against. Printed per call they
 * would fill the headless log and, from the engine thread, the TUI's log pane, once a
 * turn for as long as the relay runs. Each distinct notice is passed on once, through
 * the sink the relay gives (its log), and its repeats are dropped; anything else that
 * is warned goes on to console.warn as it would have.
 */

type Warn = (...args: unknown[]) => void;

const SDK_NOTICE = /^(The model '[^']+' is deprecated|Using Claude with \S+ and '[^']+' is deprecated)/;

let sink: ((text: string) => void) | undefined;
let original: Warn | undefined;
const seen = new Set<string>();

/** The notice's first line, the part that names the model and the date; the SDK's link follows. */
function headline(text: string): string {
  return text.split('\n')[0].trim();
}

/**
 * Routes the SDK's per-request notices to `to` (or, with none, lets the first of each
 * through to console.warn). Installed once per process; a later call changes the sink.
 */
export function routeSdkNotices(to?: (text: string) => void): void {
  if (to) sink = to;
  if (original) return;
  // eslint-disable-next-line no-console -- wrapping the SDK's own console.warn is the point
  original = console.warn;
  const passOn = original;
  const wrapped: Warn = (...args) => {
    const first = args[0];
    if (typeof first !== 'string' || !SDK_NOTICE.test(first)) return passOn.apply(console, args);
    const line = headline(first);
    if (seen.has(line)) return;
    seen.add(line);
    if (sink) sink(`Anthropic SDK: ${line} (set model: in config.yaml to a current model; README.md#prices lists them)`);
    else passOn.apply(console, args);
  };
  // eslint-disable-next-line no-console -- as above
  console.warn = wrapped;
}
