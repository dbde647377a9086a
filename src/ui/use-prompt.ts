import { useCallback, useMemo, useRef, useState, type MutableRefObject } from 'react';
import { completeSession, type Cycle } from './complete.js';
import type { RelayLike } from './relay-like.js';
import type { ResultInfo } from './use-operator-results.js';

/**
 * The prompt line's state: the text, the recall history, Tab completion of session ids,
 * and submitting to the engine. It lives in the App (the global keys need to know
 * whether the prompt is empty, and Ctrl+T fills it); PromptLine renders it.
 */

export interface PromptController {
  value: string;
  /** Changes when the text is set by a key (recall, completion): PromptLine remounts the input so the cursor goes to the end. */
  epoch: number;
  /** From the text input: typing. */
  change: (next: string) => void;
  /** Programmatic: recall, completion, Ctrl+T, Ctrl+U. */
  set: (next: string) => void;
  /** Enter: submits the current text (not the text input's possibly stale copy). */
  submitCurrent: () => void;
  /** A command from a key (Ctrl+A → /approve): sent and reported, the prompt's text kept. */
  send: (command: string) => void;
  /** The text now, even before React re-rendered (Ink renders on a later tick). */
  current: () => string;
  recall: (dir: -1 | 1) => void;
  complete: () => void;
  submit: (text: string) => void;
}

export interface PromptOptions {
  relay: RelayLike;
  sessionIds: string[];
  onResult: (r: ResultInfo) => void;
  onQuit: () => void;
  /** Set by the key handler for a keypress the text input must not insert. */
  swallow?: MutableRefObject<boolean>;
  historyMax?: number;
}

export function usePrompt(o: PromptOptions): PromptController {
  const [value, setValue] = useState('');
  const [epoch, setEpoch] = useState(0);
  const history = useRef<string[]>([]);
  const cursor = useRef<number | null>(null);
  const draft = useRef('');
  const cycle = useRef<Cycle | null>(null);
  const valueRef = useRef(value);
  valueRef.current = value;
  const opts = useRef(o);
  opts.current = o;

  const submitRef = useRef<(text: string) => void>(() => {});
  const set = useCallback((next: string) => {
    valueRef.current = next;
    setValue(next);
    setEpoch((e) => e + 1);
  }, []);

  const change = useCallback((next: string) => {
    const sw = opts.current.swallow;
    if (sw?.current) {
      sw.current = false;
      setEpoch((e) => e + 1); // the input moved its cursor for the swallowed key: remount it
      return;
    }
    cursor.current = null;
    cycle.current = null;
    // Text and Enter in one read (tmux send-keys "text" Enter, fast typing): submit it.
    // Line breaks inside a paste are joined: one paste never becomes several commands.
    const breaks = next.match(/\r\n|\r|\n/g)?.length ?? 0;
    if (breaks === 1 && /(\r\n|\r|\n)$/.test(next)) {
      submitRef.current(next.replace(/[\r\n]+$/, ''));
      return;
    }
    const v = breaks ? next.replace(/[\r\n]+/g, ' ') : next;
    valueRef.current = v;
    setValue(v);
  }, []);

  const recall = useCallback((dir: -1 | 1) => {
    const h = history.current;
    if (!h.length) return;
    if (cursor.current === null) {
      if (dir === 1) return;
      draft.current = valueRef.current;
      cursor.current = h.length - 1;
    } else {
      const next = cursor.current + dir;
      if (next >= h.length) {
        cursor.current = null;
        set(draft.current);
        return;
      }
      cursor.current = Math.max(0, next);
    }
    set(h[cursor.current]);
  }, [set]);

  const complete = useCallback(() => {
    const c = completeSession(valueRef.current, opts.current.sessionIds, cycle.current);
    if (!c) return;
    cycle.current = c.cycle;
    if (c.note) opts.current.onResult(c.note);
    if (c.value !== valueRef.current) set(c.value);
  }, [set]);

  /** To the engine, and its answer to the result line; a key's command leaves the typed text alone. */
  const send = useCallback((input: string) => {
    const { relay, onResult, onQuit } = opts.current;
    let r: { ok: boolean; message: string; quit?: boolean };
    try {
      r = relay.submit(input, 'tui');
    } catch (err) {
      r = { ok: false, message: `failed: ${(err as Error)?.message ?? err}` };
    }
    onResult({ ok: r.ok, message: r.message || (r.ok ? 'done' : 'failed'), input });
    if (r.quit) onQuit();
  }, []);

  const submit = useCallback((text: string) => {
    const { onResult, historyMax = 200 } = opts.current;
    const input = text.trim();
    cursor.current = null;
    cycle.current = null;
    if (!input) {
      onResult({ ok: false, message: 'nothing to send: type an answer, @session: text, or a /command (? for help)' });
      return;
    }
    const h = history.current;
    if (h[h.length - 1] !== input) h.push(input);
    if (h.length > historyMax) h.splice(0, h.length - historyMax);
    set('');
    send(input);
  }, [set, send]);

  submitRef.current = submit;
  const submitCurrent = useCallback(() => submitRef.current(valueRef.current), []);
  const current = useCallback(() => valueRef.current, []);

  return useMemo(
    () => ({ value, epoch, change, set, recall, complete, submit, submitCurrent, send, current }),
    [value, epoch, change, set, recall, complete, submit, submitCurrent, send, current],
  );
}
