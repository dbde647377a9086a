import { Box, useStdout } from 'ink';
import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { DEFAULT_KEYS, tmuxPrefixClashes } from '../config/keys.js';
import { Header } from './Header.js';
import { Inbox } from './inbox/Inbox.js';
import {
  answerTarget,
  approveCommand,
  dropCommand,
  inboxItems,
  inboxRows,
  itemKey,
  planInbox,
  RELAY_WIDE,
  selectedIndex,
} from './inbox/inbox-items.js';
import { HelpOverlay, helpMaxOffset } from './HelpOverlay.js';
import { KeyBindings, type KeyHandlers } from './keys/KeyBindings.js';
import { buildKeymap, type Action } from './keys/keymap.js';
import { computeLayout } from './layout.js';
import { Notice, prefixHints } from './Notice.js';
import { Panes, STATS_STRIP_ROWS, StatsStrip } from './Panes.js';
import { promptRows } from './prompt-rows.js';
import { PromptLine } from './PromptLine.js';
import type { RelayLike } from '../engine/api.js';
import { hintText, resultHeight, ResultLine } from './ResultLine.js';
import { useBell } from './hooks/use-bell.js';
import { useClock } from './hooks/use-clock.js';
import { nextChangeMs } from './ticks.js';
import { useConversationNotes } from './hooks/use-conversation-notes.js';
import { useOperatorResults, useResult } from './hooks/use-operator-results.js';
import { usePrompt } from './hooks/use-prompt.js';
import { useRelay } from './hooks/use-relay.js';
import { useScrollback } from './hooks/use-scrollback.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';

export interface AppProps {
  relay: RelayLike;
  /** Graceful shutdown: /quit and Ctrl+C end here. */
  onQuit: () => void;
  /** Shown in the header, e.g. "DEMO". */
  title?: string;
  /** config.yaml's `keys:` (validated). */
  keys?: Record<string, string>;
  /** Start-up warnings (config typos…), shown under the header until dismissed. */
  warnings?: readonly string[];
  /** The running tmux's prefix (`tmux show -gv prefix`), when known. */
  tmuxPrefix?: string | null;
  /** Injectable for tests and previews. */
  now?: () => number;
  bell?: () => void;
  /** Engine-driven frames at most this often (keystrokes draw at once, see run-tui.tsx). */
  batchMs?: number;
}

/**
 * A frame redraws the whole screen (Ink has no partial redraw): ~13 ms at 120x40 and
 * ~21 ms at 200x60 on the bench machine (bench/frame.ts). Engine-driven frames at
 * 5/s keep the view's thread mostly free under any load, so a keystroke waits for at
 * most the frame in hand, never a queue of them (echo p99 under 100 turns/s: ~50-65 ms
 * at 10/s, ~35 ms at 5/s; a streaming reply still moves five times a second).
 */
export const ENGINE_FRAME_MS = 200;

const NO_WARNINGS: readonly string[] = [];

export function App({
  relay,
  onQuit,
  title,
  keys,
  warnings = NO_WARNINGS,
  tmuxPrefix,
  now: nowFn,
  bell,
  batchMs = ENGINE_FRAME_MS,
}: AppProps) {
  const snap = useRelay(relay, batchMs);
  const s = snap.status;
  const { rows, columns } = useTerminalSize();
  const keymap = useMemo(() => buildKeymap(keys), [keys]);
  const clock = nowFn ?? Date.now;
  // A frame costs CPU: the clock ticks only when a figure on screen will change (ticks.ts).
  const tickPlan = useCallback((t: number) => nextChangeMs(s, t), [s]);
  const now = useClock(clock, tickPlan);
  const { stdout } = useStdout();
  const [help, setHelp] = useState(false);
  const [helpOffset, setHelpOffset] = useState(0);
  const items = useMemo(() => inboxItems(s), [s]);
  // The selection follows an item (not a row number) while it waits; else the oldest.
  const [selKey, setSelKey] = useState<string | null>(null);
  const sel = selectedIndex(items, selKey);
  const selected = sel >= 0 ? items[sel] : undefined;
  // How far the selected item's text is paged; another item (chosen, or the next oldest) starts at its top.
  const [paged, setPaged] = useState({ key: '', offset: 0 });
  const bodyOffset = selected && paged.key === itemKey(selected) ? paged.offset : 0;
  const setBodyOffset = (offset: number) => setPaged({ key: selected ? itemKey(selected) : '', offset });
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const stateKey = `${s.state}|${s.pause_reason ?? ''}|${items.map(itemKey).join(',')}`;
  const { result, show } = useResult(stateKey, clock);
  const quitRequested = useRef(false);
  const [quitting, setQuitting] = useState(false);

  const notices = useMemo(
    () => [...warnings, ...prefixHints(tmuxPrefixClashes({ ...DEFAULT_KEYS, ...keys }, tmuxPrefix), tmuxPrefix)],
    [warnings, keys, tmuxPrefix],
  );
  const [noticeAt, setNoticeAt] = useState(0);
  const notice = noticeAt < notices.length ? notices[noticeAt] : null;

  // Ink commits React updates on a later tick: onQuit waits for the "shutting down"
  // frame to be committed, so the last frame left on the terminal says so.
  const quit = useCallback(() => {
    if (quitRequested.current) return;
    quitRequested.current = true;
    show({ ok: true, message: 'shutting down: finishing the write in hand…' });
    setQuitting(true);
  }, [show]);
  useEffect(() => {
    if (quitting) onQuit();
  }, [quitting, onQuit]);
  const ring = useCallback(() => (bell ? bell() : stdout.write('\x07')), [bell, stdout]);
  useBell(s, ring);
  useOperatorResults(relay, show, warnings);
  const scroll = useScrollback(relay, snap.tail, (message) => show({ ok: false, message }));
  const notes = useConversationNotes(snap.notes, scroll.notes);
  const sessionIds = useMemo(() => Object.keys(s.sessions), [s.sessions]);
  const target = useCallback(() => answerTarget(selectedRef.current), []);
  const prompt = usePrompt({ relay, sessionIds, onResult: show, onQuit: quit, target });

  const width = Math.max(20, columns || 80);
  const maxBody = width >= 140 ? 12 : 6;
  const lay = computeLayout({
    rows,
    columns,
    sessions: sessionIds.length,
    prompt: prompt.value ? promptRows(prompt.value, prompt.cursor, width).length : 1,
    result: resultHeight(result, width),
    notice: !!notice,
    banner: inboxRows(items, sel, width, maxBody, keymap),
  });
  const plan = planInbox(items, sel, bodyOffset, lay.width, lay.banner, keymap);
  const page = Math.max(1, lay.conversation - 2);
  // The help covers the panes and the banner, but not the queue and cost strip.
  const helpHeight = Math.max(0, lay.body + lay.banner - STATS_STRIP_ROWS);

  const submit = (command: string) => prompt.send(command);
  const relayPaused = items.some((i) => i.session === RELAY_WIDE);
  const run = (a: Action) => {
    switch (a) {
      case 'approve':
        // The selected item, named: never the engine's guess (a bare /approve is refused when several wait).
        return submit(selected ? approveCommand(selected) : '/approve');
      case 'drop': {
        const c = selected ? dropCommand(selected) : '/drop';
        return typeof c === 'string' ? submit(c) : show({ ok: false, message: c.refused });
      }
      case 'toggle-pause':
        return submit(relayPaused ? '/resume' : '/pause');
      case 'reply-session':
        // Keeps what was typed: "@session: " goes in front (or replaces another @session:).
        if (selected && selected.session !== RELAY_WIDE)
          return prompt.set(`@${selected.session}: ${prompt.current().replace(/^@[^\s:]*:\s*/, '')}`);
        return show({ ok: false, message: 'no session waits; @session: text writes to any session (Tab completes)' });
      case 'inbox-next':
        if (items.length < 2) return show({ ok: false, message: items.length ? 'only one item waits' : 'nothing waits for you' });
        return setSelKey(itemKey(items[(sel + 1) % items.length]));
      case 'inbox-more':
        if (!plan) return show({ ok: false, message: 'nothing waits for you' });
        return setBodyOffset(plan.nextOffset);
      case 'clear-prompt':
        return prompt.set('');
      case 'help':
        setHelpOffset(0);
        return setHelp(true);
      case 'close':
        return setHelp(false);
      case 'scroll-up':
        if (help) return setHelpOffset((o) => Math.max(0, o - Math.max(1, helpHeight - 2)));
        // With no conversation on screen (a small terminal during a pause), PgUp pages the question.
        if (plan && lay.conversation === 0) return setBodyOffset(plan.prevOffset);
        return scroll.up(page);
      case 'scroll-down':
        if (help) return setHelpOffset((o) => Math.min(helpMaxOffset(keymap, lay.width, helpHeight), o + Math.max(1, helpHeight - 2)));
        if (plan && lay.conversation === 0) return setBodyOffset(Math.max(plan.offset, plan.nextOffset));
        return scroll.down(page);
      case 'scroll-end':
        if (scroll.offset > 0) return scroll.toEnd();
        if (notice) return setNoticeAt((i) => i + 1);
        return undefined;
      case 'quit':
        return quit();
      default:
        return undefined;
    }
  };
  const handlers = useRef<KeyHandlers>(null as unknown as KeyHandlers);
  handlers.current = {
    keymap,
    context: () => ({ promptEmpty: prompt.current() === '', helpOpen: help, scrolled: scroll.offset > 0 }),
    run,
    edit: (input, key, paste) => prompt.edit(input, key, paste),
    presence: () => relay.notePresence(),
  };

  const body = help ? (
    <>
      <StatsStrip status={s} now={now} lay={lay} />
      <HelpOverlay keymap={keymap} width={lay.width} height={helpHeight} offset={helpOffset} />
    </>
  ) : (
    <Panes
      snap={snap}
      scroll={scroll}
      lay={lay}
      now={now}
      notes={notes}
      keys={{ up: keymap.label.scroll_up, down: keymap.label.scroll_down, end: keymap.label.newest }}
    />
  );

  return (
    <Box flexDirection="column" width={lay.width} height={lay.height} overflowY="hidden">
      <KeyBindings
        handlers={handlers}
        onHelpArrow={(dir) => setHelpOffset((o) => Math.max(0, Math.min(helpMaxOffset(keymap, lay.width, helpHeight), o + dir)))}
      />
      <Header status={s} now={now} width={lay.width} height={lay.header} title={title} />
      {notice && lay.notice ? <Notice text={notice} index={noticeAt} total={notices.length} dismiss={keymap.label.newest} /> : null}
      {plan && !help ? <Inbox items={items} plan={plan} width={lay.width} height={lay.banner} now={now} /> : null}
      {body}
      <ResultLine result={result} width={lay.width} rows={lay.result} hint={hintText(keymap.label)} />
      <PromptLine
        prompt={prompt}
        focus={!help}
        rows={lay.prompt}
        width={lay.width}
        placeholder={selected?.kind === 'question' ? `answer ${selected.session}, @session: text, or /command  (? help)` : undefined}
      />
    </Box>
  );
}
