import { Box, useStdout } from 'ink';
import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Banner } from './Banner.js';
import { bannerContent, bannerRows } from './banner-content.js';
import { Header } from './Header.js';
import { HelpOverlay } from './HelpOverlay.js';
import { KeyBindings, type KeyHandlers } from './KeyBindings.js';
import type { Action } from './keymap.js';
import { computeLayout } from './layout.js';
import { Panes } from './Panes.js';
import { PromptLine } from './PromptLine.js';
import type { RelayLike } from './relay-like.js';
import { ResultLine } from './ResultLine.js';
import { useBell } from './use-bell.js';
import { useClock } from './use-clock.js';
import { useOperatorResults, type ResultInfo } from './use-operator-results.js';
import { usePrompt } from './use-prompt.js';
import { useRelay } from './use-relay.js';
import { useScrollback } from './use-scrollback.js';
import { useTerminalSize } from './use-terminal-size.js';
import { width as textWidth } from './wrap.js';

export interface AppProps {
  relay: RelayLike;
  /** Graceful shutdown: /quit and Ctrl+C end here. */
  onQuit: () => void;
  /** Shown in the header, e.g. "DEMO". */
  title?: string;
  /** Injectable for tests and previews. */
  now?: () => number;
  bell?: () => void;
  batchMs?: number;
}

/** How often an idle screen refreshes its ages and uptime. */
export const IDLE_TICK_MS = 10_000;

export function App({ relay, onQuit, title, now: nowFn, bell, batchMs = 50 }: AppProps) {
  const snap = useRelay(relay, batchMs);
  const s = snap.status;
  const { rows, columns } = useTerminalSize();
  // A frame costs tens of ms of CPU: seconds matter while something is in flight or
  // waiting; an idle relay only needs its ages refreshed now and then.
  const busy = !!s.inflight || !!s.retry || s.queue_depth > 0 || !!s.held;
  const now = useClock(nowFn, busy ? 1000 : IDLE_TICK_MS);
  const { stdout } = useStdout();
  const [help, setHelp] = useState(false);
  const [result, setResult] = useState<ResultInfo | null>(null);
  const swallow = useRef(false);
  const quitRequested = useRef(false);
  const [quitting, setQuitting] = useState(false);

  // Ink commits React updates on a later tick: onQuit waits for the "shutting down"
  // frame to be committed, so the last frame left on the terminal says so.
  const quit = useCallback(() => {
    if (quitRequested.current) return;
    quitRequested.current = true;
    setResult({ ok: true, message: 'shutting down: finishing the write in hand…' });
    setQuitting(true);
  }, []);
  useEffect(() => {
    if (quitting) onQuit();
  }, [quitting, onQuit]);
  const ring = useCallback(() => (bell ? bell() : stdout.write('\x07')), [bell, stdout]);
  useBell(s, ring);
  useOperatorResults(relay, setResult);
  const scroll = useScrollback(relay, snap.tail, (message) => setResult({ ok: false, message }));
  const sessionIds = useMemo(() => Object.keys(s.sessions), [s.sessions]);
  const prompt = usePrompt({ relay, sessionIds, onResult: setResult, onQuit: quit, swallow });

  const banner = bannerContent(s, now);
  const promptRows = Math.ceil((textWidth(prompt.value) + 3) / Math.max(20, columns));
  const lay = computeLayout({ rows, columns, sessions: sessionIds.length, prompt: promptRows, banner: bannerRows(banner, columns, columns >= 140 ? 12 : 6) });
  const page = Math.max(1, lay.conversation - 2);

  const submit = (command: string) => prompt.send(command);
  const run = (a: Action) => {
    switch (a) {
      case 'approve':
        return submit('/approve');
      case 'drop':
        return submit('/drop');
      case 'toggle-pause':
        return submit(s.state === 'running' && !s.pause_reason ? '/pause' : '/resume');
      case 'reply-session':
        // Keeps what was typed: "@session: " goes in front (or replaces another @session:).
        if (s.held) return prompt.set(`@${s.held.session}: ${prompt.current().replace(/^@[^\s:]*:\s*/, '')}`);
        return setResult({ ok: false, message: 'nothing is held; @session: text writes to any session (Tab completes)' });
      case 'clear-prompt':
        return prompt.set('');
      case 'help':
        return setHelp(true);
      case 'close':
        return setHelp(false);
      case 'scroll-up':
        return scroll.up(page);
      case 'scroll-down':
        return scroll.down(page);
      case 'scroll-end':
        return scroll.toEnd();
      case 'quit':
        return quit();
      default:
        return undefined;
    }
  };
  const handlers = useRef<KeyHandlers>({ context: () => ({ promptEmpty: true, helpOpen: false, scrolled: false }), run, presence: () => relay.notePresence() });
  handlers.current = {
    context: () => ({ promptEmpty: prompt.current() === '', helpOpen: help, scrolled: scroll.offset > 0 }),
    run,
    presence: () => relay.notePresence(),
  };

  const body = help ? <HelpOverlay width={lay.width} height={lay.body + lay.banner} /> : <Panes snap={snap} scroll={scroll} lay={lay} now={now} />;

  return (
    <Box flexDirection="column" width={lay.width} height={lay.height} overflow="hidden">
      <KeyBindings handlers={handlers} swallow={swallow} />
      <Header status={s} now={now} width={lay.width} height={lay.header} title={title} />
      {banner && lay.banner > 0 && !help ? <Banner content={banner} width={lay.width} height={lay.banner} /> : null}
      {body}
      <Box height={1} overflow="hidden">
        <ResultLine result={result} />
      </Box>
      <PromptLine prompt={prompt} focus={!help} rows={lay.prompt} />
    </Box>
  );
}
