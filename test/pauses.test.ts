import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/engine/journals/audit.js';
import { RelayEmitter } from '../src/engine/kernel/events.js';
import { RootFault, SessionFault } from '../src/fs/faults.js';
import { Guard } from '../src/engine/limits/guard.js';
import { Ledger } from '../src/engine/journals/ledger.js';
import { Pauses } from '../src/engine/operator/pauses.js';
import { Pings } from '../src/engine/operator/pings.js';
import { Timers } from '../src/engine/kernel/timers.js';
import { testConfig, tempRoot } from './helpers/inproc.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function make() {
  const paths = tempRoot();
  roots.push(paths.root);
  const events = new RelayEmitter();
  const timers = new Timers(() => {});
  const config = testConfig();
  const audit: AuditEntry[] = [];
  const pings = new Pings({ notifier: null, phone: null, config: () => config, interactive: false, now: () => 0, timers, events });
  const pauses = new Pauses({
    file: paths.control,
    root: paths.root,
    now: () => Date.UTC(2026, 4, 2),
    lastSeq: 0,
    audit: (e) => audit.push(e),
    events,
    pings,
    changed: () => {},
  });
  pauses.guard = new Guard(
    () => config.guardrails,
    new Ledger(path.join(paths.state, 'ledger.jsonl')),
    pauses.control.guard,
    () => 0,
  );
  return { paths, pauses, audit };
}

const held = { seq: 3, session: 'session-1', text: '[NEEDS-JC] ok?', reason: 'needs_jc' as const, at: 'x', code: 'ABC123' };

type Setup = (p: Pauses) => void;
type Act = (p: Pauses) => unknown;

/** From a state, an action, to a state: the whole pause machine as a table. */
const table: Array<[string, Setup, Act, string, (p: Pauses) => void]> = [
  ['running', () => {}, (p) => p.setPause({ reason: 'operator', message: 'm', at: 'x' }, 'tui'), 'paused', () => {}],
  [
    'paused (operator)',
    (p) => p.setPause({ reason: 'operator', message: 'm', at: 'x' }, 'tui'),
    (p) => p.resumeAll('cli'),
    'running',
    () => {},
  ],
  ['held needs_jc', (p) => p.hold(held, held.text), () => {}, 'needs_jc', (p) => expect(p.control.last_needs_jc_text).toBe(held.text)],
  [
    'held needs_jc',
    (p) => p.hold(held, held.text),
    (p) => p.resolveHeld('session-1', 'dropped', 'tui'),
    'running',
    (p) => expect(p.staleCode('abc123')).toMatch(/already over/),
  ],
  ['held + /resume', (p) => p.hold(held, held.text), (p) => p.resumeAll('tui'), 'needs_jc', () => {}],
  // on_question: hold_session (the default): a reply awaiting approval holds its session, not the relay.
  [
    'held approval',
    (p) => p.hold({ ...held, reason: 'approval' }, null),
    () => {},
    'running',
    (p) => {
      expect(p.relayStopped()).toBe(false);
      expect(p.sessionHeld('session-1')).toBe(true);
      expect(p.sessionHeld('session-2')).toBe(false);
    },
  ],
  ['error (API)', (p) => p.apiError('turn', 'session-1', '400 invalid_request_error: bad'), (p) => p.resumeAll('tui'), 'running', () => {}],
  [
    'error with a refused input',
    (p) => p.apiError('turn', 'operator', '413 too big', 'in-1'),
    () => {},
    'error',
    (p) => expect(p.control.paused?.input_id).toBe('in-1'),
  ],
  [
    'running',
    () => {},
    (p) => p.fault(new RootFault('/r/state/conversation.jsonl', 'disk full: state/conversation.jsonl (ENOSPC)', 'ENOSPC')),
    'error',
    (p) =>
      expect(p.control.paused).toMatchObject({ reason: 'error', fault: 'root', message: 'disk full: state/conversation.jsonl (ENOSPC)' }),
  ],
  [
    'running',
    () => {},
    (p) => p.fault(new SessionFault('session-2', '/r/dispatch/session-2', 'is a symlink; refusing to write through it')),
    'running',
    (p) => expect(p.control.session_pauses['session-2']).toMatchObject({ reason: 'fault', fault: 'session' }),
  ],
  [
    'session fault',
    (p) => p.fault(new SessionFault('session-2', '/r/dispatch/session-2', 'is a symlink')),
    (p) => p.resumeSession('session-2', 'cli'),
    'running',
    (p) => expect(p.control.session_pauses).toEqual({}),
  ],
  [
    'two session pauses',
    (p) => (p.fault(new SessionFault('session-1', '/a', 'x')), p.fault(new SessionFault('session-2', '/b', 'y'))),
    (p) => p.resumeSession('session-1', 'cli'),
    'running',
    (p) => expect(Object.keys(p.control.session_pauses)).toEqual(['session-2']),
  ],
  [
    'guard trip (budget_day)',
    (p) => p.trip({ reason: 'budget_day', scope: 'relay', session: 'session-1', message: 'over' }),
    (p) => p.resumeAll('tui'),
    'running',
    (p) => expect(p.control.guard.pass_once).toEqual(['budget_day']),
  ],
  [
    'guard trip (loop, session)',
    (p) => p.trip({ reason: 'loop', scope: 'session', session: 'session-1', message: 'loop' }),
    () => {},
    'running',
    (p) => expect(p.control.session_pauses['session-1'].reason).toBe('loop'),
  ],
];

describe('pauses: transitions', () => {
  for (const [from, setup, act, to, check] of table) {
    it(`${from} -> ${to}`, () => {
      const { pauses, paths } = make();
      setup(pauses);
      act(pauses);
      expect(pauses.state()).toBe(to);
      check(pauses);
      // Whatever changed is durable after a save, and loads back the same.
      pauses.save();
      const again = new Pauses({
        file: paths.control,
        root: paths.root,
        now: () => 0,
        lastSeq: 0,
        audit: () => {},
        events: new RelayEmitter(),
        pings: new Pings({
          notifier: null,
          phone: null,
          config: () => testConfig(),
          interactive: false,
          now: () => 0,
          timers: new Timers(() => {}),
          events: new RelayEmitter(),
        }),
        changed: () => {},
      });
      expect(again.state()).toBe(to);
      expect(again.control).toEqual(pauses.control);
    });
  }

  it('on_question: hold_all: any held reply stops the relay as a whole, as before per-session holds', () => {
    const { pauses, paths } = make();
    const all = new Pauses({
      file: paths.control,
      root: paths.root,
      now: () => 0,
      lastSeq: 0,
      audit: () => {},
      events: new RelayEmitter(),
      pings: new Pings({
        notifier: null,
        phone: null,
        config: () => testConfig(),
        interactive: false,
        now: () => 0,
        timers: new Timers(() => {}),
        events: new RelayEmitter(),
      }),
      changed: () => {},
      onQuestion: () => 'hold_all',
    });
    all.hold({ ...held, reason: 'approval' }, null);
    expect(all.state()).toBe('paused');
    expect(all.relayStopped()).toBe(true);
    pauses.hold({ ...held, reason: 'approval' }, null);
    expect(pauses.relayStopped()).toBe(false);
  });

  it('a control.json from before per-session holds (one held object, or null) loads as the map', () => {
    const { paths } = make();
    const old = { paused: null, held: { ...held }, session_pauses: {}, guard_seq: 3 };
    fs.writeFileSync(paths.control, JSON.stringify(old));
    const load = () =>
      new Pauses({
        file: paths.control,
        root: paths.root,
        now: () => 0,
        lastSeq: 3,
        audit: () => {},
        events: new RelayEmitter(),
        pings: new Pings({
          notifier: null,
          phone: null,
          config: () => testConfig(),
          interactive: false,
          now: () => 0,
          timers: new Timers(() => {}),
          events: new RelayEmitter(),
        }),
        changed: () => {},
      });
    const p = load();
    expect(p.control.held).toEqual({ [held.session]: held });
    expect(p.state()).toBe('needs_jc');
    fs.writeFileSync(paths.control, JSON.stringify({ ...old, held: null }));
    expect(load().control.held).toEqual({});
    expect(load().state()).toBe('running');
  });

  it('a phone code resumes exactly the pause that carried it; a spent code says so', () => {
    const { pauses } = make();
    pauses.trip({ reason: 'rate', scope: 'session', session: 'session-1', message: 'rate' });
    const code = pauses.control.session_pauses['session-1'].code!;
    expect(pauses.resumeByCode('000000', 'ntfy').ok).toBe(false);
    expect(pauses.resumeByCode(code.toLowerCase(), 'ntfy')).toEqual({ ok: true, message: 'resumed session-1 (was rate)' });
    expect(pauses.resumeByCode(code, 'ntfy').message).toMatch(/already over/);
  });

  it('a root fault repeated with the same message is one pause, one audit line; a failed save keeps the change in memory', () => {
    const { pauses, audit, paths } = make();
    const f = new RootFault(undefined, 'disk full: state/ledger.jsonl (ENOSPC)', 'ENOSPC');
    pauses.fault(f);
    pauses.fault(f);
    expect(audit.filter((a) => a.action === 'pause')).toHaveLength(1);
    // control.json's directory replaced by a file: the save fails, trySave says so and does not throw.
    fs.rmSync(paths.state, { recursive: true, force: true });
    fs.writeFileSync(paths.state, 'not a directory');
    pauses.setPause(null, 'relay');
    expect(pauses.trySave()).toBe(false);
    expect(pauses.unsaved).toBe(true);
    expect(pauses.state()).toBe('running');
    expect(() => pauses.save()).toThrow(RootFault);
  });
});
