import type { Key } from 'ink';
import { useCallback, useMemo, useRef, useState } from 'react';
import { completeSession, type Cycle } from '../keys/complete.js';
import type { RelayLike, SubmitOptionsLike, SubmitResultLike } from '../../engine/api.js';
import type { ResultInfo } from './use-operator-results.js';

/**
 * The prompt line's state: the text and the cursor (kept in refs and edited
 * synchronously, so keys that arrive before React re-rendered see the text as it is
 * now: Ctrl+U followed at once by typing clears, then types), the recall history, Tab
 * completion of session ids, and submitting to the engine. PromptLine renders it.
 */

export interface PromptController {
  value: string;
  cursor: number;
  /** Programmatic: recall, completion, Ctrl+T, Ctrl+U (cursor to the end). */
  set: (next: string) => void;
  /** An editing key (text, Backspace, arrows, Enter, Up/Down, Tab). False: not the prompt's. */
  edit: (input: string, key: Key, paste?: boolean) => boolean;
  /** A command from a key (Ctrl+Y → /approve session-2): sent and reported, the prompt's text kept. */
  send: (command: string, opts?: SubmitOptionsLike) => void;
  /** The text now, even before React re-rendered. */
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
  /** The session plain text answers: the selected inbox item's (read at Enter, not at render). */
  target?: () => string | undefined;
  historyMax?: number;
}

const isThenable = (x: unknown): x is Promise<SubmitResultLike> => !!x && typeof (x as Promise<unknown>).then === 'function';

/** Start of the word before `at` (Ctrl+W, Alt+Left). */
function wordStart(s: string, at: number): number {
  let i = at;
  while (i > 0 && s[i - 1] === ' ') i--;
  while (i > 0 && s[i - 1] !== ' ') i--;
  return i;
}
function wordEnd(s: string, at: number): number {
  let i = at;
  while (i < s.length && s[i] === ' ') i++;
  while (i < s.length && s[i] !== ' ') i++;
  return i;
}

export function usePrompt(o: PromptOptions): PromptController {
  const [, setVersion] = useState(0);
  const valueRef = useRef('');
  const cursorRef = useRef(0);
  const history = useRef<string[]>([]);
  const recallAt = useRef<number | null>(null);
  const draft = useRef('');
  const cycle = useRef<Cycle | null>(null);
  const opts = useRef(o);
  opts.current = o;

  const commit = useCallback((value: string, cursor: number) => {
    valueRef.current = value;
    cursorRef.current = Math.max(0, Math.min(value.length, cursor));
    setVersion((v) => v + 1);
  }, []);
  const set = useCallback((next: string) => commit(next, next.length), [commit]);

  const recall = useCallback(
    (dir: -1 | 1) => {
      const h = history.current;
      if (!h.length) return;
      if (recallAt.current === null) {
        if (dir === 1) return;
        draft.current = valueRef.current;
        recallAt.current = h.length - 1;
      } else {
        const next = recallAt.current + dir;
        if (next >= h.length) {
          recallAt.current = null;
          set(draft.current);
          return;
        }
        recallAt.current = Math.max(0, next);
      }
      set(h[recallAt.current]);
    },
    [set],
  );

  const complete = useCallback(() => {
    const c = completeSession(valueRef.current, opts.current.sessionIds, cycle.current);
    if (!c) return;
    cycle.current = c.cycle;
    if (c.note) opts.current.onResult(c.note);
    if (c.value !== valueRef.current) set(c.value);
  }, [set]);

  /** To the engine, and its answer to the result line (the engine thread answers a little later). */
  const send = useCallback((input: string, sendOpts?: SubmitOptionsLike) => {
    const { relay } = opts.current;
    const report = (r: SubmitResultLike) => {
      opts.current.onResult({ ok: r.ok, message: r.message || (r.ok ? 'done' : 'failed'), input });
      if (r.quit) opts.current.onQuit();
    };
    const failed = (err: unknown) => report({ ok: false, message: `failed: ${(err as Error)?.message ?? err}` });
    try {
      const r = sendOpts ? relay.submit(input, 'tui', sendOpts) : relay.submit(input, 'tui');
      if (isThenable(r)) r.then(report, failed);
      else report(r);
    } catch (err) {
      failed(err);
    }
  }, []);

  const submit = useCallback(
    (text: string) => {
      const { onResult, historyMax = 200 } = opts.current;
      const input = text.trim();
      recallAt.current = null;
      cycle.current = null;
      if (!input) {
        onResult({ ok: false, message: 'nothing to send: type an answer, @session: text, or a /command (? for help)' });
        return;
      }
      const h = history.current;
      if (h[h.length - 1] !== input) h.push(input);
      if (h.length > historyMax) h.splice(0, h.length - historyMax);
      set('');
      const target = opts.current.target?.();
      send(input, target ? { target } : undefined);
    },
    [set, send],
  );

  const edit = useCallback(
    (input: string, key: Key, paste = false): boolean => {
      const v = valueRef.current;
      const c = cursorRef.current;
      const typed = () => {
        recallAt.current = null;
        cycle.current = null;
      };
      if (key.return && !paste) {
        submit(v);
        return true;
      }
      if (key.upArrow && !key.ctrl && !key.meta) return (recall(-1), true);
      if (key.downArrow && !key.ctrl && !key.meta) return (recall(1), true);
      if (key.tab && !key.shift) return (complete(), true);
      if (key.backspace || key.delete) {
        if (c === 0) return true;
        typed();
        const from = key.meta ? wordStart(v, c) : c - 1;
        commit(v.slice(0, from) + v.slice(c), from);
        return true;
      }
      if (key.leftArrow) return (commit(v, key.ctrl || key.meta ? wordStart(v, c) : c - 1), true);
      if (key.rightArrow) return (commit(v, key.ctrl || key.meta ? wordEnd(v, c) : c + 1), true);
      if (key.home) return (commit(v, 0), true);
      if (key.end) return (commit(v, v.length), true);
      if (key.ctrl) {
        // Readline's editing keys, for the letters no binding took.
        switch (input) {
          case 'a':
            return (commit(v, 0), true);
          case 'e':
            return (commit(v, v.length), true);
          case 'w': {
            typed();
            const from = wordStart(v, c);
            commit(v.slice(0, from) + v.slice(c), from);
            return true;
          }
          case 'k':
            typed();
            commit(v.slice(0, c), c);
            return true;
          default:
            return false;
        }
      }
      if (key.meta || key.escape || !input) return false;
      const text = input.replace(/\r\n|\r|\n/g, ' ').replace(/[\x00-\x1f\x7f]/g, '');
      if (!text) return false;
      typed();
      commit(v.slice(0, c) + text + v.slice(c), c + text.length);
      return true;
    },
    [commit, complete, recall, submit],
  );

  const current = useCallback(() => valueRef.current, []);
  const value = valueRef.current;
  const cursor = cursorRef.current;
  return useMemo(
    () => ({ value, cursor, set, edit, recall, complete, submit, send, current }),
    [value, cursor, set, edit, recall, complete, submit, send, current],
  );
}
